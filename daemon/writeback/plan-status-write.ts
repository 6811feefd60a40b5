import { type PhpCharset, phpSerialize } from "./php-serialize.js";

/**
 * Pure decisions of a status write-back, and the exact rows it writes,
 * mirroring what Bitrix's Order::save() records for a status change
 * (BITRIX.md §3): STATUS_ID, DATE_STATUS, EMP_STATUS_ID, UPDATED_1C='N',
 * VERSION+1 and DATE_UPDATE on the order row, plus one ORDER_STATUS_CHANGED
 * history row. Dry run logs the same plan that a real run writes.
 */

/** The b_sale_order columns a write-back reads, as MySQL prints them. */
export interface LockedOrder {
  id: number;
  /** LID: the order's site. */
  siteId: string;
  statusId: string;
  dateStatus: string | null;
  version: number;
  dateUpdate: string;
  accountNumber: string | null;
  dateInsert: string;
  userId: string | null;
}

/** When the CRM changed the status: its own instant, and that instant on Bitrix's wall clock. */
export interface CrmChangeTime {
  epochUs: number;
  /** 'YYYY-MM-DD HH:MM:SS' in Bitrix's time zone, fraction cut. */
  wallClock: string;
}

export type StatusDecision =
  | { kind: "missing" }
  | { kind: "unchanged" }
  /** Bitrix changed the status after the CRM did: Bitrix wins. */
  | { kind: "conflict"; cause: "bitrix_newer"; dateStatus: string }
  /** The order still holds a write-back of a LATER CRM change (a page re-read, a feed out of order). */
  | { kind: "conflict"; cause: "older_than_applied"; appliedCrmTimeUs: number }
  | { kind: "apply" };

/**
 * Conflict rule. If the order's status is still the one our write-back set
 * (`ownWriteCrmTimeUs` found: the row is exactly the one it produced, or its
 * STATUS_ID and DATE_STATUS are those it wrote, whatever Bitrix saved since
 * in other fields), its DATE_STATUS is our own clock, not a Bitrix status
 * change: the CRM change is compared with the CRM change we applied, and
 * only a newer one wins. Otherwise Bitrix set the status last: a DATE_STATUS strictly
 * later than the CRM's change (on Bitrix's wall clock, whole seconds) means
 * a Bitrix manager moved the status after the CRM did; the same second is
 * not "after".
 */
export function decideStatusChange(
  order: LockedOrder | undefined,
  statusId: string,
  crm: CrmChangeTime,
  ownWriteCrmTimeUs: number | undefined,
): StatusDecision {
  if (!order) return { kind: "missing" };
  if (order.statusId === statusId) return { kind: "unchanged" };
  if (ownWriteCrmTimeUs !== undefined) {
    return crm.epochUs < ownWriteCrmTimeUs
      ? { kind: "conflict", cause: "older_than_applied", appliedCrmTimeUs: ownWriteCrmTimeUs }
      : { kind: "apply" };
  }
  // Both are 'YYYY-MM-DD HH:MM:SS' wall clocks: string order is time order.
  if (order.dateStatus !== null && order.dateStatus > crm.wallClock) {
    return { kind: "conflict", cause: "bitrix_newer", dateStatus: order.dateStatus };
  }
  return { kind: "apply" };
}

export interface OrderStatusColumns {
  STATUS_ID: string;
  DATE_STATUS: string;
  EMP_STATUS_ID: number | null;
  UPDATED_1C: "N";
  /** Written as VERSION = VERSION + 1 under the row lock; this is the value that results. */
  VERSION: number;
  DATE_UPDATE: string;
}

/** The b_sale_order_change row; DATE_CREATE and DATE_MODIFY are the DB's NOW(), as Bitrix writes them. */
export interface StatusHistoryRow {
  ORDER_ID: number;
  TYPE: "ORDER_STATUS_CHANGED";
  DATA: string;
  USER_ID: number;
  ENTITY: "ORDER";
  ENTITY_ID: number;
}

/** The b_event row CEvent::Send inserts; SUCCESS_EXEC 'N' (not sent yet), MESSAGE_ID NULL. */
export interface StatusMailEventRow {
  EVENT_NAME: string;
  LID: string;
  C_FIELDS: string;
  DATE_INSERT: string;
  SUCCESS_EXEC: "N";
  DUPLICATE: "Y";
  LANGUAGE_ID: string | null;
}

export interface PlannedStatusWrite {
  orderId: number;
  oldStatusId: string;
  statusId: string;
  order: OrderStatusColumns;
  history: StatusHistoryRow;
  event?: StatusMailEventRow;
}

export function planStatusWrite(
  order: LockedOrder,
  statusId: string,
  opts: { now: string; employeeId: number | undefined; charset: PhpCharset },
): PlannedStatusWrite {
  return {
    orderId: order.id,
    oldStatusId: order.statusId,
    statusId,
    order: {
      STATUS_ID: statusId,
      // Bitrix sets DATE_STATUS when the field changes and DATE_UPDATE at the end of the same save: one second.
      DATE_STATUS: opts.now,
      EMP_STATUS_ID: opts.employeeId ?? null,
      UPDATED_1C: "N",
      VERSION: order.version + 1,
      DATE_UPDATE: opts.now,
    },
    history: {
      ORDER_ID: order.id,
      TYPE: "ORDER_STATUS_CHANGED",
      // CSaleOrderChange cuts values to 128 characters; status ids are at most 2.
      DATA: phpSerialize({ STATUS_ID: statusId, OLD_STATUS_ID: order.statusId }, opts.charset),
      USER_ID: opts.employeeId ?? 0,
      ENTITY: "ORDER",
      ENTITY_ID: order.id,
    },
  };
}
