/**
 * The housekeeping jobs run directly (no scheduler) against a real MariaDB
 * and a real state database: what they queue, skip, delete and report.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, type TestContext, test } from "node:test";
import pino from "pino";
import { outboxSnapshotOf } from "../../daemon/capture/build-order-data.js";
import { readSnapshots } from "../../daemon/capture/read-snapshots.js";
import { runCheckpoint } from "../../daemon/housekeeping/checkpoint-state.js";
import { runDailySummary } from "../../daemon/housekeeping/daily-summary.js";
import { runFullSweep } from "../../daemon/housekeeping/full-sweep.js";
import { HousekeepingStore, SWEEP_FLOOR_KEY } from "../../daemon/housekeeping/housekeeping-store.js";
import { runPrune } from "../../daemon/housekeeping/prune-state.js";
import { runReconciliationSweep } from "../../daemon/housekeeping/reconciliation-sweep.js";
import type { SweepDeps } from "../../daemon/housekeeping/sweep-io.js";
import { createMysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { type AttemptResult, type OutboxEntry, OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { WritebackStore } from "../../daemon/writeback/writeback-store.js";
import { seedShop } from "../support/bitrix-shop.js";
import { bitrixNow, createOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { createTestDatabase, endpointFromEnv } from "../support/mariadb.js";

const dirs: string[] = [];
const never = new AbortController().signal;

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh Bitrix database and a fresh state per test (orders of one test must not be
 * "never seen" orders of the next), with capture's cursor at Bitrix's "now", so an
 * hour-old order lies inside the sweep window and outside capture's look-back.
 */
async function freshState(t: TestContext, clock: () => number = Date.now) {
  const db = await createTestDatabase(endpointFromEnv(), { prefix: "housekeeping" });
  await seedShop(db.pool);
  const e = db.endpoint;
  const pool = createMysqlPool(
    { host: e.host, port: e.port, user: e.user, password: e.password, database: db.name, source: "test" },
    { connectTimeoutMs: 5000, poolSize: 2 },
  );
  const dir = mkdtempSync(join(tmpdir(), "cvety-housekeeping-"));
  dirs.push(dir);
  const state = openStateDb(dir);
  t.after(async () => {
    state.close();
    await pool.end();
    await db.drop();
  });
  const outbox = new OutboxStore(state, clock);
  outbox.setCursor("capture", { dateUpdate: bitrixNow(), orderId: 0 });
  const store = new HousekeepingStore(state);
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  let woken = 0;
  const deps: SweepDeps = {
    mysql: pool,
    outbox,
    store,
    log,
    captureLookbackS: 60,
    settleMs: 50,
    onEnqueued: () => {
      woken++;
    },
  };
  /** An order whose last save was `ageS` seconds ago. */
  const order = (ageS = 3600) =>
    createOrder(db.pool, {}, { dateUpdate: shiftBitrixTime(bitrixNow(), -ageS) });
  /** What capture and delivery would have done: snapshot queued, then delivered. */
  const captureAndDeliver = async (ids: number[]) => {
    const r = await readSnapshots(pool, ids);
    outbox.enqueue(r.snapshots.map(outboxSnapshotOf), "capture");
    const due = outbox.dueEntries(Date.now() + 1, 1000);
    outbox.recordResults(due.map((entry) => attempt(entry, "delivered", Date.now())));
  };
  return { db, pool, state, outbox, store, deps, lines, woken: () => woken, order, captureAndDeliver };
}

function attempt(entry: OutboxEntry, outcome: "delivered" | "retry" | "rejected", at: number): AttemptResult {
  return {
    kind: "attempt",
    entry,
    event: entry.event,
    outcome,
    dead: outcome === "rejected",
    nextAttemptAt: at + 1000,
    httpStatus: outcome === "delivered" ? 200 : outcome === "retry" ? 503 : 422,
    error: outcome === "delivered" ? null : `HTTP ${outcome}`,
    response: null,
    attemptedAt: at,
    durationMs: 5,
  };
}

function pendingRows(outbox: OutboxStore) {
  return outbox.db
    .prepare("SELECT order_id, version, reason, event FROM outbox WHERE state = 'pending' ORDER BY order_id")
    .all() as Array<{ order_id: number; version: number; reason: string; event: string }>;
}

test("the sweep queues an order whose VERSION moved by raw SQL without DATE_UPDATE, and nothing unchanged", async (t) => {
  const s = await freshState(t);
  const bumped = await s.order();
  const untouched = await s.order();
  await s.captureAndDeliver([bumped, untouched]);
  await s.db.pool.query("UPDATE b_sale_order SET VERSION = VERSION + 1, PRICE = PRICE + 500 WHERE ID = ?", [
    bumped,
  ]);

  const report = await runReconciliationSweep(s.deps, { windowHours: 48, pageSize: 500 }, never);
  assert.equal(report.msg, "reconciliation sweep done");
  assert.equal(report.fields["queued"], 1);
  assert.deepEqual(report.fields["orderIds"], [bumped]);
  assert.equal(report.fields["versionOnly"], 1);
  assert.deepEqual(pendingRows(s.outbox), [
    { order_id: bumped, version: 1, reason: "sweep", event: "order.update" },
  ]);
  assert.equal(s.woken(), 1, "delivery was woken");
  assert.ok(s.lines.some((l) => l["msg"] === "order queued by sweep" && l["orderId"] === bumped));

  const again = await runReconciliationSweep(s.deps, { windowHours: 48, pageSize: 500 }, never);
  assert.equal(again.fields["queued"], 0);
  assert.equal(
    (again.fields["skipped"] as Record<string, number>)["pending"],
    1,
    "pending orders are left alone",
  );
});

test("the sweep never queues the row write-back wrote, nor a RUNNING order", async (t) => {
  const s = await freshState(t);
  const written = await s.order();
  const running = await s.order();
  await s.captureAndDeliver([written, running]);
  // Write-back's status change: VERSION+1, a new DATE_UPDATE (older than capture's look-back here,
  // as if capture never met the row), recorded in writeback_writes before its COMMIT.
  const writtenAt = shiftBitrixTime(bitrixNow(), -1800);
  await s.db.pool.query(
    "UPDATE b_sale_order SET STATUS_ID = 'AP', VERSION = VERSION + 1, DATE_UPDATE = ? WHERE ID = ?",
    [writtenAt, written],
  );
  new WritebackStore(s.state).recordWrite({
    orderId: written,
    version: 1,
    dateUpdate: writtenAt,
    crmChangedAtUs: Date.now() * 1000,
  });
  await s.db.pool.query("UPDATE b_sale_order SET RUNNING = 'Y', VERSION = VERSION + 1 WHERE ID = ?", [
    running,
  ]);

  const report = await runReconciliationSweep(s.deps, { windowHours: 48, pageSize: 500 }, never);
  assert.equal(report.fields["queued"], 0);
  assert.deepEqual(report.fields["notQueued"], { unchanged: 0, older: 0, echo: 1 });
  assert.equal((report.fields["skipped"] as Record<string, number>)["running"], 1);
  assert.deepEqual(pendingRows(s.outbox), []);
  assert.equal(s.woken(), 0);
});

test("the sweep leaves never-seen orders before the floor alone and reports the window", async (t) => {
  const s = await freshState(t);
  const seen = await s.order();
  await s.captureAndDeliver([seen]);
  const beforeStart = await s.order(7200);
  const report = await runReconciliationSweep(s.deps, { windowHours: 48, pageSize: 2 }, never);
  assert.equal(report.fields["queued"], 0);
  assert.ok((report.fields["skipped"] as Record<string, number>)["beforeFloor"]! >= 1);
  assert.ok(!pendingRows(s.outbox).some((r) => r.order_id === beforeStart));
  const floor = s.state.prepare("SELECT value FROM runtime_state WHERE key = ?").pluck().get(SWEEP_FLOOR_KEY);
  assert.ok(typeof floor === "string" && JSON.parse(floor) <= shiftBitrixTime(bitrixNow(), -3600));
  const window = report.fields["window"] as { from: string; to: string };
  const cursor = s.outbox.getCursor<{ dateUpdate: string }>("capture")!.dateUpdate;
  assert.equal(window.to, shiftBitrixTime(cursor, -60), "up to where capture's own re-scan starts");
  assert.equal(window.from, shiftBitrixTime(cursor, -60 - 48 * 3600));
});

test("the full sweep queues an order whose basket changed with neither VERSION nor DATE_UPDATE moving", async (t) => {
  const s = await freshState(t);
  const changed = await s.order();
  const same = await s.order();
  await s.captureAndDeliver([changed, same]);
  await s.db.pool.query(
    "UPDATE b_sale_basket SET PRICE = PRICE + 1000 WHERE ORDER_ID = ? ORDER BY ID LIMIT 1",
    [changed],
  );

  const report = await runFullSweep(s.deps, { chunkSize: 10, pauseMs: 0 }, never);
  assert.equal(report.msg, "full sweep done");
  assert.deepEqual(report.fields["orderIds"], [changed]);
  assert.equal(report.fields["queued"], 1);
  assert.ok((report.fields["same"] as number) >= 1);
  assert.ok((report.fields["chunks"] as number) >= 1);
  assert.equal(typeof report.fields["chunkMsMax"], "number");
  assert.deepEqual(pendingRows(s.outbox), [
    { order_id: changed, version: 0, reason: "sweep", event: "order.update" },
  ]);

  // Delivered: the next full sweep finds nothing to send.
  s.outbox.recordResults(
    s.outbox.dueEntries(Date.now() + 1, 10).map((e) => attempt(e, "delivered", Date.now())),
  );
  const again = await runFullSweep(s.deps, { chunkSize: 10, pauseMs: 0 }, never);
  assert.equal(again.fields["queued"], 0);
  assert.deepEqual(pendingRows(s.outbox), []);
});

test("the full sweep does not re-send a dead letter's content every night", async (t) => {
  const s = await freshState(t);
  const id = await s.order();
  const r = await readSnapshots(s.pool, [id]);
  s.outbox.enqueue(r.snapshots.map(outboxSnapshotOf), "capture");
  s.outbox.recordResults(
    s.outbox.dueEntries(Date.now() + 1, 10).map((e) => attempt(e, "rejected", Date.now())),
  );
  const report = await runFullSweep(s.deps, { chunkSize: 500, pauseMs: 0 }, never);
  assert.equal(report.fields["queued"], 0);
  assert.deepEqual(pendingRows(s.outbox), []);
});

test("an aborted full sweep stops between chunks", async (t) => {
  const s = await freshState(t);
  const abort = new AbortController();
  abort.abort();
  const report = await runFullSweep(s.deps, { chunkSize: 1, pauseMs: 0 }, abort.signal);
  assert.equal(report.fields["chunks"], 0);
});

test("prune deletes old delivered rows and their attempts, keeps dead letters, delivered_orders and recent rows", async (t) => {
  const now = Date.now();
  const old = now - 20 * 86_400_000;
  let clock = old;
  const s = await freshState(t, () => clock);
  const snap = (orderId: number, version: number) => ({
    orderId,
    version,
    dateUpdate: "2026-11-01 10:00:00",
    payload: "{}",
    hash: `${orderId}-${version}`,
    idempotencyKey: `k${orderId}-${version}`,
  });
  // Old: 1 delivered, 2 dead; 3 pending with 60 failed attempts.
  s.outbox.enqueue([snap(1, 1), snap(2, 1), snap(3, 1)], "capture");
  const [e1, e2, e3] = s.outbox.dueEntries(now + 1, 10);
  s.outbox.recordResults([
    attempt(e1!, "retry", old),
    attempt(e1!, "delivered", old + 1),
    attempt(e2!, "rejected", old),
  ]);
  for (let i = 0; i < 60; i++) s.outbox.recordResults([attempt(e3!, "retry", old + i)]);
  // Recent: 4 delivered today.
  clock = now;
  s.outbox.enqueue([snap(4, 1)], "capture");
  const [e4] = s.outbox.dueEntries(now + 1, 10).filter((e) => e.orderId === 4);
  s.outbox.recordResults([attempt(e4!, "delivered", now)]);
  // Write-back history: one old, one recent of each.
  s.state.exec(`
    INSERT INTO writeback_changes (source, change_key, outcome, raw, recorded_at) VALUES
      ('feed', 'old', 'applied', '{}', ${old}), ('feed', 'new', 'applied', '{}', ${now});
    INSERT INTO writeback_writes (order_id, version, date_update, crm_changed_at_us, written_at) VALUES
      (1, 2, '2026-11-01 10:00:00', 1, ${old}), (4, 2, '2026-11-27 10:00:00', 1, ${now});
  `);

  const report = await runPrune(
    s.store,
    {
      keepDeliveredDays: 14,
      keepAttemptsPerEntry: 50,
      keepWritebackChangesDays: 7,
      keepWritebackWritesHours: 72,
    },
    never,
    now,
  );
  assert.equal(report.msg, "state pruned");
  assert.deepEqual(report.fields["deleted"], {
    deliveredRows: 1,
    attempts: 2 + 10,
    orphanAttempts: 0,
    writebackChanges: 1,
    writebackWrites: 1,
  });
  const rows = s.state.prepare("SELECT order_id, state FROM outbox ORDER BY order_id").all();
  assert.deepEqual(rows, [
    { order_id: 2, state: "dead" },
    { order_id: 3, state: "pending" },
    { order_id: 4, state: "delivered" },
  ]);
  const attemptsOf = (orderId: number) =>
    s.state.prepare("SELECT COUNT(*) FROM delivery_attempts WHERE order_id = ?").pluck().get(orderId);
  assert.equal(attemptsOf(1), 0);
  assert.equal(attemptsOf(2), 1, "a dead letter keeps its attempt");
  assert.equal(attemptsOf(3), 50, "a long-retrying entry keeps its newest 50");
  const newestKept = s.state
    .prepare("SELECT MIN(attempted_at) FROM delivery_attempts WHERE order_id = 3")
    .pluck()
    .get();
  assert.equal(newestKept, old + 10, "the oldest ten went");
  assert.deepEqual(
    s.state.prepare("SELECT order_id FROM delivered_orders ORDER BY order_id").pluck().all(),
    [1, 4],
    "the sweeps still compare with order 1's delivered key",
  );
  assert.deepEqual(s.state.prepare("SELECT change_key FROM writeback_changes").pluck().all(), ["new"]);
  assert.deepEqual(s.state.prepare("SELECT order_id FROM writeback_writes").pluck().all(), [4]);
});

test("after pruning an order's delivered rows, the sweeps still know it was delivered and send nothing", async (t) => {
  const now = Date.now();
  let clock = now - 30 * 86_400_000;
  const s = await freshState(t, () => clock);
  const id = await s.order();
  const r = await readSnapshots(s.pool, [id]);
  s.outbox.enqueue(r.snapshots.map(outboxSnapshotOf), "capture");
  s.outbox.recordResults(s.outbox.dueEntries(now, 10).map((e) => attempt(e, "delivered", clock)));
  clock = now;
  const pruned = await runPrune(
    s.store,
    {
      keepDeliveredDays: 14,
      keepAttemptsPerEntry: 50,
      keepWritebackChangesDays: 30,
      keepWritebackWritesHours: 168,
    },
    never,
    now,
  );
  assert.equal((pruned.fields["deleted"] as Record<string, number>)["deliveredRows"], 1);
  assert.equal(s.state.prepare("SELECT COUNT(*) FROM outbox").pluck().get(), 0);

  const sweep = await runReconciliationSweep(s.deps, { windowHours: 48, pageSize: 500 }, never);
  const full = await runFullSweep(s.deps, { chunkSize: 500, pauseMs: 0 }, never);
  assert.equal(sweep.fields["queued"], 0);
  assert.equal(sweep.fields["inSync"], 1);
  assert.equal(full.fields["queued"], 0);
  assert.equal(full.fields["same"], 1);
  assert.deepEqual(pendingRows(s.outbox), []);
});

test("checkpoint truncates the WAL; the daily summary counts the last 24 hours", async (t) => {
  const s = await freshState(t);
  const id = await s.order();
  await s.captureAndDeliver([id]);
  const checkpoint = await runCheckpoint(s.store);
  assert.equal(checkpoint.msg, "state checkpointed");
  assert.equal(checkpoint.fields["busy"], 0);
  assert.ok((checkpoint.fields["walBytesBefore"] as number) > 0, "the writes were in the WAL");
  assert.equal(checkpoint.fields["walBytesAfter"], 0, "TRUNCATE empties it");
  const summary = await runDailySummary(s.store);
  assert.equal(summary.msg, "daily summary");
  assert.equal(summary.fields["queued"], 1);
  assert.equal(summary.fields["delivered"], 1);
  assert.equal(summary.fields["failedAttempts"], 0);
  assert.equal(summary.fields["deadLetters"], 0);
  assert.equal(summary.fields["pending"], 0);
});
