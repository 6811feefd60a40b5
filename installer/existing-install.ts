import { readFile } from "node:fs/promises";
import { parse as parseToml } from "smol-toml";
import { type ConfigFile, configSchema } from "../daemon/config/config-schema.js";
import { applySecretEnv, isTable } from "../daemon/config/env-secrets.js";
import type { HostSystem } from "./host-system.js";
import { LAYOUT } from "./install-layout.js";
import { parseSecretsEnv } from "./render/secrets-env-file.js";

/**
 * What a previous install left: config.toml and secrets.env. A re-run takes
 * its inputs from them, so `cvety-sidecar install` again needs no flags.
 */
export interface ExistingInstall {
  /** The config as validated by the daemon's schema, secrets from secrets.env applied. */
  config?: ConfigFile;
  /** config.toml as written, before secrets: tells a [mysql] url in the file from one in secrets.env. */
  document?: Record<string, unknown>;
  /** Why config.toml could not be used, when it exists but is not valid. */
  problem?: string;
  secrets: Record<string, string>;
  /** The unit file is there (uninstall stops the service only then). */
  unitExists: boolean;
}

export async function readExistingInstall(system: HostSystem): Promise<ExistingInstall> {
  const secretsText = await readIfExists(system.path(LAYOUT.secretsFile));
  const secrets = secretsText === undefined ? {} : parseSecretsEnv(secretsText);
  const unitExists = (await readIfExists(system.path(LAYOUT.unitFile))) !== undefined;
  const text = await readIfExists(system.path(LAYOUT.configFile));
  if (text === undefined) return { secrets, unitExists };
  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const first = ((err as Error).message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    return { secrets, unitExists, problem: `${LAYOUT.configFile}: ${first}` };
  }
  const withSecrets = applySecretEnv(document, secrets).document;
  const result = configSchema.safeParse(withSecrets);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined ? "" : `${issue.path.join(".")}: `;
    return {
      secrets,
      unitExists,
      document,
      problem: `${LAYOUT.configFile}: ${where}${issue?.message ?? "invalid"}`,
    };
  }
  return { config: result.data, document, secrets, unitExists };
}

/** `[mysql] url` as written in config.toml (not from secrets.env). */
export function mysqlUrlInFile(existing: ExistingInstall): string | undefined {
  const mysql = existing.document?.["mysql"];
  const url = isTable(mysql) ? mysql["url"] : undefined;
  return typeof url === "string" ? url : undefined;
}

/** The user of that `[mysql] url`: the one `install --create-mysql-user` made, when it did. */
export function mysqlUserInFile(existing: ExistingInstall): string | undefined {
  const url = mysqlUrlInFile(existing);
  if (url === undefined || !URL.canParse(url)) return undefined;
  return decodeURIComponent(new URL(url).username) || undefined;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
