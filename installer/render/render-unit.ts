import { SERVICE_USER } from "../install-layout.js";
import { assertPlainPath, fillTemplate } from "./fill-template.js";

/**
 * The systemd unit from systemd/cvety-sidecar.service. The hardening is in
 * the template; what varies per host is filled in here: the Node binary that
 * ran the installer (the native SQLite module is built for it), the paths
 * the daemon writes, and how much of /home it may see.
 */

export interface UnitValues {
  version: string;
  nodePath: string;
  binJs: string;
  configFile: string;
  secretsFile: string;
  /** [state] dir and the folder of [log] file: the only places it writes. */
  writablePaths: readonly string[];
  /** Everything else it reads at run time (Bitrix root when credentials come from .settings.php, Node). */
  readPaths: readonly string[];
}

/** /home, /root and /run/user are what ProtectHome= hides. */
const HOME_PREFIXES = ["/home/", "/root/", "/run/user/"];

/**
 * `yes` hides home folders entirely; `read-only` when the daemon must read
 * something there, e.g. BitrixVM's /home/bitrix/www/bitrix/.settings.php.
 */
export function protectHomeSetting(readPaths: readonly string[]): "yes" | "read-only" {
  const underHome = readPaths.some((p) => HOME_PREFIXES.some((prefix) => `${p}/`.startsWith(prefix)));
  return underHome ? "read-only" : "yes";
}

export function renderUnit(template: string, v: UnitValues): string {
  const writable = [...new Set(v.writablePaths)].map((p) => assertPlainPath(p, "a writable path"));
  for (const p of v.readPaths) assertPlainPath(p, "a path the daemon reads");
  return fillTemplate(
    template,
    {
      VERSION: v.version,
      SERVICE_USER,
      SECRETS_FILE: assertPlainPath(v.secretsFile, "the secrets file"),
      NODE: assertPlainPath(v.nodePath, "the Node.js binary"),
      BIN_JS: assertPlainPath(v.binJs, "the sidecar's bin.js"),
      CONFIG_FILE: assertPlainPath(v.configFile, "the config file"),
      READ_WRITE_PATHS: writable.join(" "),
      PROTECT_HOME: protectHomeSetting(v.readPaths),
    },
    "systemd/cvety-sidecar.service",
  );
}

export function renderLogrotate(template: string, v: { version: string; logFile: string }): string {
  return fillTemplate(
    template,
    { VERSION: v.version, LOG_FILE: assertPlainPath(v.logFile, "[log] file"), SERVICE_USER },
    "systemd/cvety-sidecar.logrotate",
  );
}

/**
 * /usr/local/bin/cvety-sidecar: runs the installed version with the same Node
 * binary as the service, whatever `node` is first on the PATH of a login shell.
 */
export function renderPathCommand(v: { nodePath: string; binJs: string; version: string }): string {
  return [
    "#!/bin/sh",
    `# cvety-sidecar: written by \`cvety-sidecar install\` (${v.version}). Runs the installed version with the`,
    "# Node.js it was installed with: its native SQLite module is built for that one.",
    `exec ${assertPlainPath(v.nodePath, "the Node.js binary")} ${assertPlainPath(v.binJs, "the sidecar's bin.js")} "$@"`,
    "",
  ].join("\n");
}
