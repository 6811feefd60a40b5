import {
  CAPTURE_COLUMNS,
  mergeRequirements,
  WRITEBACK_COLUMNS,
  WRITEBACK_UPDATED_ORDER_COLUMNS,
} from "../../daemon/ops/bitrix-schema-check.js";

/**
 * The least privileges the sidecar's own MySQL user gets: SELECT on what
 * capture and write-back read, UPDATE on only the b_sale_order columns a
 * status change sets, INSERT on the two tables Bitrix adds rows to on a
 * status change (history and e-mail event). Derived from the same table
 * lists the preflight checks, so a column capture starts reading is granted
 * by the same edit. b_user also holds password hashes: only the columns
 * capture reads are granted there.
 */

export type Privilege = "SELECT" | "INSERT" | "UPDATE";

export interface TableGrant {
  privilege: Privilege;
  table: string;
  /** Column-level grant; table-level when absent. */
  columns?: readonly string[];
}

/** Tables the sidecar only inserts into: b_event rows carry every site e-mail, so no SELECT there. */
export const INSERT_ONLY_TABLES = ["b_sale_order_change", "b_event"] as const;
/** Tables read column by column. */
export const COLUMN_SELECT_TABLES: Readonly<Record<string, readonly string[]>> = {
  b_user: CAPTURE_COLUMNS["b_user"] ?? [],
};
/** What a status write-back sets (daemon/ops/bitrix-schema-check.ts). */
export const UPDATED_ORDER_COLUMNS: readonly string[] = WRITEBACK_UPDATED_ORDER_COLUMNS;

export function sidecarGrants(): TableGrant[] {
  const read = Object.keys(mergeRequirements(CAPTURE_COLUMNS, WRITEBACK_COLUMNS)).filter(
    (t) => !(INSERT_ONLY_TABLES as readonly string[]).includes(t),
  );
  return [
    ...read.sort().map((table): TableGrant => {
      const columns = COLUMN_SELECT_TABLES[table];
      return columns === undefined ? { privilege: "SELECT", table } : { privilege: "SELECT", table, columns };
    }),
    { privilege: "UPDATE", table: "b_sale_order", columns: UPDATED_ORDER_COLUMNS },
    ...INSERT_ONLY_TABLES.map((table): TableGrant => ({ privilege: "INSERT", table })),
  ];
}

/** `SELECT ON db.t`, `UPDATE (COL) ON db.t`: one line per privilege and column, for comparing. */
export function privilegeKeys(database: string, grants: readonly TableGrant[]): Set<string> {
  const keys = new Set<string>();
  for (const g of grants) {
    if (g.columns === undefined) keys.add(privilegeKey(g.privilege, database, g.table));
    else for (const c of g.columns) keys.add(privilegeKey(g.privilege, database, g.table, c));
  }
  return keys;
}

export function privilegeKey(privilege: string, database: string, table: string, column?: string): string {
  return `${privilege.toUpperCase()}${column === undefined ? "" : ` (${column.toUpperCase()})`} ON ${database}.${table}`;
}

/** One statement per grant; identifiers and names go in as parameters (mysql2 quotes ?? and ?). */
export function grantStatements(
  database: string,
  user: { name: string; host: string },
  grants: readonly TableGrant[],
): Array<{ sql: string; params: unknown[] }> {
  return grants.map((g) =>
    g.columns === undefined
      ? { sql: `GRANT ${g.privilege} ON ??.?? TO ?@?`, params: [database, g.table, user.name, user.host] }
      : {
          sql: `GRANT ${g.privilege} (??) ON ??.?? TO ?@?`,
          params: [[...g.columns], database, g.table, user.name, user.host],
        },
  );
}

/** A summary for the step's message: "SELECT on 8 tables, UPDATE on 6 columns of b_sale_order, INSERT on b_sale_order_change, b_event". */
export function describeGrants(grants: readonly TableGrant[]): string {
  const selects = grants.filter((g) => g.privilege === "SELECT").length;
  const update = grants.find((g) => g.privilege === "UPDATE");
  const inserts = grants.filter((g) => g.privilege === "INSERT").map((g) => g.table);
  return `SELECT on ${selects} tables, UPDATE on ${update?.columns?.length ?? 0} columns of b_sale_order, INSERT on ${inserts.join(", ")}`;
}
