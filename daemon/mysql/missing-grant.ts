import { MYSQL_GRANT_ERROR_CODES, mysqlErrorCode } from "./create-mysql-pool.js";

/**
 * Which privilege MySQL refused, read from its error text, so an operator is
 * told the one grant to add instead of a list of everything the sidecar
 * needs. MariaDB and MySQL word it as
 *   UPDATE command denied to user 'u'@'h' for table `db`.`b_sale_order`
 *   UPDATE command denied to user 'u'@'h' for table 'b_sale_order'
 *   SELECT command denied to user 'u'@'h' for column 'PASSWORD' in table 'b_user'
 */
export interface MissingGrant {
  privilege: string;
  table: string;
  column?: string;
  /** 'name'@'host' as MySQL names the account. */
  account?: string;
  /** When MySQL names it (table-level refusals on MariaDB). */
  database?: string;
}

const DENIED_RE =
  /^(?:[A-Z_]+: )?([A-Z ]+?) command denied to user ('[^']*'@'[^']*') for (?:column '([^']+)' in )?table (?:`([^`]+)`\.`([^`]+)`|'([^']+)'|`([^`]+)`)/;

export function missingGrantOf(err: unknown): MissingGrant | undefined {
  const code = mysqlErrorCode(err);
  if (code === undefined || !MYSQL_GRANT_ERROR_CODES.has(code)) return undefined;
  const message = err instanceof Error ? err.message : String(err);
  const m = DENIED_RE.exec(message);
  if (!m) return undefined;
  const table = m[5] ?? m[6] ?? m[7] ?? "";
  return {
    privilege: m[1]!,
    table,
    ...(m[3] === undefined ? {} : { column: m[3] }),
    ...(m[2] === undefined ? {} : { account: m[2] }),
    ...(m[4] === undefined ? {} : { database: m[4] }),
  };
}

/** "UPDATE (STATUS_ID) on b_sale_order", "SELECT on b_sale_basket". */
export function grantName(g: MissingGrant): string {
  return `${g.privilege}${g.column === undefined ? "" : ` (${g.column})`} on ${g.table}`;
}

/**
 * One sentence naming the missing grant and how to give it back, e.g.
 * "the MySQL user 'cvety_sidecar'@'localhost' lacks UPDATE (STATUS_ID) on b_sale_order:
 *  GRANT UPDATE (STATUS_ID) ON `bitrix`.`b_sale_order` TO 'cvety_sidecar'@'localhost',
 *  or re-run `cvety-sidecar install --create-mysql-user`".
 * undefined when the error is not a refused privilege on a table.
 */
export function describeMissingGrant(err: unknown, database: string | undefined): string | undefined {
  const g = missingGrantOf(err);
  if (g === undefined) return undefined;
  const account = g.account ?? "the sidecar's MySQL user";
  database ??= g.database;
  const on = database === undefined ? `\`${g.table}\`` : `\`${database}\`.\`${g.table}\``;
  const grant = `GRANT ${g.privilege}${g.column === undefined ? "" : ` (${g.column})`} ON ${on} TO ${account}`;
  return `the MySQL user ${account} lacks ${grantName(g)}: ${grant}, or re-run \`cvety-sidecar install --create-mysql-user\``;
}

/** The database a pool connects to (for the GRANT an error message suggests). */
export function poolDatabase(pool: unknown): string | undefined {
  const db = (pool as { pool?: { config?: { connectionConfig?: { database?: unknown } } } } | null)?.pool
    ?.config?.connectionConfig?.database;
  return typeof db === "string" && db !== "" ? db : undefined;
}
