import {
  INSERT_ONLY_TABLES,
  sidecarGrants,
  type TableGrant,
} from "../../../installer/mysql/sidecar-grants.js";
import { describeTarget } from "../../../installer/preflight/mysql-checks.js";
import { wallClockNow } from "../../capture/bitrix-datetime.js";
import type { Config, MysqlTarget } from "../../config/config-schema.js";
import { describeError } from "../../errors.js";
import {
  isMysqlConnectionError,
  MYSQL_GRANT_ERROR_CODES,
  mysqlErrorCode,
  type Queryable,
  selectStrings,
} from "../../mysql/create-mysql-pool.js";
import {
  CAPTURE_COLUMNS,
  checkBitrixSchema,
  mergeRequirements,
  readBitrixDbEnvironment,
  WRITEBACK_COLUMNS,
} from "../bitrix-schema-check.js";
import { type CheckResult, fail, ok, skip } from "./check-result.js";
import { clockVerdict } from "./clock-verdict.js";
import {
  describeMissingGrant,
  grantStatementFor,
  type HeldPrivilege,
  type MissingGrant,
  missingGrants,
} from "./privilege-coverage.js";

/** `doctor`'s MySQL checks, each one query or a few, on the daemon's own credentials. */

/** "bitrix0@localhost:3306/sitemanager (credentials from config)": never the password. */
export function describeMysqlTarget(t: MysqlTarget): string {
  return `${describeTarget(t)} (credentials from ${t.source})`;
}

export async function checkMysqlReachable(db: Queryable, target: MysqlTarget): Promise<CheckResult> {
  const name = "mysql reachable";
  try {
    const [row] = await selectStrings(db, "SELECT VERSION() AS v");
    return ok(name, `MySQL ${row?.["v"] ?? "?"} answers as ${describeMysqlTarget(target)}`);
  } catch (err) {
    const code = mysqlErrorCode(err) ?? "";
    const where = describeMysqlTarget(target);
    if (isMysqlConnectionError(err))
      return fail(
        name,
        `cannot connect to ${where}: ${describeError(err)}`,
        "start MySQL or fix the host/port in [mysql] url (or Bitrix's .settings.php)",
      );
    if (MYSQL_GRANT_ERROR_CODES.has(code) || code === "ER_ACCESS_DENIED_ERROR" || code === "ER_BAD_DB_ERROR")
      return fail(
        name,
        `MySQL refuses ${where}: ${describeError(err)}`,
        "check the user, password and database in [mysql] url / CVETY_SIDECAR_MYSQL_PASSWORD (or Bitrix's .settings.php)",
      );
    return fail(name, `cannot query ${where}: ${describeError(err)}`, "see the MySQL error above");
  }
}

/** What the sidecar needs: SELECT on what capture reads; with write-back, all the installer grants. */
export function requiredGrants(writeback: boolean): TableGrant[] {
  const all = sidecarGrants();
  if (writeback) return all;
  return all.filter((g) => g.privilege === "SELECT" && g.table in CAPTURE_COLUMNS);
}

interface OwnPrivileges {
  /** 'user'@'host' as GRANT statements name it. */
  account: string;
  held: HeldPrivilege[];
}

/**
 * The privileges of the logged-in account, from information_schema (which an
 * ordinary user sees only for itself; root sees everyone's, hence the filter).
 */
export async function readOwnPrivileges(db: Queryable): Promise<OwnPrivileges> {
  const [me] = await selectStrings(
    db,
    `SELECT CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS account`,
  );
  const account = me?.["account"] ?? "";
  const grantees = [account];
  try {
    // MariaDB roles: privileges of the enabled role count too (MySQL 5.7 has no CURRENT_ROLE()).
    const [role] = await selectStrings(db, "SELECT CURRENT_ROLE() AS r");
    const r = role?.["r"];
    if (r && r !== "NONE") grantees.push(`'${r.replace(/^[`']|[`']$/g, "")}'`, r);
  } catch {
    // no roles on this server
  }
  const held: HeldPrivilege[] = [];
  const rows = (sql: string) => selectStrings(db, sql, [grantees]);
  for (const r of await rows(
    "SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE IN (?)",
  ))
    held.push({ privilege: r["p"] ?? "" });
  for (const r of await rows(
    "SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE IN (?)",
  ))
    held.push({ privilege: r["p"] ?? "", schema: r["s"] ?? "" });
  for (const r of await rows(
    "SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE IN (?)",
  ))
    held.push({ privilege: r["p"] ?? "", schema: r["s"] ?? "", table: r["t"] ?? "" });
  for (const r of await rows(
    "SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE IN (?)",
  ))
    held.push({ privilege: r["p"] ?? "", schema: r["s"] ?? "", table: r["t"] ?? "", column: r["c"] ?? "" });
  return { account, held };
}

export interface GrantsCheck {
  result: CheckResult;
  /** Tables information_schema hides from this account (no grant): the schema check leaves them out. */
  hiddenTables: string[];
}

export async function checkGrants(db: Queryable, config: Config): Promise<GrantsCheck> {
  const name = "mysql grants";
  const database = config.mysqlTarget.database;
  const writeback = config.writeback.enabled;
  const what = writeback ? "capture and write-back" : "capture";
  let own: OwnPrivileges;
  try {
    own = await readOwnPrivileges(db);
  } catch (err) {
    return {
      result: fail(
        name,
        `cannot read the account's privileges: ${describeError(err)}`,
        "see the MySQL error",
      ),
      hiddenTables: [],
    };
  }
  const missing = missingGrants(database, requiredGrants(writeback), own.held);
  if (missing.length === 0) {
    return { result: ok(name, `${own.account} holds what ${what} needs`), hiddenTables: [] };
  }
  const statements = missing.map((m) => grantStatementFor(database, own.account, m));
  return {
    result: fail(
      name,
      `${own.account} lacks ${missing.map((m) => describeMissingGrant(database, m)).join("; ")} (needed by ${what})`,
      `as a MySQL admin: ${statements.join(" ")}${writeback ? "" : " (or re-run cvety-sidecar install --create-mysql-user)"}`,
    ),
    hiddenTables: hiddenBy(missing),
  };
}

/** information_schema.COLUMNS lists only what the account has some privilege on. */
function hiddenBy(missing: readonly MissingGrant[]): string[] {
  const insertOnly: readonly string[] = INSERT_ONLY_TABLES;
  return missing
    .filter((m) => m.privilege === "SELECT" || (m.privilege === "INSERT" && insertOnly.includes(m.table)))
    .map((m) => m.table);
}

export async function checkSchema(
  db: Queryable,
  config: Config,
  hiddenTables: string[],
): Promise<CheckResult> {
  const name = "bitrix tables";
  const writeback = config.writeback.enabled;
  const all = writeback ? mergeRequirements(CAPTURE_COLUMNS, WRITEBACK_COLUMNS) : CAPTURE_COLUMNS;
  const required = Object.fromEntries(Object.entries(all).filter(([t]) => !hiddenTables.includes(t)));
  const database = config.mysqlTarget.database;
  try {
    const { missing } = await checkBitrixSchema(db, database, required);
    const unseen =
      hiddenTables.length > 0 ? ` (not checked without a grant: ${hiddenTables.join(", ")})` : "";
    if (missing.length === 0)
      return ok(
        name,
        `${Object.keys(required).length} tables and their columns present in ${database}${writeback ? " (write-back included)" : ""}${unseen}`,
      );
    return fail(
      name,
      `${database} lacks ${missing.join(", ")}${unseen}`,
      "point [mysql] url (or [bitrix] root) at the shop's database; the sale module must be installed",
    );
  } catch (err) {
    return fail(name, `cannot read information_schema: ${describeError(err)}`, "see the MySQL error");
  }
}

export async function checkClock(
  db: Queryable,
  config: Config,
  clock: () => number = Date.now,
): Promise<CheckResult[]> {
  try {
    const env = await readBitrixDbEnvironment(db);
    return clockVerdict({
      timezone: config.timezone,
      hostNow: wallClockNow(config.timezone, clock()),
      mysqlNow: env.now,
      mysqlTimeZone: env.timeZone,
      mysqlSystemTimeZone: env.systemTimeZone,
      newestDateUpdate: env.newestDateUpdate,
    });
  } catch (err) {
    return [
      fail(
        "mysql clock",
        `cannot read NOW() and the newest DATE_UPDATE: ${describeError(err)}`,
        "see the MySQL error",
      ),
      skip("bitrix DATE_UPDATE", "MySQL clock unknown"),
    ];
  }
}
