/**
 * Fast loading of many finished orders for benchmarks: multi-row INSERT ... VALUES
 * batches over a few connections in parallel, with explicit ids (MAX(ID)+1 up), so
 * children can reference their order without a round trip. Not how Bitrix writes,
 * but the result is what Bitrix leaves behind: RUNNING='N', VERSION=0 (see
 * bitrix-writer.ts), ACCOUNT_NUMBER = ID, every row sharing the given DATE_UPDATE.
 * Assumes no other writer inserts orders meanwhile. Call seedShop() first so the
 * users, properties and statuses referenced here exist.
 */
import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";
import { DEFAULT_PROPERTIES } from "./bitrix-order-spec.js";
import { SHOP } from "./bitrix-shop.js";
import { insertRows, type SqlValue } from "./sql-rows.js";

export interface BulkInsertOptions {
  /** DATE_INSERT, DATE_STATUS and DATE_UPDATE of every order (`YYYY-MM-DD HH:MM:SS`). */
  dateUpdate: string;
  /** Basket lines per order (default 0). */
  basketLines?: number;
  /** Property values per order, the first N shop properties (default 0, at most 20). */
  properties?: number;
  /** Orders per INSERT (default 2000). */
  batchSize?: number;
  /** Parallel connections (default 4). */
  connections?: number;
  statusId?: string;
}

/** Child rows per INSERT: keeps a statement well under max_allowed_packet (16 MB default). */
const MAX_CHILD_ROWS_PER_INSERT = 5000;
const PRICE_DELIVERY = 1500;
const BOUQUETS: ReadonlyArray<readonly [string, number]> = [
  ["Букет Стандарт", 15000],
  ["Букет «Нежность»", 18500],
  ["Розы красные 25 шт", 22000],
  ["Открытка «С любовью»", 500],
  ["Шоколад Рахат «Казахстанский»", 1250.5],
];

// biome-ignore format: a column list reads better packed
const ORDER_COLUMNS = [
  "ID", "LID", "PERSON_TYPE_ID", "PAYED", "CANCELED", "STATUS_ID", "DATE_STATUS", "PRICE_DELIVERY", "PRICE",
  "CURRENCY", "USER_ID", "PAY_SYSTEM_ID", "DELIVERY_ID", "DATE_INSERT", "DATE_UPDATE", "ACCOUNT_NUMBER", "XML_ID",
  "VERSION", "RUNNING", "UPDATED_1C",
] as const;

// biome-ignore format: a column list reads better packed
const BASKET_COLUMNS = [
  "FUSER_ID", "ORDER_ID", "PRODUCT_ID", "PRICE", "CURRENCY", "BASE_PRICE", "DATE_INSERT", "DATE_UPDATE", "QUANTITY",
  "LID", "NAME", "DISCOUNT_PRICE", "MODULE", "PRODUCT_XML_ID",
] as const;

const PROPERTY_COLUMNS = [
  "ORDER_ID",
  "ORDER_PROPS_ID",
  "NAME",
  "VALUE",
  "CODE",
  "ENTITY_ID",
  "ENTITY_TYPE",
] as const;

function bouquet(orderId: number, line: number): readonly [string, number] {
  return BOUQUETS[(orderId + line) % BOUQUETS.length]!;
}

function propertyValue(code: string, name: string, type: string, orderId: number): string {
  if (type === "Y/N") return "N";
  if (code === "phone" || code === "phoneRecipient")
    return `+7701${String(orderId % 10_000_000).padStart(7, "0")}`;
  return DEFAULT_PROPERTIES[code === "" ? name : code] ?? `${name} ${orderId}`;
}

async function insertChunked(
  db: PoolConnection,
  table: string,
  columns: readonly string[],
  rows: SqlValue[][],
) {
  for (let start = 0; start < rows.length; start += MAX_CHILD_ROWS_PER_INSERT) {
    await insertRows(db, table, columns, rows.slice(start, start + MAX_CHILD_ROWS_PER_INSERT));
  }
}

async function insertBatch(db: PoolConnection, firstId: number, count: number, opts: BulkInsertOptions) {
  const lines = opts.basketLines ?? 0;
  const properties = SHOP.properties.slice(0, Math.min(opts.properties ?? 0, SHOP.properties.length));
  const when = opts.dateUpdate;
  const orders: SqlValue[][] = [];
  const basket: SqlValue[][] = [];
  const values: SqlValue[][] = [];
  for (let id = firstId; id < firstId + count; id++) {
    const user = SHOP.users[id % SHOP.users.length]!;
    let basketSum = 0;
    for (let line = 0; line < lines; line++) {
      const [name, price] = bouquet(id, line);
      basketSum += price;
      const productId = 696_000 + ((id + line) % BOUQUETS.length);
      // biome-ignore format: one row per line
      basket.push([
        user.fuserId, id, productId, price, SHOP.currency, price, when, when, 1,
        SHOP.siteId, name, 0, "catalog", String(productId),
      ]);
    }
    const price = Math.round((basketSum + PRICE_DELIVERY) * 100) / 100;
    // biome-ignore format: one row per line
    orders.push([
      id, SHOP.siteId, SHOP.personTypeId, "N", "N", opts.statusId ?? "N", when, PRICE_DELIVERY, price,
      SHOP.currency, user.id, SHOP.paySystems.cash.id, String(SHOP.deliveries.courier.id), when, when, String(id),
      `bx_bulk${id.toString(16)}`, 0, "N", "N",
    ]);
    for (const property of properties) {
      const value = propertyValue(property.code, property.name, property.type, id);
      values.push([id, property.id, property.name, value, property.code, id, "ORDER"]);
    }
  }
  // Children first: a reader polling by DATE_UPDATE never finds an order without them.
  await insertChunked(db, "b_sale_basket", BASKET_COLUMNS, basket);
  await insertChunked(db, "b_sale_order_props_value", PROPERTY_COLUMNS, values);
  await insertRows(db, "b_sale_order", ORDER_COLUMNS, orders);
}

export async function bulkInsertOrders(
  pool: Pool,
  count: number,
  opts: BulkInsertOptions,
): Promise<{ firstId: number; lastId: number }> {
  const [rows] = await pool.query<RowDataPacket[]>("SELECT COALESCE(MAX(ID), 0) AS maxId FROM b_sale_order");
  const firstId = Number(rows[0]?.maxId ?? 0) + 1;
  const batchSize = opts.batchSize ?? 2000;
  let next = firstId;
  const end = firstId + count;

  const worker = async () => {
    const db = await pool.getConnection();
    try {
      while (next < end) {
        const start = next;
        const size = Math.min(batchSize, end - start);
        next += size;
        await insertBatch(db, start, size, opts);
      }
    } finally {
      db.release();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.connections ?? 4) }, worker));
  return { firstId, lastId: end - 1 };
}
