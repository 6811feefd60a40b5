/**
 * Where an installed sidecar lives on the host. These are the real system
 * paths: they go into the unit, the config and the messages as they are;
 * under `--root DIR` the installer reads and writes them below DIR instead
 * (HostSystem.path), but the files it renders still name the real ones.
 */

export const SERVICE_NAME = "cvety-sidecar";
/** The system user the service runs as (no login shell, home = the state dir). */
export const SERVICE_USER = "cvety-sidecar";
export const UNIT_NAME = `${SERVICE_NAME}.service`;

export const LAYOUT = Object.freeze({
  configDir: "/etc/cvety-sidecar",
  configFile: "/etc/cvety-sidecar/config.toml",
  /** systemd EnvironmentFile=, root-only: the CRM token and MySQL secrets. */
  secretsFile: "/etc/cvety-sidecar/secrets.env",
  /** Copy of --crm-ca-file: the original may sit in a home or temp directory. */
  crmCaFile: "/etc/cvety-sidecar/crm-ca.pem",
  /** Defaults of [state] dir and [log] file; an existing config may name others. */
  stateDir: "/var/lib/cvety-sidecar",
  logFile: "/var/log/cvety-sidecar/sidecar.log",
  /** One folder per installed version; `current` points at the running one. */
  codeDir: "/opt/cvety-sidecar",
  currentLink: "/opt/cvety-sidecar/current",
  binJs: "/opt/cvety-sidecar/current/dist/daemon/cli/bin.js",
  /** A wrapper script so ops can type `cvety-sidecar status`. */
  pathCommand: "/usr/local/bin/cvety-sidecar",
  unitFile: `/etc/systemd/system/${UNIT_NAME}`,
  logrotateFile: "/etc/logrotate.d/cvety-sidecar",
  /**
   * Backups of Bitrix's init.php files before the PHP hook is disabled. Root-only
   * and outside the web root: init.php may hold the old hook's token.
   */
  backupDir: "/var/backups/cvety-sidecar",
});

/** Bitrix's site root on BitrixVM. */
export const DEFAULT_BITRIX_ROOT = "/home/bitrix/www";
export const DEFAULT_HTTP_LISTEN = "127.0.0.1:9465";
export const DEFAULT_MYSQL_USER_NAME = "cvety_sidecar";
