/**
 * The allow-list for column names callers pass to the Bitrix writers: the columns
 * b_sale_order really has in the database at hand (read once per pool). Names
 * outside it are refused, so no caller text ever reaches SQL unchecked.
 */
import type { Pool, RowDataPacket } from "mysql2/promise";

const cache = new WeakMap<Pool, Promise<Set<string>>>();

export function orderColumnsFor(pool: Pool): Promise<Set<string>> {
  let columns = cache.get(pool);
  if (columns === undefined) {
    columns = pool
      .query<RowDataPacket[]>(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'b_sale_order'",
      )
      .then(([rows]) => new Set(rows.map((row) => String(row.COLUMN_NAME))));
    cache.set(pool, columns);
  }
  return columns;
}

/** Throws naming the first key of `fields` that is not a b_sale_order column. */
export async function assertOrderColumns(pool: Pool, fields: Record<string, unknown>): Promise<void> {
  const known = await orderColumnsFor(pool);
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) throw new Error(`b_sale_order has no column ${JSON.stringify(name)}`);
  }
}
