import type { MysqlTarget } from "../../daemon/config/config-schema.js";
import { describeError } from "../../daemon/errors.js";
import {
  createMysqlPool,
  isMysqlConnectionError,
  MYSQL_GRANT_ERROR_CODES,
  mysqlErrorCode,
  selectStrings,
} from "../../daemon/mysql/create-mysql-pool.js";
import {
  type BitrixDbEnvironment,
  CAPTURE_COLUMNS,
  checkBitrixSchema,
  mergeRequirements,
  readBitrixDbEnvironment,
  WRITEBACK_COLUMNS,
} from "../../daemon/ops/bitrix-schema-check.js";
import { PreflightError } from "../install-errors.js";

const CONNECT_TIMEOUT_MS = 5_000;

export interface MysqlFacts {
  serverVersion: string;
  environment: BitrixDbEnvironment;
}

/** "bitrix0@localhost:3306/sitemanager": never the password. */
export function describeTarget(t: MysqlTarget): string {
  const where = t.socketPath === undefined ? `${t.host}:${t.port}` : t.socketPath;
  return `${t.user}@${where}/${t.database}`;
}

/** MySQL reachable with these credentials, Bitrix's sale tables and columns present, charset and zone read. */
export async function checkMysql(target: MysqlTarget, opts: { writeback: boolean }): Promise<MysqlFacts> {
  const pool = createMysqlPool(target, { connectTimeoutMs: CONNECT_TIMEOUT_MS, poolSize: 1 });
  const who = `${describeTarget(target)} (credentials from ${target.source})`;
  try {
    let serverVersion: string;
    try {
      const [row] = await selectStrings(pool, "SELECT VERSION() AS v");
      serverVersion = row?.["v"] ?? "";
    } catch (err) {
      const code = mysqlErrorCode(err) ?? "";
      const why = isMysqlConnectionError(err)
        ? "MySQL is unreachable"
        : MYSQL_GRANT_ERROR_CODES.has(code)
          ? "MySQL refuses these credentials"
          : "cannot query MySQL";
      throw new PreflightError("mysql", `${why}: ${who}: ${describeError(err)}`, { cause: err });
    }
    const required = opts.writeback ? mergeRequirements(CAPTURE_COLUMNS, WRITEBACK_COLUMNS) : CAPTURE_COLUMNS;
    const { missing } = await checkBitrixSchema(pool, target.database, required);
    if (missing.length > 0) {
      throw new PreflightError(
        "bitrix-schema",
        `database ${target.database} lacks Bitrix's ${missing.join(", ")} (is it the shop's database, with the sale module installed?)`,
      );
    }
    return { serverVersion, environment: await readBitrixDbEnvironment(pool) };
  } finally {
    await pool.end().catch(() => undefined);
  }
}
