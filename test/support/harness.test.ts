/**
 * Proves the database side of the test harness: a fresh Bitrix database per file,
 * the shop seed, and orders written the way Bitrix writes them, including the
 * half-saved states a poller must cope with. The fake CRM is proven in
 * crm-server.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { SHOP, seedShop } from "./bitrix-shop.js";
import {
  bitrixNow,
  bulkInsertOrders,
  createOrder,
  rawUpdate,
  saveOrder,
  shiftBitrixTime,
} from "./bitrix-writer.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "./mariadb.js";

async function eventually<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("Bitrix test database", () => {
  let db: TestDatabase;
  let reader: mysql.Connection;

  before(async () => {
    db = await createTestDatabase(endpointFromEnv(), { prefix: "harness" });
    await seedShop(db.pool);
    // A second session, like the sidecar's: sees what Bitrix has committed so far.
    reader = await mysql.createConnection({ ...db.endpoint, database: db.name, dateStrings: true });
  });
  after(async () => {
    await reader?.end();
    await db?.drop();
  });

  test("is created with the Bitrix schema and a usable URL", async () => {
    const tables = await db.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [
      db.name,
    ]);
    const names = tables.map((row) => row.TABLE_NAME);
    for (const table of [
      "b_sale_order",
      "b_sale_basket",
      "b_sale_order_props_value",
      "b_user",
      "b_sale_status",
    ]) {
      assert.ok(names.includes(table), `${table} missing`);
    }
    assert.match(
      db.url,
      new RegExp(`^mysql://${db.endpoint.user}:.*@${db.endpoint.host}:${db.endpoint.port}/${db.name}$`),
    );
    const statuses = await db.query("SELECT ID, TYPE, NOTIFY FROM b_sale_status ORDER BY ID");
    assert.equal(statuses.length, SHOP.statuses.length);
    assert.deepEqual(
      statuses.find((s) => s.ID === "DF"),
      { ID: "DF", TYPE: "D", NOTIFY: "Y" },
    );
    const [ru] = await db.query("SELECT NAME FROM b_sale_status_lang WHERE STATUS_ID = 'CO' AND LID = 'ru'");
    assert.equal(ru?.NAME, "Собран");
  });

  test("createOrder leaves a finished order: RUNNING N, VERSION 0, ACCOUNT_NUMBER = ID, children", async () => {
    const id = await createOrder(db.pool);
    const [order] = await db.query("SELECT * FROM b_sale_order WHERE ID = ?", [id]);
    assert.ok(order);
    assert.equal(order.RUNNING, "N");
    assert.equal(order.VERSION, 0);
    assert.equal(order.ACCOUNT_NUMBER, String(id));
    assert.equal(order.USER_ID, SHOP.users[0]?.id);
    assert.equal(order.PRICE, "19501.0000"); // 15000 + 500 + 2 × 1250.50 + delivery 1500
    assert.equal(order.PRICE_DELIVERY, "1500.0000");
    assert.match(String(order.DATE_UPDATE), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(String(order.XML_ID), /^bx_[0-9a-f]{13}$/);

    const basket = await db.query(
      "SELECT NAME, PRICE, QUANTITY FROM b_sale_basket WHERE ORDER_ID = ? ORDER BY ID",
      [id],
    );
    assert.equal(basket.length, 3);
    assert.deepEqual(basket[0], { NAME: "Букет Стандарт", PRICE: "15000.0000", QUANTITY: 1 });
    assert.equal(basket[2]?.PRICE, "1250.5000");

    const values = await db.query(
      "SELECT CODE, NAME, VALUE FROM b_sale_order_props_value WHERE ORDER_ID = ?",
      [id],
    );
    const byCode = new Map(values.map((v) => [v.CODE === "" ? `name:${v.NAME}` : v.CODE, v.VALUE]));
    assert.equal(byCode.get("addressRecipient"), "ул. Кенесары 40, кв 12");
    assert.equal(byCode.get("postcardText"), "С днём рождения!");
    assert.equal(byCode.get("nameRecipient"), "Мадина");
    assert.equal(byCode.get("data"), "2025-08-27");
    assert.equal(byCode.get("shopId"), "17008");
    assert.equal(byCode.get("name:Комментарий курьеру"), "Домофон 12, третий этаж");

    const shipments = await db.query(
      "SELECT `SYSTEM` AS sys FROM b_sale_order_delivery WHERE ORDER_ID = ? ORDER BY ID",
      [id],
    );
    assert.deepEqual(
      shipments.map((s) => s.sys),
      ["Y", "N"],
    );
    const payments = await db.query(
      "SELECT `SUM` AS total, PAID FROM b_sale_order_payment WHERE ORDER_ID = ?",
      [id],
    );
    assert.deepEqual(payments, [{ total: "19501.0000", PAID: "N" }]);
  });

  test("createOrder shows RUNNING='Y' with its children arriving until the final update", async () => {
    const creating = createOrder(db.pool, { userId: SHOP.users[1]!.id }, { pauseBeforeFinalMs: 700 });
    const seen = await eventually(async () => {
      const [rows] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT ID, RUNNING FROM b_sale_order WHERE USER_ID = ? ORDER BY ID DESC LIMIT 1",
        [SHOP.users[1]!.id],
      );
      return rows[0];
    }, "the new order row");
    assert.equal(seen.RUNNING, "Y");
    const id = await creating;
    const [[done]] = await reader.query<mysql.RowDataPacket[]>(
      "SELECT RUNNING FROM b_sale_order WHERE ID = ?",
      [id],
    );
    assert.equal(done?.RUNNING, "N");
  });

  test("saveOrder bumps VERSION first and moves DATE_UPDATE only after the children", async () => {
    const created = "2025-08-26 10:12:41";
    const saved = "2025-08-26 10:20:00";
    const id = await createOrder(db.pool, {}, { dateUpdate: created });
    const saving = saveOrder(
      db.pool,
      id,
      { fields: { STATUS_ID: "AP" }, properties: { when: "20" } },
      { pauseAfterVersionBumpMs: 1000, dateUpdate: saved },
    );

    const midway = await eventually(async () => {
      const [rows] = await reader.query<mysql.RowDataPacket[]>(
        "SELECT VERSION, DATE_UPDATE, STATUS_ID, UPDATED_1C FROM b_sale_order WHERE ID = ? AND VERSION = 1",
        [id],
      );
      return rows[0];
    }, "the VERSION bump");
    assert.deepEqual({ ...midway }, { VERSION: 1, DATE_UPDATE: created, STATUS_ID: "AP", UPDATED_1C: "N" });
    const [[whenMidway]] = await reader.query<mysql.RowDataPacket[]>(
      "SELECT VALUE FROM b_sale_order_props_value WHERE ORDER_ID = ? AND CODE = 'when'",
      [id],
    );
    assert.equal(whenMidway?.VALUE, "18", "children are written after the pause");

    assert.deepEqual(await saving, { version: 1, dateUpdate: saved });
    const [order] = await db.query(
      "SELECT VERSION, DATE_UPDATE, DATE_STATUS, RUNNING FROM b_sale_order WHERE ID = ?",
      [id],
    );
    assert.deepEqual(order, { VERSION: 1, DATE_UPDATE: saved, DATE_STATUS: saved, RUNNING: "N" });
    const [when] = await db.query(
      "SELECT VALUE FROM b_sale_order_props_value WHERE ORDER_ID = ? AND CODE = 'when'",
      [id],
    );
    assert.equal(when?.VALUE, "20");
    const history = await db.query("SELECT TYPE, DATA FROM b_sale_order_change WHERE ORDER_ID = ?", [id]);
    assert.deepEqual(history, [
      { TYPE: "ORDER_STATUS_CHANGED", DATA: 'a:2:{s:9:"STATUS_ID";s:2:"AP";s:13:"OLD_STATUS_ID";s:1:"N";}' },
    ]);
  });

  test("saveOrder recomputes PRICE from basket changes; keepDateUpdate and rawUpdate leave DATE_UPDATE", async () => {
    const created = "2025-08-26 11:00:00";
    const id = await createOrder(db.pool, {}, { dateUpdate: created });
    const lines = await db.query<{ ID: number }>(
      "SELECT ID FROM b_sale_basket WHERE ORDER_ID = ? ORDER BY ID",
      [id],
    );
    const result = await saveOrder(
      db.pool,
      id,
      {
        basket: {
          removeIds: [lines[1]!.ID],
          updateQuantity: [{ basketId: lines[2]!.ID, quantity: 1 }],
          add: [{ productId: 1, name: "Розы красные 25 шт", price: 22000, quantity: 1 }],
        },
      },
      { keepDateUpdate: true },
    );
    assert.deepEqual(result, { version: 1, dateUpdate: created });
    const [order] = await db.query("SELECT PRICE FROM b_sale_order WHERE ID = ?", [id]);
    assert.equal(order?.PRICE, "39750.5000"); // 15000 + 1250.50 + 22000 + 1500
    const basket = await db.query("SELECT NAME FROM b_sale_basket WHERE ORDER_ID = ? ORDER BY ID", [id]);
    assert.equal(basket.length, 3);
    assert.equal(basket[2]?.NAME, "Розы красные 25 шт");

    await rawUpdate(db.pool, id, { TRACKING_NUMBER: "KZ123" });
    const [raw] = await db.query(
      "SELECT VERSION, DATE_UPDATE, TRACKING_NUMBER FROM b_sale_order WHERE ID = ?",
      [id],
    );
    assert.deepEqual(raw, { VERSION: 1, DATE_UPDATE: created, TRACKING_NUMBER: "KZ123" });
    await assert.rejects(rawUpdate(db.pool, id, { "ID = 1; --": 1 }), /no column/);
  });

  test("bulkInsertOrders loads finished orders with basket lines and properties", async () => {
    const { firstId, lastId } = await bulkInsertOrders(db.pool, 500, {
      dateUpdate: "2025-08-01 09:00:00",
      basketLines: 3,
      properties: 12,
      batchSize: 120,
    });
    assert.equal(lastId - firstId + 1, 500);
    const [counts] = await db.query(
      "SELECT COUNT(*) AS orders, SUM(RUNNING = 'N') AS finished, MIN(VERSION) AS v FROM b_sale_order WHERE ID BETWEEN ? AND ?",
      [firstId, lastId],
    );
    assert.deepEqual({ ...counts }, { orders: 500, finished: "500", v: 0 });
    const [basket] = await db.query(
      "SELECT COUNT(*) AS n FROM b_sale_basket WHERE ORDER_ID BETWEEN ? AND ?",
      [firstId, lastId],
    );
    assert.equal(basket?.n, 1500);
    const [values] = await db.query(
      "SELECT COUNT(*) AS n FROM b_sale_order_props_value WHERE ORDER_ID BETWEEN ? AND ?",
      [firstId, lastId],
    );
    assert.equal(values?.n, 6000);
  });

  test("bitrixNow writes the wall clock of a zone in whole seconds", () => {
    const at = new Date("2025-08-26T05:12:41.900Z");
    assert.equal(bitrixNow("UTC", at), "2025-08-26 05:12:41");
    assert.equal(bitrixNow("Asia/Almaty", at), "2025-08-26 10:12:41");
    assert.match(bitrixNow(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(shiftBitrixTime("2025-12-31 23:59:30", 45), "2026-01-01 00:00:15");
  });
});
