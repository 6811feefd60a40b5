import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import mysql from "mysql2/promise";
import { createOrder } from "../support/bitrix-writer.js";
import { endpointFromEnv } from "../support/mariadb.js";
import {
  setupWriteback,
  TEST_BITRIX_TIMEZONE as TZ,
  type WritebackFixture,
} from "../support/writeback-fixture.js";

/**
 * A dedicated MySQL user holding exactly the grants a status write needs:
 * SELECT on the database, UPDATE on b_sale_order, INSERT on
 * b_sale_order_change and b_event. Dropped after the test.
 */
async function writebackUser(t: { after: (fn: () => Promise<void>) => void }, f: WritebackFixture) {
  const user = `cvety_wb_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const db = `\`${f.db.name}\``;
  await f.db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  t.after(async () => {
    // The fixture's own clean-up (registered first) has closed its pool by now.
    const admin = await mysql.createConnection(endpointFromEnv());
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
  });
  await f.db.query(`GRANT SELECT ON ${db}.* TO '${user}'@'%'`);
  await f.db.query(`GRANT UPDATE ON ${db}.b_sale_order TO '${user}'@'%'`);
  await f.db.query(`GRANT INSERT ON ${db}.b_sale_order_change TO '${user}'@'%'`);
  await f.db.query(`GRANT INSERT ON ${db}.b_event TO '${user}'@'%'`);
  await f.connectAs(user, password);
  return {
    revoke: (privilege: string, table: string) =>
      f.db.query(`REVOKE ${privilege} ON ${db}.${table} FROM '${user}'@'%'`),
    grant: (privilege: string, table: string) =>
      f.db.query(`GRANT ${privilege} ON ${db}.${table} TO '${user}'@'%'`),
  };
}

async function orderState(f: WritebackFixture, id: number) {
  const [order] = await f.db.query<{ STATUS_ID: string; VERSION: number; DATE_UPDATE: string }>(
    "SELECT STATUS_ID, VERSION, DATE_UPDATE, DATE_STATUS FROM b_sale_order WHERE ID = ?",
    [id],
  );
  const [history] = await f.db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM b_sale_order_change WHERE ORDER_ID = ?",
    [id],
  );
  return { ...order, history: Number(history!.n) };
}

test("a revoked UPDATE grant writes nothing, pauses with a clear error, and the change applies once granted again", async (t) => {
  const f = await setupWriteback(t, { prefix: "wb_grant" });
  const grants = await writebackUser(t, f);
  const first = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const second = await createOrder(f.db.pool, {}, { timeZone: TZ });
  f.feed.push({ order_id: first, status: "in_transit" });
  await f.tick();
  assert.equal((await orderState(f, first)).STATUS_ID, "DE", "the granted user can write");
  const cursor = f.store.getCursor("writeback");

  await grants.revoke("UPDATE", "b_sale_order");
  const before = await orderState(f, second);
  f.feed.push({ order_id: second, status: "completed" });
  await assert.rejects(f.tick(), /UPDATE command denied/);
  assert.deepEqual(await orderState(f, second), before, "nothing written");
  assert.deepEqual(f.store.getCursor("writeback"), cursor, "the cursor stays before the change");
  assert.equal(f.outcomes().length, 1, "the change is not settled");
  const pause = f.store.getPause();
  assert.equal(pause?.code, "E_WRITEBACK_GRANT");
  assert.match(pause?.reason ?? "", /MySQL refused a write-back statement, nothing was written/);
  assert.match(
    pause?.reason ?? "",
    /the MySQL user 'cvety_wb_[0-9a-f]+'@'[^']+' lacks UPDATE on b_sale_order: GRANT UPDATE ON `cvety_t_wb_grant_[0-9a-f]+`\.`b_sale_order` TO 'cvety_wb_[0-9a-f]+'@'[^']+'/,
  );
  const line = f.logLines().find((l) => l.msg === "write-back paused, retrying");
  assert.equal(line?.level, "error");

  await grants.grant("UPDATE", "b_sale_order");
  await f.tick();
  const after = await orderState(f, second);
  assert.equal(after.STATUS_ID, "F");
  assert.equal(after.history, 1);
  assert.equal(f.store.getPause(), undefined);
});

test("a write refused after the order row was updated rolls the whole change back", async (t) => {
  const f = await setupWriteback(t, { prefix: "wb_grant" });
  const grants = await writebackUser(t, f);
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  await grants.revoke("INSERT", "b_sale_order_change");
  const before = await orderState(f, id);
  f.feed.push({ order_id: id, status: "in_transit" });
  // The UPDATE of b_sale_order succeeds inside the transaction; the history INSERT is refused.
  await assert.rejects(f.tick(), /INSERT command denied/);
  assert.deepEqual(await orderState(f, id), before, "order row rolled back with the failed history line");
  assert.equal(f.store.getPause()?.code, "E_WRITEBACK_GRANT");
  assert.match(f.store.getPause()?.reason ?? "", /lacks INSERT on b_sale_order_change: GRANT INSERT ON /);
});
