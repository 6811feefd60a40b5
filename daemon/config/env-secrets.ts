/**
 * Secrets may live in the environment (systemd `EnvironmentFile=`, mode 0600)
 * instead of the world-readable-by-mistake config file. The environment wins
 * over the file. An empty variable counts as unset, so a blank line such as
 * `CVETY_SIDECAR_CRM_TOKEN=` in an EnvironmentFile does not blank the token.
 */

/** Environment variables that carry secrets, for docs and `--help`. */
export const SECRET_ENV_VARS = [
  "CVETY_SIDECAR_CRM_TOKEN",
  "CVETY_SIDECAR_CRM_SIGNING_SECRETS",
  "CVETY_SIDECAR_MYSQL_URL",
  "CVETY_SIDECAR_MYSQL_PASSWORD",
  "CVETY_SIDECAR_WRITEBACK_TOKEN",
] as const;

export type SecretEnvVar = (typeof SECRET_ENV_VARS)[number];

/** What each secret variable sets (a config key, or the resolved MySQL password). */
export const SECRET_ENV_VAR_TARGETS: Readonly<Record<SecretEnvVar, string>> = Object.freeze({
  CVETY_SIDECAR_CRM_TOKEN: "crm.token",
  CVETY_SIDECAR_CRM_SIGNING_SECRETS: "crm.signing_secrets (comma or whitespace separated)",
  CVETY_SIDECAR_MYSQL_URL: "mysql.url",
  CVETY_SIDECAR_MYSQL_PASSWORD: "the MySQL password (overrides mysql.url's and Bitrix's)",
  CVETY_SIDECAR_WRITEBACK_TOKEN: "writeback.token",
});

/** Config keys an env variable can stand in for: used in "required (or set ...)" messages. */
export const ENV_ALTERNATIVES: ReadonlyMap<string, SecretEnvVar> = new Map([
  ["crm.token", "CVETY_SIDECAR_CRM_TOKEN"],
  ["crm.signing_secrets", "CVETY_SIDECAR_CRM_SIGNING_SECRETS"],
  ["mysql.url", "CVETY_SIDECAR_MYSQL_URL"],
  ["writeback.token", "CVETY_SIDECAR_WRITEBACK_TOKEN"],
]);

export interface SecretsApplied {
  /** A copy of the parsed TOML document with env secrets written in. */
  document: Record<string, unknown>;
  /** Dotted keys whose value came from the environment -> the variable. */
  fromEnv: Map<string, SecretEnvVar>;
  /** CVETY_SIDECAR_MYSQL_PASSWORD, applied after the MySQL target is resolved. */
  mysqlPassword: string | undefined;
}

export function applySecretEnv(document: Record<string, unknown>, env: NodeJS.ProcessEnv): SecretsApplied {
  const copy: Record<string, unknown> = { ...document };
  const fromEnv = new Map<string, SecretEnvVar>();
  const set = (table: string, key: string, name: SecretEnvVar, value: unknown) => {
    const current = copy[table] ?? {};
    // A non-table (`crm = "x"`) is left alone for validation to report.
    if (!isTable(current)) return;
    copy[table] = { ...current, [key]: value };
    fromEnv.set(`${table}.${key}`, name);
  };
  const read = (name: SecretEnvVar): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const token = read("CVETY_SIDECAR_CRM_TOKEN");
  if (token !== undefined) set("crm", "token", "CVETY_SIDECAR_CRM_TOKEN", token);
  const signing = read("CVETY_SIDECAR_CRM_SIGNING_SECRETS")
    ?.split(/[\s,]+/)
    .filter((s) => s !== "");
  if (signing !== undefined && signing.length > 0) {
    set("crm", "signing_secrets", "CVETY_SIDECAR_CRM_SIGNING_SECRETS", signing);
  }
  const mysqlUrl = read("CVETY_SIDECAR_MYSQL_URL");
  if (mysqlUrl !== undefined) set("mysql", "url", "CVETY_SIDECAR_MYSQL_URL", mysqlUrl);
  const writebackToken = read("CVETY_SIDECAR_WRITEBACK_TOKEN");
  if (writebackToken !== undefined)
    set("writeback", "token", "CVETY_SIDECAR_WRITEBACK_TOKEN", writebackToken);

  // The password is used verbatim (no trim): leading/trailing spaces can be part of it.
  const mysqlPassword = env["CVETY_SIDECAR_MYSQL_PASSWORD"];
  return { document: copy, fromEnv, mysqlPassword: mysqlPassword === "" ? undefined : mysqlPassword };
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
