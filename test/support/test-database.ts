/**
 * One disposable Bitrix database per test file: a uniquely named database on the
 * test server, loaded with test/fixtures/bitrix-schema.sql, and a pool on it that
 * sees data the way the sidecar should (utf8mb4 connection, DATETIMEs as the
 * literal strings Bitrix wrote, decimals as strings).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PoolConnection as CorePoolConnection } from "mysql2";
import mysql, { type Pool } from "mysql2/promise";
import { formatMysqlUrl, type MysqlEndpoint } from "./mysql-endpoint.js";
import { PACKAGE_ROOT } from "./package-root.js";

export const BITRIX_SCHEMA_FILE = join(PACKAGE_ROOT, "test", "fixtures", "bitrix-schema.sql");

export interface TestDatabase {
  name: string;
  endpoint: MysqlEndpoint;
  /** mysql://user:pass@host:port/name, user and password URL-encoded: what a sidecar config would hold. */
  url: string;
  /** utf8mb4, dateStrings: true, sessions in sql_mode='' like Bitrix's own. */
  pool: Pool;
  /** Runs one statement on the pool and returns its rows (meant for SELECTs). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops the database and ends the pool. Safe to call twice. */
  drop(): Promise<void>;
}

let schemaSql: Promise<string> | undefined;

/** Only [a-z0-9_] reaches the database name, so it can be back-quoted into DDL safely. */
function databaseName(prefix: string | undefined, exact: string | undefined): string {
  if (exact !== undefined) {
    if (!/^[a-z0-9_]{1,64}$/.test(exact)) throw new Error(`bad database name ${JSON.stringify(exact)}`);
    return exact;
  }
  const cleanPrefix = (prefix ?? "db")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .slice(0, 30);
  return `cvety_t_${cleanPrefix}_${randomBytes(5).toString("hex")}`;
}

export async function createTestDatabase(
  endpoint: MysqlEndpoint,
  /** `name`: exactly this name (only [a-z0-9_]) instead of a random one, e.g. the demo's `cvety_demo_<pid>`. */
  opts: { prefix?: string; name?: string } = {},
): Promise<TestDatabase> {
  const name = databaseName(opts.prefix, opts.name);
  schemaSql ??= readFile(BITRIX_SCHEMA_FILE, "utf8");
  const schema = await schemaSql;

  const admin = await mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    password: endpoint.password,
    charset: "utf8mb4",
    multipleStatements: true,
  });
  try {
    // A UTF-8 Bitrix site keeps its tables in utf8 (= utf8mb3) / utf8_unicode_ci.
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci`);
    await admin.query(`USE \`${name}\``);
    // The file sets its own NAMES and sql_mode='' (what Bitrix expects).
    await admin.query(schema);
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
    throw new Error(`loading ${BITRIX_SCHEMA_FILE} into ${name} failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await admin.end();
  }

  const pool = mysql.createPool({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    password: endpoint.password,
    database: name,
    charset: "utf8mb4",
    dateStrings: true,
    connectionLimit: 10,
  });
  // Bitrix runs its sessions with sql_mode='' (its site checker flags anything else);
  // writes through this pool should behave the same. The listener gets the core
  // (callback) connection; its queue runs this before the first query of the caller.
  pool.on("connection", (connection) => {
    (connection as unknown as CorePoolConnection).query("SET SESSION sql_mode = ''", () => undefined);
  });

  let dropped = false;
  return {
    name,
    endpoint,
    url: formatMysqlUrl(endpoint, name),
    pool,
    async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await pool.query(sql, params);
      return rows as T[];
    },
    async drop(): Promise<void> {
      if (dropped) return;
      dropped = true;
      await pool.end();
      const admin = await mysql.createConnection({
        host: endpoint.host,
        port: endpoint.port,
        user: endpoint.user,
        password: endpoint.password,
      });
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await admin.end();
      }
    },
  };
}
