/**
 * Finds a MariaDB for the tests, in this order: the server named by
 * CVETY_TEST_MYSQL_URL; root with an empty password on 127.0.0.1:3306 (the probe
 * port can be moved with CVETY_TEST_MYSQL_PROBE_PORT, which is how the private path
 * is exercised on a machine that has a server); else a private throwaway mariadbd.
 * Test files themselves only call endpointFromEnv() and createTestDatabase().
 */
import mysql from "mysql2/promise";
import { type MysqlEndpoint, parseMysqlUrl, TEST_MYSQL_URL_ENV } from "./mysql-endpoint.js";
import { startPrivateMariaDb } from "./private-mariadb.js";

export { endpointFromEnv, formatMysqlUrl, type MysqlEndpoint, parseMysqlUrl } from "./mysql-endpoint.js";
export { createTestDatabase, type TestDatabase } from "./test-database.js";

export const PROBE_PORT_ENV = "CVETY_TEST_MYSQL_PROBE_PORT";
const DEFAULT_PROBE_PORT = 3306;
const PROBE_TIMEOUT_MS = 2000;

/** null when the server answered `SELECT 1`, else why not. */
async function probe(endpoint: MysqlEndpoint): Promise<string | null> {
  try {
    const connection = await mysql.createConnection({ ...endpoint, connectTimeout: PROBE_TIMEOUT_MS });
    try {
      await connection.query("SELECT 1");
    } finally {
      await connection.end();
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || String((err as { code?: unknown }).code) : String(err);
  }
}

function probePort(): number {
  const raw = process.env[PROBE_PORT_ENV];
  if (raw === undefined || raw === "") return DEFAULT_PROBE_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${PROBE_PORT_ENV} must be a TCP port, got ${JSON.stringify(raw)}`);
  }
  return port;
}

export async function ensureMariaDb(
  opts: { log?: (line: string) => void } = {},
): Promise<{ endpoint: MysqlEndpoint; stop: () => Promise<void> }> {
  const log = opts.log ?? (() => undefined);
  const noop = async () => undefined;

  const fromEnv = process.env[TEST_MYSQL_URL_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    // Asked for explicitly: if it does not answer, say so instead of starting another.
    const endpoint = parseMysqlUrl(fromEnv);
    const problem = await probe(endpoint);
    if (problem !== null) {
      throw new Error(
        `${TEST_MYSQL_URL_ENV} points at ${endpoint.host}:${endpoint.port}, which fails: ${problem}`,
      );
    }
    log(`using MariaDB from ${TEST_MYSQL_URL_ENV} at ${endpoint.host}:${endpoint.port}`);
    return { endpoint, stop: noop };
  }

  const local: MysqlEndpoint = { host: "127.0.0.1", port: probePort(), user: "root", password: "" };
  const problem = await probe(local);
  if (problem === null) {
    log(`using MariaDB at ${local.host}:${local.port} (root, empty password)`);
    return { endpoint: local, stop: noop };
  }
  log(`no usable MariaDB at ${local.host}:${local.port} (${problem}); starting a private one`);
  const server = await startPrivateMariaDb(log);
  return { endpoint: server.endpoint, stop: server.stop };
}
