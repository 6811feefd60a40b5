/**
 * Where the test MariaDB lives, and how that travels between processes: the test
 * runner exports it as `CVETY_TEST_MYSQL_URL=mysql://user:pass@host:port` and every
 * test file (a child process of `node --test`) reads it back with endpointFromEnv().
 */

export interface MysqlEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Only set for a private server started by this harness; TCP works too. */
  socketPath?: string;
}

export const TEST_MYSQL_URL_ENV = "CVETY_TEST_MYSQL_URL";

/** Parses `mysql://user:pass@host:port[/db]` (user and password URL-encoded). The database part is ignored. */
export function parseMysqlUrl(url: string): MysqlEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(url)} (expected mysql://user:pass@host:port)`);
  }
  if (parsed.protocol !== "mysql:") {
    throw new Error(`expected a mysql:// URL, got ${JSON.stringify(parsed.protocol)}`);
  }
  if (parsed.hostname === "") throw new Error(`no host in ${JSON.stringify(url)}`);
  return {
    // URL keeps IPv6 hosts in brackets; mysql2 wants them bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || "root",
    password: decodeURIComponent(parsed.password),
  };
}

/** `mysql://user:pass@host:port[/database]`, user and password URL-encoded. */
export function formatMysqlUrl(endpoint: MysqlEndpoint, database?: string): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const auth = `${encodeURIComponent(endpoint.user)}:${encodeURIComponent(endpoint.password)}`;
  const path = database === undefined ? "" : `/${encodeURIComponent(database)}`;
  return `mysql://${auth}@${host}:${endpoint.port}${path}`;
}

/** The endpoint the test runner exported; throws if a test file is run without the runner. */
export function endpointFromEnv(): MysqlEndpoint {
  const url = process.env[TEST_MYSQL_URL_ENV];
  if (url === undefined || url === "") {
    throw new Error(
      `${TEST_MYSQL_URL_ENV} is not set. Run the tests through the runner (npm test, or ` +
        `node dist/test/run-tests.js [filter]), which finds or starts a MariaDB and exports it, ` +
        `or set it yourself, e.g. ${TEST_MYSQL_URL_ENV}=mysql://root:@127.0.0.1:3306`,
    );
  }
  return parseMysqlUrl(url);
}
