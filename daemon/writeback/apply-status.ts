import type { MysqlConnection, MysqlPool } from "../mysql/create-mysql-pool.js";
import { isMysqlConnectionError, selectStrings } from "../mysql/create-mysql-pool.js";
import type { BitrixWriteTarget } from "./bitrix-write-target.js";
import {
  type CrmChangeTime,
  decideStatusChange,
  type LockedOrder,
  type PlannedStatusWrite,
  planStatusWrite,
  type StatusDecision,
  type StatusMailEventRow,
} from "./plan-status-write.js";
import { buildStatusMailEvent } from "./status-mail-event.js";
import {
  SQL_INSERT_MAIL_EVENT,
  SQL_INSERT_MAIL_EVENT_NO_LANGUAGE,
  SQL_INSERT_STATUS_HISTORY,
  SQL_LOCK_ORDER,
  SQL_MAIL_OPTIONS,
  SQL_ORDER_EMAIL_PROPERTY,
  SQL_READ_ORDER,
  SQL_SITE,
  SQL_STATUS_LANG,
  SQL_UPDATE_ORDER_STATUS,
  SQL_USER_EMAIL,
} from "./writeback-queries.js";
import type { OwnWrite } from "./writeback-store.js";

/**
 * Applies one CRM status change to Bitrix in ONE MySQL transaction with the
 * order row locked (SELECT ... FOR UPDATE), so a concurrent save cannot slip
 * between our read and our write, and a failure at any statement (a missing
 * grant, a lost connection) leaves nothing half-written: the order row, its
 * history line and the customer e-mail commit together or not at all.
 */

export interface ApplyStatusDeps {
  mysql: MysqlPool;
  target: BitrixWriteTarget;
  employeeId: number | undefined;
  /** [writeback] notify_customer: queue Bitrix's e-mail when the status has NOTIFY='Y'. */
  notifyCustomer: boolean;
  /** Read and plan, write nothing (no lock either: a dry run needs only SELECT). */
  dryRun: boolean;
  /** Bitrix's wall clock now ('YYYY-MM-DD HH:MM:SS' in [bitrix] timezone). */
  now: () => string;
  /** The CRM time of the write-back that produced this exact row (see decideStatusChange). */
  ownWriteCrmTimeUs: (orderId: number, version: number, dateUpdate: string) => number | undefined;
  /**
   * The CRM time of the write-back that set the order's current status at its
   * current DATE_STATUS, while Bitrix has not changed the status since (a
   * Bitrix save of other fields may have moved the row on).
   */
  ownStatusCrmTimeUs: (orderId: number, statusId: string, dateStatus: string) => number | undefined;
  /**
   * Called after the writes, before COMMIT, with the (ID, VERSION, DATE_UPDATE)
   * they produce: recorded first, capture can never see our row without
   * knowing it is our own (no echo).
   */
  beforeCommit: (write: OwnWrite) => void;
}

export interface StatusChangeRequest {
  orderId: number;
  statusId: string;
  /** b_sale_status.NOTIFY of the new status. */
  notify: boolean;
  crmChangedAt: CrmChangeTime;
}

export type ApplyResult =
  | { outcome: "applied" | "would_apply"; write: PlannedStatusWrite }
  | { outcome: "unchanged"; statusId: string }
  | { outcome: "conflict"; bitrixStatusId: string; decision: Extract<StatusDecision, { kind: "conflict" }> }
  | { outcome: "rejected"; reason: string };

export async function applyStatusChange(
  deps: ApplyStatusDeps,
  change: StatusChangeRequest,
): Promise<ApplyResult> {
  const conn = await deps.mysql.getConnection();
  let broken = false;
  try {
    await conn.query("START TRANSACTION");
    try {
      const result = await decideAndWrite(conn, deps, change);
      if (result.outcome === "applied") await conn.query("COMMIT");
      else await conn.query("ROLLBACK");
      return result;
    } catch (err) {
      broken = isMysqlConnectionError(err);
      if (!broken) await conn.query("ROLLBACK").catch(() => {});
      throw err;
    }
  } finally {
    // A connection that failed mid-transaction is not handed to the next user.
    if (broken) conn.destroy();
    else conn.release();
  }
}

async function decideAndWrite(
  conn: MysqlConnection,
  deps: ApplyStatusDeps,
  change: StatusChangeRequest,
): Promise<ApplyResult> {
  const [row] = await selectStrings(conn, deps.dryRun ? SQL_READ_ORDER : SQL_LOCK_ORDER, [change.orderId]);
  const order = row ? toLockedOrder(row) : undefined;
  // Our own status, even when a Bitrix save of other fields came after it: its DATE_STATUS is
  // the time we applied it, not a Bitrix status change, so it must not win over newer CRM changes.
  const own =
    order &&
    (deps.ownWriteCrmTimeUs(order.id, order.version, order.dateUpdate) ??
      (order.dateStatus === null
        ? undefined
        : deps.ownStatusCrmTimeUs(order.id, order.statusId, order.dateStatus)));
  const decision = decideStatusChange(order, change.statusId, change.crmChangedAt, own);
  if (decision.kind === "missing") {
    return { outcome: "rejected", reason: `order ${change.orderId} does not exist in b_sale_order` };
  }
  if (decision.kind === "unchanged") return { outcome: "unchanged", statusId: change.statusId };
  if (decision.kind === "conflict") {
    return { outcome: "conflict", bitrixStatusId: order!.statusId, decision };
  }
  const now = deps.now();
  const write = planStatusWrite(order!, change.statusId, {
    now,
    employeeId: deps.employeeId,
    charset: deps.target.historyCharset,
  });
  if (deps.notifyCustomer && change.notify) {
    const event = await readStatusMailEvent(conn, order!, change.statusId, now, deps.target);
    if (event) write.event = event;
  }
  if (deps.dryRun) return { outcome: "would_apply", write };

  const o = write.order;
  await conn.query(SQL_UPDATE_ORDER_STATUS, [
    o.STATUS_ID,
    o.DATE_STATUS,
    o.EMP_STATUS_ID,
    o.DATE_UPDATE,
    write.orderId,
  ]);
  const h = write.history;
  await conn.query(SQL_INSERT_STATUS_HISTORY, [h.ORDER_ID, h.TYPE, h.DATA, h.USER_ID, h.ENTITY, h.ENTITY_ID]);
  if (write.event) await insertMailEvent(conn, write.event, deps.target);
  deps.beforeCommit({
    orderId: write.orderId,
    version: o.VERSION,
    dateUpdate: o.DATE_UPDATE,
    crmChangedAtUs: change.crmChangedAt.epochUs,
  });
  return { outcome: "applied", write };
}

function toLockedOrder(r: Record<string, string | null>): LockedOrder {
  return {
    id: Number(r["ID"]),
    siteId: r["LID"] ?? "",
    statusId: r["STATUS_ID"] ?? "",
    dateStatus: r["DATE_STATUS"] ?? null,
    version: Number(r["VERSION"]),
    dateUpdate: r["DATE_UPDATE"] ?? "",
    accountNumber: r["ACCOUNT_NUMBER"] ?? null,
    dateInsert: r["DATE_INSERT"] ?? "",
    userId: r["USER_ID"] ?? null,
  };
}

/**
 * The fields Notify::sendOrderStatusChange collects. Like Bitrix, no e-mail
 * when the status has no name in the site's language (CSaleStatus::GetByID
 * finds nothing then).
 */
async function readStatusMailEvent(
  conn: MysqlConnection,
  order: LockedOrder,
  statusId: string,
  now: string,
  target: BitrixWriteTarget,
): Promise<StatusMailEventRow | undefined> {
  const [site] = await selectStrings(conn, SQL_SITE, [order.siteId]);
  const languageId = site?.["LANGUAGE_ID"] ?? null;
  const [status] = await selectStrings(conn, SQL_STATUS_LANG, [statusId, languageId]);
  if (!status) return undefined;
  const options = await selectStrings(conn, SQL_MAIL_OPTIONS);
  const option = (module: string, name: string) =>
    options.find((r) => r["MODULE_ID"] === module && r["NAME"] === name)?.["VALUE"] || undefined;
  const serverName = site?.["SERVER_NAME"] || option("main", "server_name") || "";
  return buildStatusMailEvent(
    {
      orderId: order.id,
      accountNumber: order.accountNumber,
      siteId: order.siteId,
      dateInsert: order.dateInsert,
      statusId,
      statusName: status["NAME"] ?? "",
      statusDescription: status["DESCRIPTION"] ?? null,
      email: await customerEmail(conn, order),
      saleEmail: option("sale", "order_email") ?? `order@${serverName}`,
      languageId,
      now,
    },
    target.eventCharset,
  );
}

/** The IS_EMAIL property when it is not empty, else the customer's b_user.EMAIL. */
async function customerEmail(conn: MysqlConnection, order: LockedOrder): Promise<string | null> {
  const [prop] = await selectStrings(conn, SQL_ORDER_EMAIL_PROPERTY, [order.id]);
  if (prop?.["VALUE"]) return prop["VALUE"];
  if (order.userId === null) return null;
  const [user] = await selectStrings(conn, SQL_USER_EMAIL, [order.userId]);
  return user?.["EMAIL"] ?? null;
}

async function insertMailEvent(
  conn: MysqlConnection,
  e: StatusMailEventRow,
  target: BitrixWriteTarget,
): Promise<void> {
  const common = [e.EVENT_NAME, e.LID, e.C_FIELDS, e.DATE_INSERT, e.SUCCESS_EXEC, e.DUPLICATE];
  if (target.eventHasLanguageId) await conn.query(SQL_INSERT_MAIL_EVENT, [...common, e.LANGUAGE_ID]);
  else await conn.query(SQL_INSERT_MAIL_EVENT_NO_LANGUAGE, common);
}
