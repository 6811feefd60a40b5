import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { readSnapshots } from "../../daemon/capture/read-snapshots.js";
import { createMysqlPool, type MysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { seedShop } from "../support/bitrix-shop.js";
import { createOrder } from "../support/bitrix-writer.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "../support/mariadb.js";

let db: TestDatabase;
let pool: MysqlPool;

before(async () => {
  db = await createTestDatabase(endpointFromEnv(), { prefix: "snapshots" });
  await seedShop(db.pool);
  const e = db.endpoint;
  pool = createMysqlPool(
    { host: e.host, port: e.port, user: e.user, password: e.password, database: db.name, source: "test" },
    { connectTimeoutMs: 5000, poolSize: 2 },
  );
});
after(async () => {
  await pool.end();
  await db.drop();
});

test("reads many orders with their children in one pass, values as MySQL prints them", async () => {
  const a = await createOrder(db.pool);
  const b = await createOrder(db.pool, { properties: { nameRecipient: "Асель" } });
  const r = await readSnapshots(pool, [a, b, 999_999]);
  assert.deepEqual(r.missing, [999_999]);
  assert.deepEqual(r.moved, []);
  assert.deepEqual(
    r.snapshots.map((s) => s.orderId),
    [a, b],
  );
  const s = r.snapshots[1]!;
  assert.equal(s.basket.length, 3);
  assert.equal(s.properties.find((p) => p["CODE"] === "nameRecipient")?.["VALUE"], "Асель");
  assert.match(String(s.order["PRICE"]), /^\d+\.\d{4}$/);
  assert.match(String(s.order["DATE_UPDATE"]), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.ok(s.dateColumns.order.has("DATE_UPDATE") && s.dateColumns.order.has("DATE_INSERT"));
  assert.ok(!s.dateColumns.order.has("PRICE"));
  assert.equal(s.user?.["LOGIN"] !== undefined, true);
  assert.ok(
    s.shipments.every((x) => x["ID"] !== null),
    "real shipments only",
  );
  assert.equal(s.payments.length, 1);
});

test("an order whose VERSION moves while its children are read is reported as moved, never returned half", async () => {
  const id = await createOrder(db.pool);
  const locker = await db.pool.getConnection();
  try {
    await locker.query("LOCK TABLES b_sale_basket WRITE");
    const reading = readSnapshots(pool, [id]);
    // Wait until the reader is blocked on the basket, i.e. after it read the order row.
    for (let i = 0; i < 100; i++) {
      const [rows] = await db.pool.query(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock'",
      );
      if ((rows as { n: number }[])[0]!.n > 0) break;
      await sleep(20);
    }
    // A save starts meanwhile: Bitrix bumps VERSION in its first UPDATE.
    await db.pool.query("UPDATE b_sale_order SET VERSION = VERSION + 1 WHERE ID = ?", [id]);
    await locker.query("UNLOCK TABLES");
    const r = await reading;
    assert.deepEqual(r.moved, [id]);
    assert.equal(r.snapshots.length, 0);
  } finally {
    await locker.query("UNLOCK TABLES").catch(() => {});
    locker.release();
  }
  const again = await readSnapshots(pool, [id]);
  assert.equal(again.snapshots.length, 1, "read again once the save is over");
});
