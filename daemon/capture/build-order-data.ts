import { createHash } from "node:crypto";
import type { NewSnapshot } from "../outbox/outbox-store.js";
import { toBitrixSiteFormat } from "./bitrix-datetime.js";
import type { OrderSnapshot, Row } from "./order-snapshot.js";

/**
 * The CRM's `data` object, as the old PHP hook built it (CONTRACT.md §1):
 * `CSaleOrder::GetByID` (every b_sale_order column, upper-case keys, string
 * values, dates in the site format) merged with `basket`, `properties`
 * (CODE -> VALUE, the NAME when CODE is empty) and `user`; plus `payments`
 * and `shipments`, which the CRM ignores today. `webhook_timestamp` and
 * `webhook_source` are added at send time.
 */
export type OrderData = Record<string, unknown>;

/** Order columns left out: a search index blob Bitrix keeps for its admin filter. */
const OMITTED_ORDER_COLUMNS = new Set(["SEARCH_CONTENT"]);

/** The basket fields the PHP hook selected from CSaleBasket::GetList. */
const BASKET_FIELDS = [
  "ID",
  "PRODUCT_ID",
  "NAME",
  "PRICE",
  "CURRENCY",
  "QUANTITY",
  "DISCOUNT_PRICE",
  "PRODUCT_XML_ID",
];

/** The user fields the PHP hook requested from CUser::GetList. */
const USER_FIELDS = ["ID", "LOGIN", "EMAIL", "NAME", "LAST_NAME", "PERSONAL_PHONE"];

export function buildOrderData(s: OrderSnapshot): OrderData {
  const data: OrderData = formatRow(s.order, s.dateColumns.order, OMITTED_ORDER_COLUMNS);
  data["basket"] = s.basket.map((line) => pick(line, BASKET_FIELDS));
  data["properties"] = propertiesByCode(s.properties);
  data["user"] = s.user ? pick(s.user, USER_FIELDS) : null;
  data["payments"] = s.payments.map((p) => formatRow(p, s.dateColumns.payments, new Set(["ORDER_ID"])));
  data["shipments"] = s.shipments.map((p) => formatRow(p, s.dateColumns.shipments, new Set(["ORDER_ID"])));
  return data;
}

/** CODE -> VALUE; a property without CODE is keyed by its NAME (as the hook did). */
export function propertiesByCode(rows: Row[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const r of rows) {
    const key = r["CODE"] ? r["CODE"] : r["NAME"];
    if (key) out[key] = r["VALUE"] ?? null;
  }
  return out;
}

/** sha256 hex of the data as JSON: equal content, equal hash (keys keep column order). */
export function hashOrderData(data: OrderData): string {
  return createHash("sha256").update(JSON.stringify(data)).digest("hex");
}

/** The outbox row of a snapshot: its CRM `data`, hash and Idempotency-Key. */
export function outboxSnapshotOf(s: OrderSnapshot): NewSnapshot {
  const data = buildOrderData(s);
  const hash = hashOrderData(data);
  return {
    orderId: s.orderId,
    version: s.version,
    dateUpdate: s.dateUpdate,
    payload: JSON.stringify(data),
    hash,
    idempotencyKey: idempotencyKey(s.orderId, s.version, hash),
  };
}

/** Stable per snapshot, the same on every retry (two snapshots may share a VERSION). */
export function idempotencyKey(orderId: number, version: number, snapshotHash: string): string {
  return `bitrix-order-${orderId}-v${version}-${snapshotHash.slice(0, 12)}`;
}

function formatRow(
  row: Row,
  dateColumns: ReadonlySet<string>,
  omit: ReadonlySet<string>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(row)) {
    if (omit.has(k)) continue;
    out[k] = v !== null && dateColumns.has(k) ? toBitrixSiteFormat(v) : v;
  }
  return out;
}

function pick(row: Row, fields: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const f of fields) out[f] = row[f] ?? null;
  return out;
}
