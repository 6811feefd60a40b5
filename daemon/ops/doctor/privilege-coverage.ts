import type { TableGrant } from "../../../installer/mysql/sidecar-grants.js";

/**
 * Pure: which of the privileges the sidecar needs a MySQL account lacks,
 * given what information_schema says it holds. A privilege is held at the
 * global level (`*.*`), on the database (MySQL allows `%`/`_` patterns there),
 * on the table, or, for a column-level need, on that column.
 */

export interface HeldPrivilege {
  privilege: string;
  /** Absent: global. */
  schema?: string;
  /** Absent: the whole schema. */
  table?: string;
  /** Absent: the whole table. */
  column?: string;
}

export interface MissingGrant {
  privilege: string;
  table: string;
  /** The columns lacking it (column-level needs); absent when the table-level privilege is missing. */
  columns?: string[];
}

export function missingGrants(
  database: string,
  required: readonly TableGrant[],
  held: readonly HeldPrivilege[],
): MissingGrant[] {
  const missing: MissingGrant[] = [];
  for (const need of required) {
    const p = need.privilege.toUpperCase();
    const relevant = held.filter((h) => h.privilege.toUpperCase() === p);
    const wide = relevant.some(
      (h) =>
        h.schema === undefined ||
        (h.table === undefined && schemaMatches(h.schema, database)) ||
        (h.column === undefined && h.schema === database && sameTable(h.table, need.table)),
    );
    if (wide) continue;
    if (need.columns === undefined) {
      missing.push({ privilege: p, table: need.table });
      continue;
    }
    const have = new Set(
      relevant
        .filter((h) => h.schema === database && sameTable(h.table, need.table) && h.column !== undefined)
        .map((h) => h.column!.toUpperCase()),
    );
    const lacking = need.columns.filter((c) => !have.has(c.toUpperCase()));
    if (lacking.length > 0) missing.push({ privilege: p, table: need.table, columns: lacking });
  }
  return missing;
}

/** `SELECT ON shop.b_sale_order`, `UPDATE (STATUS_ID, VERSION) ON shop.b_sale_order`. */
export function describeMissingGrant(database: string, m: MissingGrant): string {
  const cols = m.columns === undefined ? "" : ` (${m.columns.join(", ")})`;
  return `${m.privilege}${cols} ON ${database}.${m.table}`;
}

/** The statement an admin runs to fix it (identifiers back-quoted, account as the server names it). */
export function grantStatementFor(database: string, account: string, m: MissingGrant): string {
  const cols = m.columns === undefined ? "" : ` (${m.columns.map(quoteIdent).join(", ")})`;
  return `GRANT ${m.privilege}${cols} ON ${quoteIdent(database)}.${quoteIdent(m.table)} TO ${account};`;
}

function quoteIdent(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** Table names compare case-insensitively (lower_case_table_names on most Bitrix hosts is 0, but grants are stored lower-case on 1). */
function sameTable(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** A database-level grant may name a LIKE pattern (`shop\_%`): `_` any one character, `%` any run, `\` escapes. */
export function schemaMatches(pattern: string, database: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (ch === "%") re += ".*";
    else if (ch === "_") re += ".";
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`, "s").test(database);
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
