import assert from "node:assert/strict";
import { test } from "node:test";
import { bitrixNow, createOrder, saveOrder } from "../support/bitrix-writer.js";
import type { TestDatabase } from "../support/mariadb.js";
import {
  setupWriteback,
  TEST_SOURCE_TOKEN,
  TEST_BITRIX_TIMEZONE as TZ,
} from "../support/writeback-fixture.js";

async function statusOf(db: TestDatabase, id: number): Promise<{ status: string; version: number }> {
  const [row] = await db.query<{ STATUS_ID: string; VERSION: number }>(
    "SELECT STATUS_ID, VERSION FROM b_sale_order WHERE ID = ?",
    [id],
  );
  return { status: row!.STATUS_ID, version: Number(row!.VERSION) };
}

async function historyCount(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM b_sale_order_change");
  return Number(row!.n);
}

test("malformed and hostile rows are rejected with their reasons and the rows after them are applied", async (t) => {
  const f = await setupWriteback(t);
  const a = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const b = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const now = new Date().toISOString();
  const hostile: unknown[] = [
    { id: "sql", order_id: a, status: "F'; UPDATE b_sale_order SET STATUS_ID='F'; --", changed_at: now },
    { id: "huge", order_id: a, status: "F".repeat(1024 * 1024), changed_at: now },
    { id: "negative", order_id: -a, status: "completed", changed_at: now },
    { id: "no-order", status: "completed", changed_at: now },
    { id: "string-id", order_id: String(a), status: "completed", changed_at: now },
    { id: "number-status", order_id: a, status: 70, changed_at: now },
    { id: "bad-time", order_id: a, status: "completed", changed_at: "вчера" },
    "completed",
    null,
  ];
  for (const row of hostile) f.feed.pushRaw(row);
  f.feed.push({ order_id: a, status: "in_transit" });
  f.feed.pushRaw({ id: "after", order_id: b, status: ["AP"], changed_at: now });
  f.feed.push({ order_id: b, status: "AP" });
  await f.tick();

  assert.deepEqual(await statusOf(f.db, a), { status: "DE", version: 1 });
  assert.deepEqual(await statusOf(f.db, b), { status: "AP", version: 1 });
  assert.equal(await historyCount(f.db), 2);
  const outcomes = f.outcomes();
  const count = (outcome: string) => outcomes.filter((o) => o["outcome"] === outcome).length;
  assert.equal(count("rejected"), hostile.length + 1);
  assert.deepEqual(
    outcomes
      .filter((o) => o["outcome"] === "applied")
      .map((o) => o["order_id"])
      .sort(),
    [a, b].sort(),
  );
  const reasons = Object.fromEntries(outcomes.map((o) => [o["change_key"], o["reason"]]));
  assert.match(String(reasons["sql"]), /status: has characters no status name has/);
  assert.match(String(reasons["huge"]), /status: Too big/);
  assert.match(String(reasons["negative"]), /order_id: Too small/);
  assert.match(String(reasons["no-order"]), /order_id: Invalid input: expected number, received undefined/);
  assert.match(String(reasons["string-id"]), /order_id: Invalid input: expected number, received string/);
  assert.match(String(reasons["number-status"]), /status: Invalid input: expected string/);
  assert.match(String(reasons["bad-time"]), /changed_at: expected an ISO 8601 time/);
  const huge = outcomes.find((o) => o["change_key"] === "huge")!;
  assert.ok(String(huge["raw"]).length < 5000, "a 1 MB row is kept cut, not whole");
  assert.match(String(huge["raw"]), /\[cut, \d+ characters in all\]$/);
  assert.equal(f.logLines().filter((l) => l.msg === "status rejected").length, hostile.length + 1);
  assert.ok(
    f.logLines().every((l) => JSON.stringify(l).length < 4000),
    "no log line carries the 1 MB value",
  );
});

test("the cursor survives a restart and a re-read page applies nothing twice", async (t) => {
  const f = await setupWriteback(t);
  const ids = [
    await createOrder(f.db.pool, {}, { timeZone: TZ }),
    await createOrder(f.db.pool, {}, { timeZone: TZ }),
    await createOrder(f.db.pool, {}, { timeZone: TZ }),
  ];
  for (const id of ids) f.feed.push({ order_id: id, status: "assembled" });
  await f.tick();
  assert.equal(await historyCount(f.db), 3);
  assert.deepEqual(f.store.getCursor("writeback"), { source: "feed", since: "pos-3" });

  await f.restart();
  f.feed.push({ order_id: ids[0]!, status: "completed" });
  const requestsBefore = f.feed.requestCount;
  await f.tick();
  assert.equal(await historyCount(f.db), 4, "only the new change was applied after the restart");
  assert.equal(f.feed.requestCount - requestsBefore, 1, "the restarted service asked from its cursor on");
  assert.deepEqual(await statusOf(f.db, ids[0]!), { status: "F", version: 2 });

  // A crash after the page's writes but before the cursor moved: the page is read again.
  f.store.setCursor("writeback", { source: "feed", since: null });
  await f.restart();
  await f.tick();
  assert.equal(await historyCount(f.db), 4, "settled changes are skipped on a re-read");
  assert.equal(f.outcomes().length, 4);
  assert.deepEqual(f.store.getCursor("writeback"), { source: "feed", since: "pos-4" });

  // Worse: a crash after the MySQL commit, before its outcome was recorded.
  f.stateDb.prepare("DELETE FROM writeback_changes").run();
  f.store.setCursor("writeback", { source: "feed", since: null });
  await f.restart();
  await f.tick();
  assert.equal(await historyCount(f.db), 4, "re-applying finds Bitrix already has each status");
  assert.deepEqual(
    await statusOf(f.db, ids[0]!),
    { status: "F", version: 2 },
    "the older change does not win",
  );
  assert.deepEqual(Object.fromEntries(f.outcomes().map((o) => [o["change_key"], o["outcome"]])), {
    "chg-1": "conflict",
    "chg-2": "unchanged",
    "chg-3": "unchanged",
    "chg-4": "unchanged",
  });
});

test("two CRM changes of one order both apply in order, although our own write is stamped after both", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(
    f.db.pool,
    {},
    { timeZone: TZ, dateUpdate: bitrixNow(TZ, new Date(Date.now() - 60_000)) },
  );
  // Both CRM changes are 5 s old: the DATE_STATUS the first write-back stamps is later than the second change.
  const crmTime = Date.now() - 5000;
  f.feed.push({ order_id: id, status: "assembled", changed_at: new Date(crmTime).toISOString() });
  f.feed.push({ order_id: id, status: "in_transit", changed_at: new Date(crmTime + 1).toISOString() });
  await f.tick();
  assert.deepEqual(await statusOf(f.db, id), { status: "DE", version: 2 });
  assert.deepEqual(
    f.outcomes().map((o) => o["outcome"]),
    ["applied", "applied"],
  );
});

test("a Bitrix save of other fields after our status write does not make the next CRM change a conflict; a Bitrix status change does", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(
    f.db.pool,
    {},
    { timeZone: TZ, dateUpdate: bitrixNow(TZ, new Date(Date.now() - 60_000)) },
  );
  // Found by the chaos run: CRM changes that waited (daemon down, MySQL cut) are older than the
  // DATE_STATUS our first write stamps; a manager's property save in between made the next one a "conflict".
  const crmTime = Date.now() - 5000;
  f.feed.push({ order_id: id, status: "assembled", changed_at: new Date(crmTime).toISOString() });
  await f.tick();
  await saveOrder(f.db.pool, id, { properties: { notes: "Позвонить за час" } }, { timeZone: TZ });
  f.feed.push({ order_id: id, status: "in_transit", changed_at: new Date(crmTime + 1).toISOString() });
  await f.tick();
  assert.deepEqual(await statusOf(f.db, id), { status: "DE", version: 3 });

  // A manager sets the status in Bitrix now: an older CRM change loses to it.
  await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "F" } }, { timeZone: TZ });
  f.feed.push({ order_id: id, status: "paid", changed_at: new Date(crmTime + 2).toISOString() });
  await f.tick();
  assert.deepEqual(await statusOf(f.db, id), { status: "F", version: 4 });
  assert.deepEqual(
    f.outcomes().map((o) => o["outcome"]),
    ["applied", "applied", "conflict"],
  );
});

test("dry run logs exactly what would be written, writes nothing, and keeps its own cursor", async (t) => {
  const f = await setupWriteback(t, { settings: { dry_run: true, notify_customer: true, employee_id: 7 } });
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const before = await statusOf(f.db, id);
  const [eventsBefore] = await f.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM b_event");
  f.feed.push({ order_id: id, status: "in_transit" });
  await f.tick();

  assert.deepEqual(await statusOf(f.db, id), before);
  assert.equal(await historyCount(f.db), 0);
  const [eventsAfter] = await f.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM b_event");
  assert.equal(Number(eventsAfter!.n), Number(eventsBefore!.n));
  const line = f.logLines().find((l) => l.msg === "status would be applied");
  assert.equal(line?.["dryRun"], true);
  const write = line?.["write"] as {
    order: Record<string, unknown>;
    history: Record<string, unknown>;
    event?: Record<string, unknown>;
  };
  assert.equal(write.order["STATUS_ID"], "DE");
  assert.equal(write.order["EMP_STATUS_ID"], 7);
  assert.equal(write.order["VERSION"], before.version + 1);
  assert.equal(write.history["DATA"], 'a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}');
  assert.equal(write.event?.["EVENT_NAME"], "SALE_STATUS_CHANGED_DE");
  assert.deepEqual(
    f.outcomes().map((o) => [o["outcome"], o["dry_run"]]),
    [["would_apply", 1]],
  );
  assert.equal(f.store.summary().dryRunOutcomes.would_apply, 1);
  assert.equal(f.store.summary().outcomes.applied, 0);
  assert.equal(f.store.getCursor("writeback"), undefined, "the real cursor is untouched");

  await f.restart({ dry_run: false });
  await f.tick();
  assert.deepEqual(await statusOf(f.db, id), { status: "DE", version: before.version + 1 });
});

test("supabase: names and raw codes through PostgREST, keyset pages, a row changed again is a new change", async (t) => {
  const f = await setupWriteback(t, { source: "supabase", settings: { batch_size: 2 } });
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push(await createOrder(f.db.pool, {}, { timeZone: TZ }));
  const statuses = ["in_transit", "AP", "cancelled", "N", "completed"];
  for (const [i, id] of ids.entries()) f.postgrest.setStatus(id, statuses[i]!);
  f.postgrest.insertRaw({
    id: "no-order",
    bitrix_order_id: null,
    status: "completed",
    updated_at: new Date().toISOString(),
  });
  await f.tick();

  const byStatus = await Promise.all(ids.map((id) => statusOf(f.db, id)));
  assert.deepEqual(
    byStatus.map((s) => s.status),
    ["DE", "AP", "N", "N", "F"],
  );
  const outcomeOf = (rows: Array<Record<string, unknown>>) =>
    ids.map((id) => rows.filter((o) => o["order_id"] === id).map((o) => o["outcome"]));
  assert.deepEqual(outcomeOf(f.outcomes()), [
    ["applied"],
    ["applied"],
    ["refused"],
    ["unchanged"],
    ["applied"],
  ]);
  const cursor = f.store.getCursor<{ updatedAt: string; id: string }>("writeback")!;
  const last = f.postgrest.rows.find((r) => r.bitrix_order_id === ids[4])!;
  assert.equal(cursor.updatedAt, last.updated_at);
  assert.equal(cursor.id, last.id);

  // A later CRM change of the first order; the other rows fall inside the look-back and are skipped.
  f.postgrest.setStatus(ids[0]!, "completed");
  // A forward delivery bumps updated_at without a status change: a no-op.
  f.postgrest.setStatus(ids[1]!, "AP");
  await f.tick();
  assert.equal((await statusOf(f.db, ids[0]!)).status, "F");
  assert.deepEqual(outcomeOf(f.outcomes().slice(5)), [["applied"], ["unchanged"], [], [], []]);
});

test("supabase with start_from = now applies only changes made after write-back first started", async (t) => {
  const f = await setupWriteback(t, { source: "supabase", settings: { start_from: "now" } });
  const old = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const fresh = await createOrder(f.db.pool, {}, { timeZone: TZ });
  f.postgrest.setStatus(old, "completed");
  await f.tick();
  assert.equal((await statusOf(f.db, old)).status, "N", "what the CRM held before start is history");
  f.postgrest.setStatus(fresh, "in_transit");
  await f.tick();
  assert.equal((await statusOf(f.db, fresh)).status, "DE");
  assert.equal((await statusOf(f.db, old)).status, "N");
  assert.ok(f.logLines().some((l) => l.msg === "write-back cursor initialised" && l["startFrom"] === "now"));
});

test("a failing source pauses write-back once with the reason, never the token, and it resumes by itself", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  f.feed.push({ order_id: id, status: "in_transit" });
  f.feed.failWith(503);
  await assert.rejects(f.tick(), /answered HTTP 503/);
  await assert.rejects(f.tick());
  assert.equal(f.store.getPause()?.code, "E_WRITEBACK_SOURCE_HTTP");
  assert.equal(f.logLines().filter((l) => l.msg === "write-back paused, retrying").length, 1, "logged once");
  assert.match(await f.metrics.registry.getSingleMetricAsString("cvety_sidecar_writeback_paused"), / 1$/m);

  f.feed.failWith(401);
  await assert.rejects(f.tick(), /refused the credentials \(HTTP 401\): check \[writeback\] token/);
  assert.ok(!JSON.stringify(f.logLines()).includes(TEST_SOURCE_TOKEN), "the token never reaches the log");

  f.feed.failWith(undefined);
  await f.tick();
  assert.equal((await statusOf(f.db, id)).status, "DE");
  assert.equal(f.store.getPause(), undefined);
  assert.ok(f.logLines().some((l) => l.msg === "write-back resumed"));
});
