/**
 * Tiny helpers for the Bitrix writers: INSERT/UPDATE text built from column names
 * the code itself chose (fixed lists, or names checked against the live table), with
 * every value left to a `?` placeholder. Values never enter SQL text.
 */
import type { Pool, PoolConnection, ResultSetHeader } from "mysql2/promise";

export type SqlValue = string | number | null;
export type Queryable = Pool | PoolConnection;

const IDENTIFIER = /^[A-Za-z0-9_]+$/;

export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  // Back-quoted because Bitrix uses reserved words as column names (SUM, SYSTEM, PASSWORD).
  return `\`${name}\``;
}

/** `INSERT [IGNORE] INTO t (a, b) VALUES (?, ?), (?, ?)` for `rowCount` rows. */
export function insertSql(
  table: string,
  columns: readonly string[],
  rowCount: number,
  opts: { ignore?: boolean; updateOnDuplicate?: readonly string[] } = {},
): string {
  const row = `(${columns.map(() => "?").join(", ")})`;
  const rows = new Array<string>(rowCount).fill(row).join(", ");
  const verb = opts.ignore === true ? "INSERT IGNORE INTO" : "INSERT INTO";
  const update =
    opts.updateOnDuplicate === undefined || opts.updateOnDuplicate.length === 0
      ? ""
      : ` ON DUPLICATE KEY UPDATE ${opts.updateOnDuplicate
          .map((column) => `${quoteIdentifier(column)} = VALUES(${quoteIdentifier(column)})`)
          .join(", ")}`;
  return `${verb} ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(", ")}) VALUES ${rows}${update}`;
}

/** Inserts one row given as column -> value; returns the new auto-increment id. */
export async function insertRow(
  db: Queryable,
  table: string,
  row: Record<string, SqlValue>,
): Promise<number> {
  const columns = Object.keys(row);
  const [result] = await db.query<ResultSetHeader>(insertSql(table, columns, 1), Object.values(row));
  return result.insertId;
}

/** Inserts many rows (arrays in `columns` order) in one statement. */
export async function insertRows(
  db: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
  opts: { ignore?: boolean; updateOnDuplicate?: readonly string[] } = {},
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(insertSql(table, columns, rows.length, opts), rows.flat());
}

/** `a = ?, b = ?` and its values, for an UPDATE's SET list. */
export function setList(values: Record<string, SqlValue>): { sql: string; params: SqlValue[] } {
  const columns = Object.keys(values);
  return {
    sql: columns.map((column) => `${quoteIdentifier(column)} = ?`).join(", "),
    params: columns.map((column) => values[column] ?? null),
  };
}
