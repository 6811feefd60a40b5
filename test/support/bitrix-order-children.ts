/**
 * The child-row writes of a Bitrix order save (basket lines, property values,
 * shipment items, the status history row), one statement each, as Bitrix issues
 * them. Used by createOrder() and saveOrder(), which write the order row itself.
 */
import type { PoolConnection, RowDataPacket } from "mysql2/promise";
import type { BasketLine } from "./bitrix-order-spec.js";
import { shopProperty, shopUser } from "./bitrix-shop.js";
import { insertRow } from "./sql-rows.js";

/** Like PHP's uniqid('bx_'): 8 hex of seconds + 5 hex of microseconds (here partly random, to stay unique). */
export function bitrixXmlId(): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const random = Math.floor(Math.random() * 0x100000);
  return `bx_${Math.floor(micros / 1e6).toString(16)}${((micros + random) % 0x100000).toString(16).padStart(5, "0")}`;
}

export async function fuserIdFor(db: PoolConnection, userId: number, now: string): Promise<number> {
  const known = shopUser(userId);
  if (known !== undefined) return known.fuserId;
  const [rows] = await db.query<RowDataPacket[]>("SELECT ID FROM b_sale_fuser WHERE USER_ID = ? LIMIT 1", [
    userId,
  ]);
  if (rows[0] !== undefined) return Number(rows[0].ID);
  return insertRow(db, "b_sale_fuser", { DATE_INSERT: now, DATE_UPDATE: now, USER_ID: userId, CODE: null });
}

export async function insertBasketLine(
  db: PoolConnection,
  order: { id: number; fuserId: number; siteId: string; currency: string },
  line: BasketLine,
  now: string,
): Promise<number> {
  return insertRow(db, "b_sale_basket", {
    FUSER_ID: order.fuserId,
    ORDER_ID: order.id,
    PRODUCT_ID: line.productId,
    PRODUCT_PRICE_ID: line.productId,
    PRICE: line.price,
    CURRENCY: order.currency,
    BASE_PRICE: line.price + (line.discountPrice ?? 0),
    DATE_INSERT: now,
    DATE_UPDATE: now,
    QUANTITY: line.quantity,
    LID: order.siteId,
    NAME: line.name,
    MODULE: "catalog",
    PRODUCT_PROVIDER_CLASS: "\\Bitrix\\Catalog\\Product\\CatalogProvider",
    DISCOUNT_PRICE: line.discountPrice ?? 0,
    PRODUCT_XML_ID: line.productXmlId ?? null,
    MEASURE_CODE: 796,
    MEASURE_NAME: "шт",
    XML_ID: bitrixXmlId(),
  });
}

export async function realShipmentId(db: PoolConnection, orderId: number): Promise<number | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(
    "SELECT ID FROM b_sale_order_delivery WHERE ORDER_ID = ? AND `SYSTEM` = 'N' ORDER BY ID LIMIT 1",
    [orderId],
  );
  return rows[0] === undefined ? undefined : Number(rows[0].ID);
}

export async function writeProperty(
  db: PoolConnection,
  orderId: number,
  key: string,
  value: string,
): Promise<void> {
  const property = shopProperty(key);
  const [rows] = await db.query<RowDataPacket[]>(
    "SELECT ID FROM b_sale_order_props_value WHERE ORDER_ID = ? AND ORDER_PROPS_ID = ?",
    [orderId, property.id],
  );
  if (rows[0] !== undefined) {
    await db.query("UPDATE b_sale_order_props_value SET VALUE = ? WHERE ID = ?", [value, rows[0].ID]);
    return;
  }
  await insertRow(db, "b_sale_order_props_value", {
    ORDER_ID: orderId,
    ORDER_PROPS_ID: property.id,
    NAME: property.name,
    VALUE: value,
    CODE: property.code,
    ENTITY_ID: orderId,
    ENTITY_TYPE: "ORDER",
  });
}

/** PHP serialize() of a flat string map, byte lengths as PHP counts them (UTF-8). */
function phpSerialize(values: Record<string, string>): string {
  const item = (text: string) => `s:${Buffer.byteLength(text, "utf8")}:"${text}";`;
  const entries = Object.entries(values);
  return `a:${entries.length}:{${entries.map(([key, value]) => item(key) + item(value)).join("")}}`;
}

/** The ORDER_STATUS_CHANGED history row Order::save() adds after the order rows (DB clock). */
export async function insertStatusHistory(
  db: PoolConnection,
  id: number,
  status: string,
  oldStatus: string,
): Promise<void> {
  await db.query(
    "INSERT INTO b_sale_order_change (ORDER_ID, TYPE, DATA, DATE_CREATE, DATE_MODIFY, USER_ID, ENTITY, ENTITY_ID) " +
      "VALUES (?, 'ORDER_STATUS_CHANGED', ?, NOW(), NOW(), 0, 'ORDER', ?)",
    [id, phpSerialize({ STATUS_ID: status, OLD_STATUS_ID: oldStatus }), id],
  );
}
