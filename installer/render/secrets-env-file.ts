import { InstallStepError } from "../install-errors.js";

/**
 * secrets.env: `KEY=value` lines that systemd reads (EnvironmentFile=) as
 * root before it starts the service, so the token never sits in the config
 * file or on a command line. The same file feeds `node --env-file` in the
 * cvety-sidecar command on the PATH, so only forms that systemd, Node and sh
 * read alike are written: bare when plain, in single quotes (taken
 * literally by all three) otherwise, in double quotes only for a value with
 * a single quote and nothing those parsers would treat differently.
 */

export type SecretValues = Readonly<Record<string, string>>;

const KEY_RE = /^[A-Z_][A-Z0-9_]*$/;
const BARE_VALUE_RE = /^[A-Za-z0-9_.,:@%+/=-]+$/;
/** Characters whose meaning inside double quotes differs between systemd, Node and sh. */
const DOUBLE_QUOTE_UNSAFE = /[\\"`$]/;

export const SECRETS_FILE_HEADER = [
  "# cvety-sidecar secrets: systemd reads this file (EnvironmentFile=) as root before it starts",
  "# the service as the cvety-sidecar user. Keep it 0600 root:root. Written by `cvety-sidecar install`;",
  "# after editing: systemctl restart cvety-sidecar",
];

export function renderSecretsEnv(values: SecretValues): string {
  const lines = [...SECRETS_FILE_HEADER];
  for (const [key, value] of Object.entries(values)) {
    if (!KEY_RE.test(key))
      throw new InstallStepError("E_SECRET_KEY", `invalid environment variable name ${key}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
    if (/[\x00-\x1f\x7f]/.test(value)) {
      throw new InstallStepError("E_SECRET_VALUE", `${key} contains a control character (a newline?)`);
    }
    lines.push(`${key}=${quoteValue(key, value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function quoteValue(key: string, value: string): string {
  if (BARE_VALUE_RE.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!DOUBLE_QUOTE_UNSAFE.test(value)) return `"${value}"`;
  throw new InstallStepError(
    "E_SECRET_VALUE",
    `${key} holds both ' and one of " \\ $ \`, which the service's environment file cannot carry unambiguously`,
  );
}

/** Reads what renderSecretsEnv writes, plus simple hand edits (bare, '...' and "..." values, comments). */
export function parseSecretsEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    values[key] = unquote(line.slice(eq + 1).trim());
  }
  return values;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1);
  return value;
}
