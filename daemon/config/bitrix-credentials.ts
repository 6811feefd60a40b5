import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import type { MysqlTarget } from "./config-schema.js";
import {
  MAX_PHP_SOURCE_CHARS,
  PhpUnreadable,
  type PhpValue,
  parsePhpAssignments,
  parsePhpReturnValue,
} from "./php-literal.js";
import { PhpLiteralError } from "./php-literal-error.js";
import { readSmallTextFile } from "./read-small-file.js";

/**
 * Finds the MySQL credentials Bitrix itself uses, without running PHP.
 * Main module >= 20.900 keeps them in `bitrix/.settings.php`
 * (`return [... 'connections' => ['value' => ['default' => [host, database,
 * login, password, className, options]]]]`); older installs set `$DBHost`,
 * `$DBLogin`, `$DBPassword`, `$DBName` in `bitrix/php_interface/dbconn.php`,
 * and recent dbconn.php files no longer do. Hence: .settings.php first,
 * dbconn.php as the fallback. Messages never contain the password.
 */

export const BITRIX_SETTINGS_FILE = "bitrix/.settings.php";
export const BITRIX_DBCONN_FILE = "bitrix/php_interface/dbconn.php";
export const DEFAULT_MYSQL_PORT = 3306;

const DEFAULT_CONNECTION_KEY = "connections.value.default";

export async function readBitrixMysqlCredentials(bitrixRoot: string): Promise<MysqlTarget> {
  const root = resolve(bitrixRoot);
  const settingsPath = join(root, BITRIX_SETTINGS_FILE);
  const dbconnPath = join(root, BITRIX_DBCONN_FILE);

  const settingsSource = await readPhpFile(settingsPath);
  if (settingsSource !== undefined) {
    const fromSettings = credentialsFromSettings(settingsSource, settingsPath);
    if (fromSettings !== undefined) return fromSettings;
  }
  const dbconnSource = await readPhpFile(dbconnPath);
  if (dbconnSource === undefined) {
    if (settingsSource !== undefined) {
      throw new ConfigError(
        `${settingsPath}: has no ${DEFAULT_CONNECTION_KEY} with a host, and the legacy ${dbconnPath} does not exist`,
        { file: settingsPath, key: `${DEFAULT_CONNECTION_KEY}.host` },
      );
    }
    const rootNote = (await isDirectory(root))
      ? ""
      : ` (${root} is not an existing directory: check bitrix.root)`;
    throw new ConfigError(
      `no Bitrix database settings found under ${root}: tried ${settingsPath} and ${dbconnPath}${rootNote}`,
      { file: settingsPath },
    );
  }
  const settingsGap =
    settingsSource === undefined
      ? `${settingsPath} does not exist`
      : `${settingsPath} has no ${DEFAULT_CONNECTION_KEY}`;
  return credentialsFromDbconn(dbconnSource, dbconnPath, settingsGap);
}

/** undefined when the file has no `connections.value.default` with a host (then dbconn.php is tried). */
function credentialsFromSettings(source: string, file: string): MysqlTarget | undefined {
  const settings = parseOrThrow(file, () => parsePhpReturnValue(source));
  if (settings instanceof PhpUnreadable) throw unreadableError(file, "the returned value", settings);
  if (!(settings instanceof Map)) {
    throw new ConfigError(`${file}: returns ${phpTypeName(settings)} instead of an array`, { file });
  }
  let connection: PhpValue | undefined = settings;
  let keyPath = "";
  for (const key of ["connections", "value", "default"]) {
    keyPath = keyPath === "" ? key : `${keyPath}.${key}`;
    connection = connection instanceof Map ? connection.get(key) : undefined;
    if (connection instanceof PhpUnreadable) throw unreadableError(file, keyPath, connection);
  }
  if (!(connection instanceof Map)) return undefined;
  const field = (key: string, opts?: { allowEmpty?: boolean }) =>
    requireString(connection.get(key), { file, key: `${DEFAULT_CONNECTION_KEY}.${key}`, ...opts });
  const hostValue = connection.get("host");
  if (hostValue === undefined || hostValue === null || hostValue === "") return undefined;

  const className = connection.get("className");
  if (className !== undefined) assertMysqlClassName(field("className"), file);
  return {
    ...parseBitrixHost(field("host"), { file, key: `${DEFAULT_CONNECTION_KEY}.host` }),
    database: field("database"),
    user: field("login"),
    password: field("password", { allowEmpty: true }),
    source: file,
  };
}

function credentialsFromDbconn(source: string, file: string, settingsGap: string): MysqlTarget {
  const vars = parseOrThrow(file, () => parsePhpAssignments(source));
  const variable = (name: string, opts?: { allowEmpty?: boolean }) => {
    if (!vars.has(name)) {
      throw new ConfigError(`${file}: $${name} is not set (and ${settingsGap})`, { file, key: `$${name}` });
    }
    return requireString(vars.get(name), { file, key: `$${name}`, ...opts });
  };
  const dbType = vars.get("DBType");
  if (dbType !== undefined && !(typeof dbType === "string" && /^mysql/i.test(dbType))) {
    throw new ConfigError(`${file}: $DBType is not "mysql": only MySQL/MariaDB installations are supported`, {
      file,
      key: "$DBType",
    });
  }
  return {
    ...parseBitrixHost(variable("DBHost"), { file, key: "$DBHost" }),
    database: variable("DBName"),
    user: variable("DBLogin"),
    password: variable("DBPassword", { allowEmpty: true }),
    source: file,
  };
}

/**
 * Bitrix's `host` as MysqliConnection reads it: `name`, `name:port`, and
 * (mysql_connect style, old dbconn.php) `name:/path/to/mysqld.sock`. A
 * `p:` prefix asks mysqli for a persistent connection and is dropped.
 */
export function parseBitrixHost(
  raw: string,
  where: { file: string; key: string },
): { host: string; port: number; socketPath?: string } {
  const invalid = (why: string) =>
    new ConfigError(`${where.file}: ${where.key}: host "${raw}" ${why}`, {
      file: where.file,
      key: where.key,
    });
  const value = raw.trim().replace(/^p:/i, "");
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(value);
  const colon = value.indexOf(":");
  const name = bracketed ? (bracketed[1] as string) : colon === -1 ? value : value.slice(0, colon);
  const rest = bracketed ? (bracketed[2] ?? "") : colon === -1 ? "" : value.slice(colon + 1);
  const host = name === "" ? "localhost" : name;
  if (/[\s/]/.test(host)) throw invalid("is not a valid host name");
  if (rest.startsWith("/")) return { host, port: DEFAULT_MYSQL_PORT, socketPath: rest };
  if (rest === "") return { host, port: DEFAULT_MYSQL_PORT };
  const port = /^\d{1,5}$/.test(rest) ? Number(rest) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) throw invalid(`has an invalid port "${rest}" (expected 1-65535)`);
  return { host, port };
}

/** Bitrix also ships PgsqlConnection (and had Mssql/Oracle kernels); the sidecar reads MySQL tables only. */
function assertMysqlClassName(className: string, file: string): void {
  if (/mysql/i.test(className)) return;
  const what = /pgsql|postgres/i.test(className)
    ? "PostgreSQL is not supported"
    : "not a MySQL connection class";
  throw new ConfigError(
    `${file}: ${DEFAULT_CONNECTION_KEY}.className is "${className}": ${what}; cvety-sidecar works only with MySQL/MariaDB (\\Bitrix\\Main\\DB\\MysqliConnection)`,
    { file, key: `${DEFAULT_CONNECTION_KEY}.className` },
  );
}

function requireString(
  value: PhpValue | undefined,
  where: { file: string; key: string; allowEmpty?: boolean },
): string {
  const { file, key } = where;
  if (value instanceof PhpUnreadable) throw unreadableError(file, key, value);
  if (value === undefined) throw new ConfigError(`${file}: ${key} is missing`, { file, key });
  // PHP hands a number to mysqli as its decimal string; an all-digit password is written unquoted sometimes.
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") {
    throw new ConfigError(`${file}: ${key} must be a string, found ${phpTypeName(value)}`, { file, key });
  }
  if (text === "" && !where.allowEmpty) throw new ConfigError(`${file}: ${key} is empty`, { file, key });
  return text;
}

function unreadableError(file: string, key: string, value: PhpUnreadable): ConfigError {
  return new ConfigError(`${file}: ${key}: ${value.error.message}`, { file, key, cause: value.error });
}

function parseOrThrow<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof PhpLiteralError)
      throw new ConfigError(`${file}: ${err.message}`, { file, cause: err });
    throw err;
  }
}

function phpTypeName(value: PhpValue): string {
  if (value instanceof Map) return "an array";
  if (value === null) return "null";
  return typeof value === "boolean" ? "a boolean" : typeof value === "number" ? "a number" : "a string";
}

function readPhpFile(path: string): Promise<string | undefined> {
  // Characters <= bytes for UTF-8, so the byte cap also bounds the parser's input.
  return readSmallTextFile(path, { what: "Bitrix settings file", maxBytes: MAX_PHP_SOURCE_CHARS });
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
