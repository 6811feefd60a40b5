import { InstallStepError } from "../install-errors.js";

/**
 * Fills `{{NAME}}` placeholders of the templates in systemd/. Every
 * placeholder must get a value and every value must be used, so a renamed
 * placeholder fails loudly instead of shipping a unit with `{{NODE}}` in it.
 * A value may not span lines: a newline would add a directive to the unit.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  name: string,
): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const text = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) {
      missing.add(key);
      return "";
    }
    if (/[\r\n]/.test(value)) {
      throw new InstallStepError("E_TEMPLATE_VALUE", `${name}: the value for {{${key}}} spans lines`);
    }
    used.add(key);
    return value;
  });
  if (missing.size > 0) {
    throw new InstallStepError(
      "E_TEMPLATE",
      `${name}: no value for ${[...missing].map((k) => `{{${k}}}`).join(", ")}`,
    );
  }
  const unused = Object.keys(values).filter((key) => !used.has(key));
  if (unused.length > 0) {
    throw new InstallStepError(
      "E_TEMPLATE",
      `${name}: the template has no ${unused.map((k) => `{{${k}}}`).join(", ")}`,
    );
  }
  return text;
}

/**
 * Paths that go into the unit, the logrotate file and the wrapper script
 * unquoted: systemd splits on spaces and expands `%` specifiers and `$VAR`,
 * logrotate splits on spaces, sh on everything. Installer-chosen paths always
 * pass; a config naming something exotic is refused with the reason.
 */
export function assertPlainPath(path: string, what: string): string {
  if (!/^\/[A-Za-z0-9._/+@-]*$/.test(path) || path.includes("/../") || path.endsWith("/..")) {
    throw new InstallStepError(
      "E_UNSAFE_PATH",
      `${what} "${path}" must be an absolute path of letters, digits and . _ / + @ - (it goes unquoted into the systemd unit)`,
    );
  }
  return path;
}
