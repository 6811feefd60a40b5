import type { Config } from "./config-schema.js";

/** What secrets are replaced with in printed config. */
export const REDACTED = "***";

/**
 * A deep copy of the config that is safe to print or log (`doctor`,
 * `--print-config`): every secret replaced by "***", its presence still visible.
 */
export function redactConfig(config: Config): unknown {
  const copy = structuredClone(config);
  copy.crm.token = REDACTED;
  copy.crm.signing_secrets = copy.crm.signing_secrets.map(() => REDACTED);
  if (copy.writeback.token !== undefined) copy.writeback.token = REDACTED;
  if (copy.mysql.url !== undefined) copy.mysql.url = redactUrlPassword(copy.mysql.url);
  // An empty password stays visibly empty: that is a fact worth seeing, not a secret.
  if (copy.mysqlTarget.password !== "") copy.mysqlTarget.password = REDACTED;
  return copy;
}

/** `mysql://user:***@host/db`; an unparsable URL is hidden whole rather than guessed at. */
export function redactUrlPassword(url: string): string {
  if (!URL.canParse(url)) return REDACTED;
  const parsed = new URL(url);
  if (parsed.password === "") return url;
  parsed.password = REDACTED;
  return parsed.href;
}
