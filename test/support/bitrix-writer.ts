/**
 * Writes orders into a test Bitrix database exactly the way Bitrix does
 * (BITRIX.md §2-3): autocommit, one statement at a time, no transaction, in
 * Bitrix's order, so the sidecar's capture meets the same half-saved states it
 * meets in production. This file: new orders and raw updates; saveOrder() lives
 * in bitrix-save-order.ts and bulkInsertOrders() in bitrix-bulk-insert.ts (both
 * re-exported here).
 *
 * New order (OrderBase::add + saveEntities + completeSaving):
 *   INSERT b_sale_order (..., RUNNING='Y', DATE_INSERT = DATE_UPDATE = now, XML_ID = uniqid('bx_'))
 *   UPDATE ACCOUNT_NUMBER (= ID, Bitrix's default number template)
 *   INSERT basket lines, property values, shipments (system + real, with items), payment
 *   UPDATE DATE_UPDATE = now, DATE_INSERT = now, RUNNING = 'N'
 * XML_ID goes into the INSERT because OrderBase::create() sets it before add().
 *
 * VERSION convention: a freshly created order ends with VERSION = 0. add() never
 * writes VERSION (the column default 0 stays) and completeSaving() does not bump
 * it; only update() of an existing order does (VERSION + 1). So VERSION counts the
 * saves after creation.
 */
import type { Pool } from "mysql2/promise";
import { bitrixNow } from "./bitrix-clock.js";
import { bitrixXmlId, fuserIdFor, insertBasketLine, writeProperty } from "./bitrix-order-children.js";
import { assertOrderColumns } from "./bitrix-order-columns.js";
import {
  basketTotal,
  DEFAULT_BASKET,
  DEFAULT_PROPERTIES,
  money,
  type OrderSpec,
} from "./bitrix-order-spec.js";
import { SHOP } from "./bitrix-shop.js";
import { insertRow, type SqlValue, setList } from "./sql-rows.js";

export { bulkInsertOrders } from "./bitrix-bulk-insert.js";
export { bitrixNow, shiftBitrixTime } from "./bitrix-clock.js";
export {
  type BasketLine,
  basketTotal,
  DEFAULT_BASKET,
  DEFAULT_PROPERTIES,
  type OrderSpec,
} from "./bitrix-order-spec.js";
export { type SaveChange, type SaveOptions, saveOrder } from "./bitrix-save-order.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function createOrder(
  pool: Pool,
  spec: Partial<OrderSpec> = {},
  opts: { pauseBeforeFinalMs?: number; dateUpdate?: string; timeZone?: string } = {},
): Promise<number> {
  const now = () => opts.dateUpdate ?? bitrixNow(opts.timeZone);
  const user = SHOP.users[0]!;
  const basket = spec.basket ?? [...DEFAULT_BASKET];
  const priceDelivery = spec.priceDelivery ?? 1500;
  const currency = spec.currency ?? SHOP.currency;
  const siteId = spec.siteId ?? SHOP.siteId;
  const paySystem =
    Object.values(SHOP.paySystems).find((p) => p.id === (spec.paySystemId ?? 1)) ?? SHOP.paySystems.cash;
  const delivery =
    Object.values(SHOP.deliveries).find((d) => d.id === (spec.deliveryId ?? 2)) ?? SHOP.deliveries.courier;
  const price = money(basketTotal(basket) + priceDelivery);
  const properties = { ...DEFAULT_PROPERTIES, ...spec.properties };
  const extra = spec.fields ?? {};
  await assertOrderColumns(pool, extra);

  const db = await pool.getConnection();
  try {
    const createdAt = now();
    const userId = spec.userId ?? user.id;
    const fuserId = await fuserIdFor(db, userId, createdAt);
    const id = await insertRow(db, "b_sale_order", {
      LID: siteId,
      PERSON_TYPE_ID: spec.personTypeId ?? SHOP.personTypeId,
      PAYED: spec.payed ?? "N",
      CANCELED: "N",
      DEDUCTED: "N",
      ALLOW_DELIVERY: "N",
      STATUS_ID: spec.statusId ?? "N",
      DATE_STATUS: createdAt,
      PRICE_DELIVERY: priceDelivery,
      PRICE: price,
      CURRENCY: currency,
      DISCOUNT_VALUE: 0,
      USER_ID: userId,
      PAY_SYSTEM_ID: paySystem.id,
      DELIVERY_ID: String(delivery.id),
      DATE_INSERT: createdAt,
      DATE_UPDATE: createdAt,
      USER_DESCRIPTION: spec.userDescription ?? null,
      COMMENTS: spec.comments ?? null,
      UPDATED_1C: "N",
      XML_ID: bitrixXmlId(),
      RUNNING: "Y",
      ...extra,
    });
    const accountNumber = String(id);
    await db.query("UPDATE b_sale_order SET ACCOUNT_NUMBER = ? WHERE ID = ?", [accountNumber, id]);

    const order = { id, fuserId, siteId, currency };
    const basketIds: number[] = [];
    for (const line of basket) basketIds.push(await insertBasketLine(db, order, line, createdAt));

    for (const [key, value] of Object.entries(properties)) {
      if (value !== null) await writeProperty(db, id, key, value);
    }

    // Every order has a system shipment (unallocated quantity) and here one real one holding all lines.
    await insertRow(db, "b_sale_order_delivery", {
      ORDER_ID: id,
      DATE_INSERT: createdAt,
      STATUS_ID: "DN",
      PRICE_DELIVERY: 0,
      BASE_PRICE_DELIVERY: 0,
      DELIVERY_ID: SHOP.deliveries.none.id,
      DELIVERY_NAME: SHOP.deliveries.none.name,
      CURRENCY: currency,
      SYSTEM: "Y",
      XML_ID: bitrixXmlId(),
    });
    const shipmentId = await insertRow(db, "b_sale_order_delivery", {
      ORDER_ID: id,
      ACCOUNT_NUMBER: `${accountNumber}/1`,
      DATE_INSERT: createdAt,
      STATUS_ID: "DN",
      PRICE_DELIVERY: priceDelivery,
      BASE_PRICE_DELIVERY: priceDelivery,
      DELIVERY_ID: delivery.id,
      DELIVERY_NAME: delivery.name,
      CURRENCY: currency,
      SYSTEM: "N",
      XML_ID: bitrixXmlId(),
    });
    for (const [index, basketId] of basketIds.entries()) {
      await insertRow(db, "b_sale_order_dlv_basket", {
        ORDER_DELIVERY_ID: shipmentId,
        BASKET_ID: basketId,
        DATE_INSERT: createdAt,
        QUANTITY: basket[index]!.quantity,
        RESERVED_QUANTITY: 0,
      });
    }
    await insertRow(db, "b_sale_order_payment", {
      ORDER_ID: id,
      ACCOUNT_NUMBER: `${accountNumber}/1`,
      PAID: spec.payed ?? "N",
      DATE_PAID: spec.payed === "Y" ? createdAt : null,
      PAY_SYSTEM_ID: paySystem.id,
      PAY_SYSTEM_NAME: paySystem.name,
      SUM: price,
      CURRENCY: currency,
      XML_ID: bitrixXmlId(),
    });

    if (opts.pauseBeforeFinalMs !== undefined) await sleep(opts.pauseBeforeFinalMs);
    const finishedAt = now();
    // completeSaving(): a new order also gets DATE_INSERT rewritten here.
    await db.query("UPDATE b_sale_order SET DATE_UPDATE = ?, DATE_INSERT = ?, RUNNING = 'N' WHERE ID = ?", [
      finishedAt,
      finishedAt,
      id,
    ]);
    return id;
  } finally {
    db.release();
  }
}

/** An UPDATE that bypasses save(): no VERSION, no DATE_UPDATE, no UPDATED_1C (other modules' raw SQL). */
export async function rawUpdate(pool: Pool, id: number, fields: Record<string, SqlValue>): Promise<void> {
  if (Object.keys(fields).length === 0) return;
  await assertOrderColumns(pool, fields);
  const set = setList(fields);
  await pool.query(`UPDATE b_sale_order SET ${set.sql} WHERE ID = ?`, [...set.params, id]);
}
