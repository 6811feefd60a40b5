import mysql, { type FieldPacket, type Pool, type PoolConnection } from "mysql2/promise";
import type { Row, RowSet } from "../capture/order-snapshot.js";
import type { MysqlTarget } from "../config/config-schema.js";

export type MysqlPool = Pool;
export type MysqlConnection = PoolConnection;
/** Anything that can run a query: the pool or one connection (inside a transaction). */
export type Queryable = Pick<Pool, "query">;

/**
 * A pool to Bitrix's database that returns every value as the string MySQL
 * prints (what PHP's mysqli hands to Bitrix): decimals stay "16500.0000",
 * DATETIMEs stay wall-clock strings, never shifted by a time zone.
 */
export function createMysqlPool(
  target: MysqlTarget,
  opts: { connectTimeoutMs: number; poolSize: number },
): MysqlPool {
  return mysql.createPool({
    host: target.host,
    port: target.port,
    ...(target.socketPath ? { socketPath: target.socketPath } : {}),
    user: target.user,
    password: target.password,
    database: target.database,
    charset: "UTF8MB4_UNICODE_CI",
    connectTimeout: opts.connectTimeoutMs,
    connectionLimit: opts.poolSize,
    maxIdle: opts.poolSize,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    waitForConnections: true,
    multipleStatements: false,
    typeCast: (field) => field.string("utf8"),
  });
}

/** MySQL protocol column types (include/mysql_com.h): TIMESTAMP 7, DATE 10, DATETIME 12, NEWDATE 14. */
const DATE_TYPES = new Set<number>([7, 10, 12, 14]);

/** Runs a parameterised SELECT and returns string rows plus which columns are dates. */
export async function selectRows(db: Queryable, sql: string, params: unknown[] = []): Promise<RowSet> {
  const [rows, fields] = (await db.query(sql, params)) as unknown as [Row[], FieldPacket[]];
  const dateColumns = new Set<string>();
  for (const f of fields) if (f.type !== undefined && DATE_TYPES.has(f.type)) dateColumns.add(f.name);
  return { rows, dateColumns };
}

/** Runs a parameterised SELECT and returns its string rows. */
export async function selectStrings(db: Queryable, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [rows] = (await db.query(sql, params)) as unknown as [Row[]];
  return rows;
}

/**
 * MySQL errors that mean "the server or the network is gone", as opposed to a
 * bad query or a missing grant: the loop waits and reconnects.
 */
export const MYSQL_CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_SERVER_GONE_ERROR",
  "ER_SERVER_LOST",
  "ER_NET_READ_ERROR",
  "ER_NET_READ_INTERRUPTED",
  "ER_NET_WRITE_INTERRUPTED",
]);

/** Errors from a missing privilege: a person must fix the grants. */
export const MYSQL_GRANT_ERROR_CODES: ReadonlySet<string> = new Set([
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR",
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_PROCACCESS_DENIED_ERROR",
]);

export function mysqlErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isMysqlConnectionError(err: unknown): boolean {
  const code = mysqlErrorCode(err);
  return code !== undefined && MYSQL_CONNECTION_ERROR_CODES.has(code);
}
