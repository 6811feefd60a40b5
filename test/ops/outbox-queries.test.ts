import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NoStateError, openStateForOps } from "../../daemon/ops/open-state-for-ops.js";
import { OutboxQueries } from "../../daemon/ops/outbox-queries.js";
import { planRetry } from "../../daemon/ops/plan-retry.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import {
  type AttemptOutcome,
  type AttemptResult,
  type NewSnapshot,
  OutboxStore,
} from "../../daemon/outbox/outbox-store.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A daemon-side store (as the daemon opens it) and the CLI's connection beside it. */
function freshState() {
  const dir = mkdtempSync(join(tmpdir(), "cvety-ops-"));
  dirs.push(dir);
  const daemonDb = openStateDb(dir);
  const store = new OutboxStore(daemonDb);
  const cliDb = openStateForOps(dir, { write: true });
  after(() => {
    cliDb.close();
    daemonDb.close();
  });
  return { store, q: new OutboxQueries(cliDb), daemonDb };
}

function snap(orderId: number, version: number, dateUpdate = "2026-11-27 10:00:00"): NewSnapshot {
  return {
    orderId,
    version,
    dateUpdate,
    payload: JSON.stringify({ ID: String(orderId), VERSION: String(version) }),
    hash: `${orderId}-${version}-${dateUpdate}`,
    idempotencyKey: `bitrix-order-${orderId}-v${version}`,
  };
}

/** Sends the order's pending entry through the store with this outcome, as delivery would. */
function settle(store: OutboxStore, orderId: number, outcome: AttemptOutcome, dead: boolean): number {
  const entry = store.dueEntries(Date.now() + 3600_000, 1000).find((e) => e.orderId === orderId);
  assert.ok(entry, `order ${orderId} has a due entry`);
  const result: AttemptResult = {
    kind: "attempt",
    entry,
    event: entry.event,
    outcome,
    dead,
    httpStatus: outcome === "delivered" ? 200 : 422,
    error: outcome === "delivered" ? null : 'HTTP 422: {"detail":"PRICE is not a number"}',
    response: null,
    attemptedAt: Date.now(),
    durationMs: 5,
    ...(dead || outcome === "delivered" ? {} : { nextAttemptAt: Date.now() + 3600_000 }),
  };
  store.recordResults([result]);
  return entry.id;
}

function pendingOf(q: OutboxQueries, orderId: number) {
  return q.list({ orderId, state: "pending", limit: 10 }).rows;
}

test("the CLI never creates the state database, and names where it looked", () => {
  const dir = mkdtempSync(join(tmpdir(), "cvety-ops-"));
  dirs.push(dir);
  assert.throws(
    () => openStateForOps(join(dir, "state"), { write: true }),
    (err: unknown) => {
      assert.ok(err instanceof NoStateError);
      assert.match(err.message, /no state yet: .*state\/outbox\.db does not exist/);
      return true;
    },
  );
  assert.equal(existsSync(join(dir, "state")), false);
});

test("retrying a dead letter makes it pending and due now, with a fresh dead-letter clock", () => {
  const { store, q } = freshState();
  store.enqueue([snap(1, 3)], "capture");
  const id = settle(store, 1, "rejected", true);
  assert.equal(q.get(id)!.state, "dead");
  const [r] = q.retry([q.get(id)!], 1_000);
  assert.equal(r!.plan.kind, "requeue");
  const after = q.get(id)!;
  assert.equal(after.state, "pending");
  assert.equal(after.nextAttemptAt, 1_000);
  assert.equal(after.firstErrorAt, null);
  assert.equal(q.attempts(id).length, 1, "the attempt history stays");
});

test("a retried dead letter replaces the order's older pending entry: never two pending rows", () => {
  const { store, q } = freshState();
  store.enqueue([snap(2, 5)], "capture");
  const dead = settle(store, 2, "rejected", true);
  // An older snapshot of the same order queued after the dead letter (a resync, say).
  store.enqueue([snap(2, 4)], "resync");
  const [older] = pendingOf(q, 2);
  assert.equal(older!.version, 4);
  const [r] = q.retry([q.get(dead)!]);
  assert.deepEqual(r!.plan, { kind: "requeue", replacesId: older!.id });
  const pending = pendingOf(q, 2);
  assert.deepEqual(
    pending.map((p) => [p.id, p.version]),
    [[dead, 5]],
  );
  assert.equal(q.get(older!.id), undefined, "the older pending entry gave way");
});

test("a dead letter older than the order's pending entry is not re-sent; the pending one is made due", () => {
  const { store, q } = freshState();
  store.enqueue([snap(3, 1)], "capture");
  const dead = settle(store, 3, "rejected", true);
  store.enqueue([snap(3, 2)], "capture");
  const newer = pendingOf(q, 3)[0]!;
  settle(store, 3, "retry", false); // waits an hour
  const [r] = q.retry([q.get(dead)!], 2_000);
  assert.deepEqual(r!.plan, { kind: "superseded_by_pending", pendingId: newer.id });
  assert.equal(q.get(dead)!.state, "dead");
  assert.equal(q.get(newer.id)!.nextAttemptAt, 2_000);
  assert.equal(pendingOf(q, 3).length, 1);
});

test("a dead letter older than what the CRM has is not re-sent", () => {
  const { store, q } = freshState();
  store.enqueue([snap(4, 1)], "capture");
  const dead = settle(store, 4, "rejected", true);
  store.enqueue([snap(4, 2)], "capture");
  settle(store, 4, "delivered", false);
  const [r] = q.retry([q.get(dead)!]);
  assert.equal(r!.plan.kind, "superseded_by_delivered");
  assert.equal(q.get(dead)!.state, "dead");
  assert.equal(pendingOf(q, 4).length, 0);
});

test("a delivered entry can be sent again; a pending one is only made due", () => {
  const { store, q } = freshState();
  store.enqueue([snap(5, 7)], "capture");
  const id = settle(store, 5, "delivered", false);
  const [r] = q.retry([q.get(id)!], 3_000);
  assert.equal(r!.plan.kind, "requeue");
  assert.equal(q.get(id)!.state, "pending");
  assert.equal(q.get(id)!.deliveredAt, null);
  const [again] = q.retry([q.get(id)!], 4_000);
  assert.equal(again!.plan.kind, "due");
  assert.equal(q.get(id)!.nextAttemptAt, 4_000);
  assert.equal(store.dueEntries(5_000, 10)[0]?.id, id, "delivery picks it up");
});

test("--order and --dead select newest first, so only the newest of an order becomes pending", () => {
  const { store, q } = freshState();
  store.enqueue([snap(6, 1, "2026-11-27 10:00:00")], "capture");
  const v1 = settle(store, 6, "rejected", true);
  store.enqueue([snap(6, 2, "2026-11-27 10:00:05")], "capture");
  const v2 = settle(store, 6, "rejected", true);
  assert.deepEqual(
    q.deadLetters().map((e) => e.id),
    [v2, v1],
  );
  const results = q.retry(q.retryableOfOrder(6));
  assert.deepEqual(
    results.map((r) => [r.entry.id, r.plan.kind]),
    [
      [v2, "requeue"],
      [v1, "superseded_by_pending"],
    ],
  );
  assert.deepEqual(
    pendingOf(q, 6).map((p) => p.id),
    [v2],
  );
});

test("drop deletes the entry and its attempts", () => {
  const { store, q, daemonDb } = freshState();
  store.enqueue([snap(7, 1)], "capture");
  const id = settle(store, 7, "rejected", true);
  assert.equal(q.drop(id), true);
  assert.equal(q.get(id), undefined);
  assert.equal(
    daemonDb.prepare("SELECT COUNT(*) FROM delivery_attempts WHERE outbox_id = ?").pluck().get(id),
    0,
  );
  assert.equal(q.drop(id), false);
});

test("list filters by state, order and creation time, newest first, with the total", () => {
  const { store, q } = freshState();
  store.enqueue([snap(10, 1), snap(11, 1), snap(12, 1)], "capture");
  settle(store, 11, "rejected", true);
  assert.deepEqual(
    q.list({ limit: 2 }).rows.map((r) => r.orderId),
    [12, 11],
  );
  assert.equal(q.list({ limit: 2 }).total, 3);
  assert.deepEqual(
    q.list({ state: "dead", limit: 50 }).rows.map((r) => r.orderId),
    [11],
  );
  assert.equal(q.list({ sinceMs: Date.now() + 60_000, limit: 50 }).total, 0);
});

test("planRetry: equal snapshots count as superseded by the pending one", () => {
  const key = { version: 3, dateUpdate: "2026-11-27 10:00:00" };
  assert.deepEqual(planRetry({ id: 1, state: "dead", ...key }, { id: 2, ...key }, undefined), {
    kind: "superseded_by_pending",
    pendingId: 2,
  });
  assert.deepEqual(planRetry({ id: 1, state: "delivered", ...key }, undefined, key), { kind: "requeue" });
});

test("retry --order with an older pending and a newer dead entry: the dead one replaces the pending one", () => {
  const { store, q } = freshState();
  store.enqueue([snap(8, 5)], "capture");
  const dead = settle(store, 8, "rejected", true);
  store.enqueue([snap(8, 4)], "resync");
  const older = pendingOf(q, 8)[0]!.id;
  const results = q.retry(() => q.retryableOfOrder(8));
  assert.deepEqual(
    results.map((r) => [r.entry.id, r.plan]),
    [[dead, { kind: "requeue", replacesId: older }]],
    "the replaced entry is not reported as retried",
  );
  assert.deepEqual(
    pendingOf(q, 8).map((p) => p.id),
    [dead],
  );
});
