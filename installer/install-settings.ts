/**
 * Everything an install needs, resolved from the flags, the environment,
 * an existing install (config.toml + secrets.env) and prompts. Secrets are
 * fields here but are only ever written to secrets.env, never printed.
 */
export interface InstallSettings {
  /** The package being installed (its dist, systemd templates, node_modules). */
  packageDir: string;
  version: string;
  /** The Node binary the unit and the PATH command run: the one running the installer. */
  nodePath: string;
  bitrixRoot: string;
  crm: {
    url: string;
    token: string;
    /** --crm-ca-file: copied to LAYOUT.crmCaFile. */
    caSource?: string;
    /** [crm] ca_file as the config names it (a system path). */
    caFile?: string;
    webhookSource?: string;
    signingSecrets: string[];
  };
  mysql: MysqlSettings;
  writeback?: { source: "supabase" | "feed"; url: string; token: string };
  stateDir: string;
  logFile: string;
  httpListen: string;
  /** config.toml exists and stays as it is (no --force). */
  keepConfig: boolean;
  /** secrets.env as found: keys the installer does not manage are kept. */
  existingSecrets: Readonly<Record<string, string>>;
  disablePhpHook: boolean;
  /** How long to wait for /healthz after starting the service. */
  healthTimeoutMs: number;
}

export interface MysqlSettings {
  /** [mysql] url in config.toml, without a password (the created user's). */
  configUrl?: string;
  /** CVETY_SIDECAR_MYSQL_URL in secrets.env: --mysql-url, password included. */
  secretUrl?: string;
  /** CVETY_SIDECAR_MYSQL_PASSWORD in secrets.env: the created user's password. */
  password?: string;
  /** --create-mysql-user: make a least-privilege user; admin credentials from adminUrl or the Bitrix/--mysql-url ones. */
  createUser?: { name: string; adminUrl?: string };
}

/** secrets.env keys the installer writes; any other key found there is kept. */
export const MANAGED_SECRETS = [
  "CVETY_SIDECAR_CRM_TOKEN",
  "CVETY_SIDECAR_MYSQL_URL",
  "CVETY_SIDECAR_MYSQL_PASSWORD",
  "CVETY_SIDECAR_WRITEBACK_TOKEN",
] as const;

/** What secrets.env should hold: what was there, with the managed keys set (or dropped) from the settings. */
export function secretsFor(s: InstallSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.existingSecrets)) {
    if (!(MANAGED_SECRETS as readonly string[]).includes(key)) out[key] = value;
  }
  out["CVETY_SIDECAR_CRM_TOKEN"] = s.crm.token;
  if (s.mysql.secretUrl !== undefined) out["CVETY_SIDECAR_MYSQL_URL"] = s.mysql.secretUrl;
  if (s.mysql.password !== undefined) out["CVETY_SIDECAR_MYSQL_PASSWORD"] = s.mysql.password;
  if (s.writeback !== undefined) out["CVETY_SIDECAR_WRITEBACK_TOKEN"] = s.writeback.token;
  return out;
}
