import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { MIGRATIONS } from "../../daemon/outbox/migrations.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { type AttemptResult, type NewSnapshot, OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { WritebackStore } from "../../daemon/writeback/writeback-store.js";
import { PACKAGE_ROOT } from "../support/package-root.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshStore(clock: () => number = Date.now) {
  const dir = mkdtempSync(join(tmpdir(), "cvety-outbox-"));
  dirs.push(dir);
  const db = openStateDb(dir);
  return { db, store: new OutboxStore(db, clock), dir };
}

function snap(orderId: number, version: number, dateUpdate: string, content = `v${version}`): NewSnapshot {
  return {
    orderId,
    version,
    dateUpdate,
    payload: JSON.stringify({ ID: String(orderId), VERSION: String(version), content }),
    hash: `${orderId}-${version}-${dateUpdate}-${content}`,
    idempotencyKey: `bitrix-order-${orderId}-v${version}`,
  };
}

function delivered(entry: ReturnType<OutboxStore["dueEntries"]>[number]): AttemptResult {
  return {
    kind: "attempt",
    entry,
    event: entry.event,
    outcome: "delivered",
    dead: false,
    httpStatus: 200,
    error: null,
    response: null,
    attemptedAt: Date.now(),
    durationMs: 3,
  };
}

test("the migrated schema matches the committed snapshot", () => {
  const { db } = freshStore();
  const actual = (
    db.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name").all() as {
      sql: string;
    }[]
  )
    .map((r) => `${r.sql.replace(/\s+/g, " ").trim()};`)
    .join("\n");
  const expected = readFileSync(join(PACKAGE_ROOT, "test/outbox/state-schema.snapshot.sql"), "utf8").trim();
  assert.equal(
    actual,
    expected,
    "update test/outbox/state-schema.snapshot.sql together with a new migration",
  );
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("synchronous", { simple: true }), 2, "synchronous=FULL");
});

test("re-opening runs no migration twice", () => {
  const { dir, db } = freshStore();
  db.close();
  const again = openStateDb(dir);
  const rows = again.prepare("SELECT version FROM schema_migrations").all();
  assert.equal(rows.length, MIGRATIONS.length);
  again.close();
});

test("a newer snapshot replaces the pending one; only the newest is left to send", () => {
  const { store } = freshStore();
  const [first] = store.enqueue([snap(1, 2, "2025-08-26 10:00:00")], "capture");
  assert.equal(first!.outcome, "enqueued");
  assert.equal(first!.event, "order.create");
  const [second] = store.enqueue([snap(1, 3, "2025-08-26 10:00:05")], "capture");
  assert.equal(second!.outcome, "replaced");
  assert.equal(second!.replacedId, first!.outboxId);
  const due = store.dueEntries(Date.now() + 1, 10);
  assert.deepEqual(
    due.map((e) => [e.orderId, e.version]),
    [[1, 3]],
  );
});

test("an older snapshot never replaces a newer pending or delivered one", () => {
  const { store } = freshStore();
  store.enqueue([snap(1, 3, "2025-08-26 10:00:05")], "capture");
  assert.equal(store.enqueue([snap(1, 2, "2025-08-26 10:00:00")], "sweep")[0]!.outcome, "older");
  const [entry] = store.dueEntries(Date.now() + 1, 10);
  store.recordResults([delivered(entry!)]);
  assert.equal(store.enqueue([snap(1, 2, "2025-08-26 10:00:00")], "sweep")[0]!.outcome, "older");
  assert.equal(store.enqueue([snap(1, 3, "2025-08-26 10:00:05")], "capture")[0]!.outcome, "unchanged");
  const next = store.enqueue([snap(1, 3, "2025-08-26 10:00:05")], "resync", { force: true })[0]!;
  assert.equal(next.outcome, "enqueued", "resync re-sends identical content when forced");
  assert.equal(next.event, "order.update", "after a delivery the event is order.update");
});

/** A snapshot whose payload has the order columns a status write-back sets, and others. */
function orderSnap(
  orderId: number,
  version: number,
  dateUpdate: string,
  fields: Record<string, string>,
): NewSnapshot {
  const payload = JSON.stringify({
    ID: String(orderId),
    VERSION: String(version),
    DATE_UPDATE: dateUpdate,
    ...fields,
  });
  return { ...snap(orderId, version, dateUpdate), payload, hash: payload };
}

test("the row a status write-back produced is not queued as a change, unless an older snapshot is pending", () => {
  const { db, store } = freshStore();
  const writes = new WritebackStore(db);
  const [first] = store.enqueue([snap(1, 3, "2025-08-26 10:00:00", "same")], "capture");
  store.recordResults([delivered(store.dueEntries(Date.now() + 1, 10)[0]!)]);
  assert.equal(first!.outcome, "enqueued");
  writes.recordWrite({ orderId: 1, version: 4, dateUpdate: "2025-08-26 10:00:05", crmChangedAtUs: 1 });
  assert.equal(store.enqueue([snap(1, 4, "2025-08-26 10:00:05", "same")], "capture")[0]!.outcome, "echo");
  assert.deepEqual(store.dueEntries(Date.now() + 1, 10), []);
  assert.deepEqual(
    store.capturedKeys([1]).get(1),
    { version: 4, dateUpdate: "2025-08-26 10:00:05" },
    "deduped later",
  );
  assert.equal(
    store.enqueue([snap(1, 5, "2025-08-26 10:00:09")], "capture")[0]!.outcome,
    "enqueued",
    "a later save is",
  );

  // Order 2: the CRM still waits for an older Bitrix save when write-back writes over it.
  store.enqueue([snap(2, 7, "2025-08-26 10:00:00", "status AP")], "capture");
  writes.recordWrite({ orderId: 2, version: 8, dateUpdate: "2025-08-26 10:00:02", crmChangedAtUs: 1 });
  const [replacing] = store.enqueue([snap(2, 8, "2025-08-26 10:00:02", "status DE")], "capture");
  assert.equal(replacing!.outcome, "replaced", "never the pre-write-back status after the CRM's own change");
});

test("a write-back row that also holds a Bitrix save is sent; one with only the status columns changed is not", () => {
  const { db, store } = freshStore();
  const writes = new WritebackStore(db);
  const base = { STATUS_ID: "N", DATE_STATUS: "2025-08-26 10:00:00", UPDATED_1C: "N", COMMENTS: "first" };
  store.enqueue([orderSnap(1, 1, "2025-08-26 10:00:00", base)], "capture");
  store.recordResults([delivered(store.dueEntries(Date.now() + 1, 10)[0]!)]);

  // Found by the chaos run: a manager's save (VERSION 2) committed just before write-back wrote VERSION 3;
  // capture first sees the row under the write-back's (VERSION, DATE_UPDATE), with the manager's comment in it.
  writes.recordWrite({ orderId: 1, version: 3, dateUpdate: "2025-08-26 10:00:07", crmChangedAtUs: 1 });
  const swallowed = orderSnap(1, 3, "2025-08-26 10:00:07", {
    ...base,
    STATUS_ID: "DE",
    DATE_STATUS: "2025-08-26 10:00:07",
    COMMENTS: "manager's comment",
  });
  const [sent] = store.enqueue([swallowed], "capture");
  assert.equal(sent!.outcome, "enqueued", "the manager's save reaches the CRM");
  store.recordResults([delivered(store.dueEntries(Date.now() + 1, 10)[0]!)]);

  writes.recordWrite({ orderId: 1, version: 4, dateUpdate: "2025-08-26 10:00:09", crmChangedAtUs: 2 });
  const ownOnly = orderSnap(1, 4, "2025-08-26 10:00:09", {
    ...base,
    STATUS_ID: "F",
    DATE_STATUS: "2025-08-26 10:00:09",
    COMMENTS: "manager's comment",
  });
  assert.equal(
    store.enqueue([ownOnly], "capture")[0]!.outcome,
    "echo",
    "the CRM's own status is not sent back",
  );

  // An order with nothing queued to compare with (from before the install, or pruned): the write-back's row
  // is its own, not sent back (the write-back bench counts these: 5,000 echoes before this rule).
  writes.recordWrite({ orderId: 9, version: 1, dateUpdate: "2025-08-26 10:00:09", crmChangedAtUs: 3 });
  assert.equal(store.enqueue([orderSnap(9, 1, "2025-08-26 10:00:09", base)], "capture")[0]!.outcome, "echo");
});

test("cursor and outbox rows commit together", () => {
  const { store, db } = freshStore();
  store.commitCapture([snap(5, 1, "2025-08-26 10:00:00"), snap(6, 1, "2025-08-26 10:00:01")], "capture", {
    dateUpdate: "2025-08-26 10:00:01",
    orderId: 6,
  });
  assert.deepEqual(store.getCursor("capture"), { dateUpdate: "2025-08-26 10:00:01", orderId: 6 });
  assert.equal(store.countsByState().pending, 2);
  assert.deepEqual(
    [...store.capturedKeys([5, 6, 7]).entries()],
    [
      [5, { version: 1, dateUpdate: "2025-08-26 10:00:00" }],
      [6, { version: 1, dateUpdate: "2025-08-26 10:00:01" }],
    ],
  );
  // A failing statement inside the transaction leaves neither rows nor cursor behind.
  const bad = { ...snap(8, 1, "2025-08-26 10:00:02"), payload: null as unknown as string };
  assert.throws(() =>
    store.commitCapture([snap(9, 1, "2025-08-26 10:00:02"), bad], "capture", {
      dateUpdate: "2025-08-26 10:00:02",
      orderId: 9,
    }),
  );
  assert.deepEqual(store.getCursor("capture"), { dateUpdate: "2025-08-26 10:00:01", orderId: 6 });
  assert.equal(
    (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE order_id = 9").get() as { n: number }).n,
    0,
  );
});

test("failed attempts keep the row pending with its history; rejected ones become dead with the answer", () => {
  let now = 1_000_000;
  const { store, db } = freshStore(() => now);
  store.enqueue([snap(1, 1, "2025-08-26 10:00:00"), snap(2, 1, "2025-08-26 10:00:00")], "capture");
  const [a, b] = store.dueEntries(now, 10);
  store.recordResults([
    {
      kind: "attempt",
      entry: a!,
      event: "order.create",
      outcome: "retry",
      dead: false,
      httpStatus: 500,
      error: "HTTP 500",
      response: '{"detail":"x"}',
      attemptedAt: now,
      durationMs: 12,
      nextAttemptAt: now + 5000,
    },
    {
      kind: "attempt",
      entry: b!,
      event: "order.create",
      outcome: "rejected",
      dead: true,
      httpStatus: 422,
      error: "HTTP 422: bad",
      response: '{"detail":"bad"}',
      attemptedAt: now,
      durationMs: 9,
    },
  ]);
  assert.equal(store.dueEntries(now, 10).length, 0, "the retry waits for its backoff");
  now += 5000;
  assert.equal(store.dueEntries(now, 10)[0]?.attempts, 1);
  const dead = db.prepare("SELECT state, last_response, attempts FROM outbox WHERE order_id = 2").get();
  assert.deepEqual(dead, { state: "dead", last_response: '{"detail":"bad"}', attempts: 1 });
  const attempts = db.prepare("SELECT outcome, http_status FROM delivery_attempts ORDER BY id").all();
  assert.deepEqual(attempts, [
    { outcome: "retry", http_status: 500 },
    { outcome: "rejected", http_status: 422 },
  ]);
  assert.equal(
    store.enqueue([snap(2, 2, "2025-08-26 10:01:00")], "capture")[0]!.outcome,
    "enqueued",
    "a newer snapshot of a dead order is queued",
  );
});
