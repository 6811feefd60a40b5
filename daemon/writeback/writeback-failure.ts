import { describeError } from "../errors.js";
import {
  isMysqlConnectionError,
  MYSQL_GRANT_ERROR_CODES,
  mysqlErrorCode,
} from "../mysql/create-mysql-pool.js";
import { describeMissingGrant } from "../mysql/missing-grant.js";
import { WritebackSourceError } from "./source-http-client.js";

/**
 * Why a write-back tick stopped, in words an operator can act on. These are
 * failures that are not one row's fault: the change in hand is retried
 * later, never recorded, and the cursor stays before it.
 */
export interface WritebackFailure {
  code: string;
  reason: string;
  /** Expected to clear on its own (network, MySQL restart, CRM outage). */
  transient: boolean;
}

/** The privileges one status write needs (BITRIX.md §3), for the grant error's hint. */
const NEEDED_GRANTS =
  "SELECT on the Bitrix database, UPDATE on b_sale_order, INSERT on b_sale_order_change and b_event";

export function describeWritebackFailure(err: unknown, database?: string): WritebackFailure {
  const mysqlCode = mysqlErrorCode(err);
  if (isMysqlConnectionError(err)) {
    return {
      code: "E_MYSQL_UNREACHABLE",
      reason: `MySQL unreachable: ${describeError(err)}`,
      transient: true,
    };
  }
  if (mysqlCode !== undefined && MYSQL_GRANT_ERROR_CODES.has(mysqlCode)) {
    const missing = describeMissingGrant(err, database);
    return {
      code: "E_WRITEBACK_GRANT",
      reason:
        missing === undefined
          ? `MySQL refused a write-back statement, nothing was written: ${describeError(err)}. The sidecar's MySQL user needs ${NEEDED_GRANTS}`
          : `MySQL refused a write-back statement, nothing was written: ${missing}`,
      transient: false,
    };
  }
  if (err instanceof WritebackSourceError) {
    return {
      code: err.code,
      reason: err.message,
      transient: err.code === "E_WRITEBACK_SOURCE_UNREACHABLE" || (err.httpStatus ?? 0) >= 500,
    };
  }
  const code = (err as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" ? code : "E_WRITEBACK",
    reason: describeError(err),
    transient: mysqlCode === "ER_LOCK_DEADLOCK" || mysqlCode === "ER_LOCK_WAIT_TIMEOUT",
  };
}
