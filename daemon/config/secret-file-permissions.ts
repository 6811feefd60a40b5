import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ConfigError } from "../errors.js";
import { isTable } from "./env-secrets.js";

/**
 * Who may read the files that hold secrets, checked when the daemon starts.
 *
 * The secrets file (`secrets.env`, systemd's `EnvironmentFile=`, read by
 * systemd as root) must be readable by its owner only: any group or other
 * permission bit refuses the start (exit 78) naming the file and the fix.
 * The daemon never reads it; it only looks at its mode. Which file: the one
 * named by CVETY_SIDECAR_SECRETS_FILE (the unit sets it), else `secrets.env`
 * beside the config file when one is there (the installer's layout).
 *
 * The config file must be readable by the service's group (the daemon reads
 * it as its own user), so group bits are fine. A config file that holds a
 * secret inline AND is readable by everyone gets a warning, not a refusal:
 * a hand-made test or demo config is often 0644 and holds a throwaway token.
 */

export const SECRETS_FILE_ENV_VAR = "CVETY_SIDECAR_SECRETS_FILE";
export const SECRETS_FILE_NAME = "secrets.env";

export interface SecretFileWarning {
  file: string;
  /** Config keys that hold a secret in the file (never their values). */
  keys: string[];
  /** e.g. "0644". */
  mode: string;
  message: string;
}

export async function checkSecretFilePermissions(opts: {
  configFile: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ warnings: SecretFileWarning[] }> {
  await checkSecretsFile(opts.configFile, opts.env);
  const warning = await configFileWarning(opts.configFile);
  return { warnings: warning ? [warning] : [] };
}

async function checkSecretsFile(configFile: string, env: NodeJS.ProcessEnv): Promise<void> {
  const named = env[SECRETS_FILE_ENV_VAR];
  const explicit = named !== undefined && named !== "";
  const file = explicit ? resolve(named) : join(dirname(configFile), SECRETS_FILE_NAME);
  const where = explicit ? ` (${SECRETS_FILE_ENV_VAR})` : "";
  let mode: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      throw new ConfigError(`${file}${where}: the secrets file is not a regular file`, { file });
    }
    mode = info.mode & 0o777;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: unknown }).code;
    // Beside the config and absent: secrets come from elsewhere (the config itself, or the environment).
    if (!explicit && (code === "ENOENT" || code === "ENOTDIR")) return;
    throw new ConfigError(
      `${file}${where}: cannot check the secrets file (${typeof code === "string" ? code : String(err)})`,
      { file, cause: err },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `${file}${where}: the secrets file is accessible to group or others (mode ${octal(mode)}); ` +
        `it holds the CRM token and passwords and must be readable by its owner only: chmod 600 ${file}`,
      { file },
    );
  }
}

/** Inline secrets in a world-readable config file: a warning naming the keys and the fix. */
async function configFileWarning(file: string): Promise<SecretFileWarning | undefined> {
  let mode: number;
  let text: string;
  try {
    mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o004) === 0) return undefined;
    text = await readFile(file, "utf8");
  } catch {
    // loadConfig read it a moment ago; a file gone since is not this check's business.
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const keys = inlineSecretKeys(doc);
  if (keys.length === 0) return undefined;
  return {
    file,
    keys,
    mode: octal(mode),
    message:
      `${file} holds ${keys.join(", ")} and is readable by every user on this host (mode ${octal(mode)}): ` +
      `chmod 640 ${file}, or move the secrets to ${join(dirname(file), SECRETS_FILE_NAME)} (mode 0600)`,
  };
}

/** Dotted config keys whose values are secrets and are present in the document. */
export function inlineSecretKeys(doc: Record<string, unknown>): string[] {
  const keys: string[] = [];
  const section = (name: string) => {
    const value = doc[name];
    return isTable(value) ? value : {};
  };
  const crm = section("crm");
  if (typeof crm["token"] === "string" && crm["token"] !== "") keys.push("crm.token");
  if (Array.isArray(crm["signing_secrets"]) && crm["signing_secrets"].length > 0)
    keys.push("crm.signing_secrets");
  const url = section("mysql")["url"];
  if (typeof url === "string" && URL.canParse(url) && new URL(url).password !== "")
    keys.push("mysql.url (its password)");
  const writebackToken = section("writeback")["token"];
  if (typeof writebackToken === "string" && writebackToken !== "") keys.push("writeback.token");
  return keys;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
