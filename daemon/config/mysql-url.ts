import { ConfigError } from "../errors.js";
import type { MysqlTarget } from "./config-schema.js";

/**
 * `mysql://user:password@host:port/database[?socket=/path/to/mysqld.sock]`.
 * User and password are percent-decoded (a password with `@` or `/` must be
 * written `%40`, `%2F`). Messages name the key, never the URL: it holds the password.
 */

export const DEFAULT_MYSQL_URL_PORT = 3306;

export interface MysqlUrlSource {
  file: string;
  /** The env variable the URL came from, if it did. */
  envVar?: string;
}

export function parseMysqlUrl(url: string, source: MysqlUrlSource): Omit<MysqlTarget, "source"> {
  const where = source.envVar === undefined ? "mysql.url" : `mysql.url (from ${source.envVar})`;
  const fail = (why: string) =>
    new ConfigError(`${source.file}: ${where}: ${why} (expected mysql://user:pass@host:port/db)`, {
      file: source.file,
      key: "mysql.url",
    });
  if (!URL.canParse(url)) throw fail("not a valid URL");
  const parsed = new URL(url);
  if (parsed.protocol !== "mysql:") throw fail(`scheme is "${parsed.protocol}", not "mysql:"`);

  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw fail("missing host");
  const user = decode(parsed.username, () => fail("user name has invalid %-encoding"));
  if (user === "") throw fail("missing user name");
  const password = decode(parsed.password, () => fail("password has invalid %-encoding"));
  const database = decode(parsed.pathname.replace(/^\//, ""), () =>
    fail("database name has invalid %-encoding"),
  );
  if (database === "" || database.includes("/")) throw fail("missing database name after the host");

  let socketPath: string | undefined;
  for (const [name, value] of parsed.searchParams) {
    if (name !== "socket") throw fail(`unsupported parameter "${name}" (only "socket" is understood)`);
    if (!value.startsWith("/")) throw fail("socket must be an absolute path");
    socketPath = value;
  }
  const port = parsed.port === "" ? DEFAULT_MYSQL_URL_PORT : Number(parsed.port);
  if (port < 1 || port > 65_535) throw fail("port must be 1-65535");
  const target = { host, port, user, password, database };
  return socketPath === undefined ? target : { ...target, socketPath };
}

function decode(text: string, onError: () => ConfigError): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw onError();
  }
}
