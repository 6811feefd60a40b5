import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { CaptureService } from "../../daemon/capture/capture-service.js";
import { createLogger } from "../../daemon/log/create-logger.js";
import { createMetrics } from "../../daemon/metrics/metrics.js";
import { createMysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { WritebackStore } from "../../daemon/writeback/writeback-store.js";
import { seedShop } from "../support/bitrix-shop.js";
import { createOrder } from "../support/bitrix-writer.js";
import { createTestDatabase, endpointFromEnv } from "../support/mariadb.js";

/** A capture service on a fresh Bitrix database and state, with a clock the test moves. */
async function setupCapture(t: TestContext, prefix: string) {
  const db = await createTestDatabase(endpointFromEnv(), { prefix });
  const dir = mkdtempSync(join(tmpdir(), "cvety-capture-"));
  const e = db.endpoint;
  const mysql = createMysqlPool(
    { host: e.host, port: e.port, user: e.user, password: e.password, database: db.name, source: "test" },
    { connectTimeoutMs: 5000, poolSize: 2 },
  );
  const state = openStateDb(join(dir, "state"));
  t.after(async () => {
    state.close();
    await mysql.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  await seedShop(db.pool);
  const outbox = new OutboxStore(state);
  const writes = new WritebackStore(state);
  const clock = { nowMs: Date.parse("2026-01-01T10:00:00.300Z") };
  const capture = new CaptureService({
    settings: {
      poll_interval_ms: 100,
      lookback_s: 60,
      batch_size: 100,
      start_from: "2000-01-01",
      settle_ms: 1000,
    },
    timezone: "UTC",
    mysql,
    outbox,
    log: createLogger({ file: join(dir, "capture.log"), level: "silent" }).log,
    metrics: createMetrics(),
    clock: () => clock.nowMs,
    onEnqueued: () => {},
  });
  return { db, outbox, writes, capture, clock };
}

// Found by the chaos run: a status write-back landed in the middle of a Bitrix save (VERSION bumped, property
// not yet written); the save's last UPDATE wrote DATE_UPDATE in the write-back's second, so the row kept the
// write-back's (VERSION, DATE_UPDATE) and the half-saved snapshot read in between was the last the CRM got.
test("a write-back row is captured only once its DATE_UPDATE second is over, so a save finishing in that second is in it", async (t) => {
  const { db, outbox, writes, capture, clock } = await setupCapture(t, "capture_wb");
  const id = await createOrder(db.pool, {}, { dateUpdate: "2026-01-01 09:59:50" });
  await capture.tick();
  assert.deepEqual(outbox.capturedKeys([id]).get(id), { version: 0, dateUpdate: "2026-01-01 09:59:50" });

  // A manager's save begins (VERSION first); the CRM's status change is written in its middle, at 10:00:00.
  await db.query("UPDATE b_sale_order SET COMMENTS = 'manager', VERSION = VERSION + 1 WHERE ID = ?", [id]);
  await db.query(
    "UPDATE b_sale_order SET STATUS_ID = 'DE', DATE_STATUS = ?, VERSION = VERSION + 1, DATE_UPDATE = ? WHERE ID = ?",
    ["2026-01-01 10:00:00", "2026-01-01 10:00:00", id],
  );
  writes.recordWrite({ orderId: id, version: 2, dateUpdate: "2026-01-01 10:00:00", crmChangedAtUs: 1 });
  await capture.tick();
  assert.equal(outbox.capturedKeys([id]).get(id)?.version, 0, "not read while its second lasts");

  // The save writes its property and its last UPDATE, DATE_UPDATE in the same second: the key does not move.
  await db.query(
    "UPDATE b_sale_order_props_value SET VALUE = 'ул. Достык 5' WHERE ORDER_ID = ? AND CODE = 'addressRecipient'",
    [id],
  );
  await db.query("UPDATE b_sale_order SET DATE_UPDATE = ?, RUNNING = 'N' WHERE ID = ?", [
    "2026-01-01 10:00:00",
    id,
  ]);
  clock.nowMs = Date.parse("2026-01-01T10:00:01.100Z");
  await capture.tick();
  assert.deepEqual(outbox.capturedKeys([id]).get(id), { version: 2, dateUpdate: "2026-01-01 10:00:00" });
  const [entry] = outbox.dueEntries(Number.MAX_SAFE_INTEGER, 10);
  const data = JSON.parse(outbox.payloadOf(entry!.id)!) as {
    COMMENTS: string;
    properties: Record<string, string>;
  };
  assert.equal(data.COMMENTS, "manager");
  assert.equal(data.properties["addressRecipient"], "ул. Достык 5", "the whole save reaches the CRM");
});

// Found by the chaos run: a save whose VERSION bump was read after the settle wait ran out, and whose last
// UPDATE then wrote the DATE_UPDATE it had before (a legacy save writes the time it started, here the second
// of the order's previous save): the key (VERSION, DATE_UPDATE) never moves again.
test("a snapshot read while its key may still be final is read once more, and its finished content is queued", async (t) => {
  const { db, outbox, capture, clock } = await setupCapture(t, "capture_recheck");
  const id = await createOrder(db.pool, {}, { dateUpdate: "2026-01-01 10:00:00" });
  await capture.tick();
  assert.deepEqual(outbox.capturedKeys([id]).get(id), { version: 0, dateUpdate: "2026-01-01 10:00:00" });

  // A slow save begins: VERSION first, DATE_UPDATE untouched; the settle wait (1 s) runs out mid-save.
  await db.query("UPDATE b_sale_order SET COMMENTS = 'manager', VERSION = VERSION + 1 WHERE ID = ?", [id]);
  await capture.tick();
  assert.equal(outbox.capturedKeys([id]).get(id)?.version, 0, "waits while settling");
  clock.nowMs += 1_200;
  await capture.tick();
  assert.deepEqual(outbox.capturedKeys([id]).get(id), { version: 1, dateUpdate: "2026-01-01 10:00:00" });

  // The save ends: a property, then DATE_UPDATE as it was; the key stays (1, 10:00:00).
  await db.query(
    "UPDATE b_sale_order_props_value SET VALUE = 'ул. Достык 5' WHERE ORDER_ID = ? AND CODE = 'addressRecipient'",
    [id],
  );
  await db.query("UPDATE b_sale_order SET DATE_UPDATE = ? WHERE ID = ?", ["2026-01-01 10:00:00", id]);
  const address = () => {
    const pending = outbox.dueEntries(Number.MAX_SAFE_INTEGER, 10).filter((e) => e.orderId === id);
    assert.equal(pending.length, 1, "one pending entry per order");
    const data = JSON.parse(outbox.payloadOf(pending[0]!.id)!) as { properties: Record<string, string> };
    return data.properties["addressRecipient"];
  };
  await capture.tick();
  assert.notEqual(address(), "ул. Достык 5", "the scan alone sees nothing new");
  clock.nowMs += 5_000;
  await capture.tick();
  assert.equal(address(), "ул. Достык 5", "the re-read queues the finished save");

  // Read again later with nothing changed: nothing more is queued.
  const before = outbox.countsByState();
  clock.nowMs += 10_000;
  await capture.tick();
  assert.deepEqual(outbox.countsByState(), before);
});
