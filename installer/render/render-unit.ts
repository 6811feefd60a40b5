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
      // A state or log folder under /home must stay visible too (ReadWritePaths= opens it for writing).
      PROTECT_HOME: protectHomeSetting([...v.readPaths, ...writable]),
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
 * /usr/local/bin/cvety-sidecar: runs the installed version with the same
 * Node binary as the service (its native SQLite module is built for that
 * one), and, for whoever may read it (root), with the service's secrets.env,
 * so `cvety-sidecar status` sees the config exactly as the daemon does.
 * Variables already set in the environment win (node --env-file's rule).
 */
export function renderPathCommand(v: {
  nodePath: string;
  binJs: string;
  secretsFile: string;
  version: string;
}): string {
  const node = assertPlainPath(v.nodePath, "the Node.js binary");
  const bin = assertPlainPath(v.binJs, "the sidecar's bin.js");
  const secrets = assertPlainPath(v.secretsFile, "the secrets file");
  return [
    "#!/bin/sh",
    `# cvety-sidecar: written by \`cvety-sidecar install\` (${v.version}). Runs the installed version with`,
    "# the Node.js and the secrets the service uses.",
    `if [ -r ${secrets} ]; then exec ${node} --env-file=${secrets} ${bin} "$@"; fi`,
    `exec ${node} ${bin} "$@"`,
    "",
  ].join("\n");
}
