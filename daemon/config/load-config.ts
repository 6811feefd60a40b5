import { dirname, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError } from "../errors.js";
import { readBitrixMysqlCredentials } from "./bitrix-credentials.js";
import { type ConfigIssue, describeConfigIssues } from "./config-issues.js";
import {
  type Config,
  type ConfigFile,
  configSchema,
  DEFAULT_STATUS_MAP,
  type MysqlTarget,
} from "./config-schema.js";
import { applySecretEnv, ENV_ALTERNATIVES, isTable, type SecretEnvVar } from "./env-secrets.js";
import { parseMysqlUrl } from "./mysql-url.js";
import { readSmallTextFile } from "./read-small-file.js";

/**
 * Loads the one TOML config file: read, parse, merge env secrets, validate
 * every key with zod, then resolve what the daemon needs (MySQL target, status
 * map, time zone, absolute paths). Every failure is one ConfigError (exit 78)
 * naming the file and the key; all validation problems are reported at once.
 */

export { SECRET_ENV_VAR_TARGETS, SECRET_ENV_VARS, type SecretEnvVar } from "./env-secrets.js";
export { redactConfig } from "./redact-config.js";

export const DEFAULT_CONFIG_PATH = "/etc/cvety-sidecar/config.toml";
export const CONFIG_PATH_ENV_VAR = "CVETY_SIDECAR_CONFIG";
/** A config file is a few kilobytes; anything this big is the wrong file. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** `--config PATH`, else $CVETY_SIDECAR_CONFIG, else /etc/cvety-sidecar/config.toml; always absolute. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== "") return resolve(explicit);
  const fromEnv = env[CONFIG_PATH_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  return DEFAULT_CONFIG_PATH;
}

export async function loadConfig(opts: { path?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Config> {
  const env = opts.env ?? process.env;
  const file = resolveConfigPath(opts.path, env);
  const text = await readSmallTextFile(file, { what: "config file", maxBytes: MAX_CONFIG_FILE_BYTES });
  if (text === undefined) {
    throw new ConfigError(
      `${file}: config file not found (choose one with --config PATH or ${CONFIG_PATH_ENV_VAR})`,
      { file },
    );
  }
  const { document, fromEnv, mysqlPassword } = applySecretEnv(parseTomlDocument(text, file), env);
  // Without a [crm] table zod would only say "crm: required"; name the keys inside instead.
  document["crm"] ??= {};

  const result = configSchema.safeParse(document);
  const issues = [
    ...(result.success
      ? []
      : describeConfigIssues(result.error.issues, { input: document, envAlternatives: ENV_ALTERNATIVES })),
    ...writebackIssues(document, result.success ? [] : result.error.issues.map((i) => i.path.join("."))),
  ];
  if (issues.length > 0 || !result.success) throw validationError(file, issues, fromEnv);

  const config = resolvePaths(result.data, dirname(file));
  const mysqlTarget = await resolveMysqlTarget(config, file, fromEnv.get("mysql.url"));
  if (mysqlPassword !== undefined) mysqlTarget.password = mysqlPassword;
  return {
    ...config,
    file,
    mysqlTarget,
    statusMap: { ...DEFAULT_STATUS_MAP, ...config.writeback.status_map },
    timezone: config.bitrix.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

/**
 * smol-toml's message carries a code frame of the offending lines, which may
 * show a token: only its first line and the position are kept.
 */
function parseTomlDocument(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const message = (err.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    throw new ConfigError(`${file}:${err.line}:${err.column}: ${message}`, { file });
  }
}

/** Write-back cannot run without somewhere to pull from and a credential. */
function writebackIssues(document: Record<string, unknown>, alreadyReported: string[]): ConfigIssue[] {
  const writeback = document["writeback"];
  if (!isTable(writeback) || writeback["enabled"] !== true) return [];
  const issues: ConfigIssue[] = [];
  for (const [key, env] of [["url"], ["token", "CVETY_SIDECAR_WRITEBACK_TOKEN"]] as const) {
    const dotted = `writeback.${key}`;
    if (writeback[key] !== undefined || alreadyReported.includes(dotted)) continue;
    const alternative = env === undefined ? "" : ` (or set ${env})`;
    issues.push({ key: dotted, message: `required when writeback.enabled = true${alternative}` });
  }
  return issues;
}

function validationError(
  file: string,
  issues: ConfigIssue[],
  fromEnv: Map<string, SecretEnvVar>,
): ConfigError {
  const lines = issues.map(({ key, message }) => {
    const env = [...fromEnv].find(([envKey]) => key === envKey || key.startsWith(`${envKey}[`))?.[1];
    return `${file}: ${key}${env === undefined ? "" : ` (from ${env})`}: ${message}`;
  });
  return new ConfigError(lines.length > 0 ? lines.join("\n") : `${file}: invalid configuration`, {
    file,
    ...(issues[0] === undefined ? {} : { key: issues[0].key }),
  });
}

/** Relative paths in the file mean "next to the config file", not "wherever systemd started us". */
function resolvePaths(config: ConfigFile, configDir: string): ConfigFile {
  const absolute = (path: string) => resolve(configDir, path);
  config.bitrix.root = absolute(config.bitrix.root);
  config.state.dir = absolute(config.state.dir);
  if (config.log.file !== "-") config.log.file = absolute(config.log.file);
  if (config.crm.ca_file !== undefined) config.crm.ca_file = absolute(config.crm.ca_file);
  if (config.writeback.ca_file !== undefined) config.writeback.ca_file = absolute(config.writeback.ca_file);
  return config;
}

async function resolveMysqlTarget(
  config: ConfigFile,
  file: string,
  urlEnvVar: string | undefined,
): Promise<MysqlTarget> {
  if (config.mysql.url !== undefined) {
    const source = urlEnvVar === undefined ? { file } : { file, envVar: urlEnvVar };
    return { ...parseMysqlUrl(config.mysql.url, source), source: urlEnvVar === undefined ? "config" : "env" };
  }
  try {
    return await readBitrixMysqlCredentials(config.bitrix.root);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const hint = `(bitrix.root = "${config.bitrix.root}" in ${file}; or give the credentials with mysql.url / CVETY_SIDECAR_MYSQL_URL)`;
    throw new ConfigError(`${err.message}\n${hint}`, {
      ...(err.file === undefined ? {} : { file: err.file }),
      // A Bitrix file's own key if the problem is inside it, else the config key that led there.
      key: err.key ?? "bitrix.root",
      cause: err,
    });
  }
}
