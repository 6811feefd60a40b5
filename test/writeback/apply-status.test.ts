import assert from "node:assert/strict";
import { test } from "node:test";
import { bitrixNow, createOrder, saveOrder } from "../support/bitrix-writer.js";
import type { TestDatabase } from "../support/mariadb.js";
import { setupWriteback, TEST_BITRIX_TIMEZONE as TZ } from "../support/writeback-fixture.js";

type Row = Record<string, string | number | null>;

async function orderRow(db: TestDatabase, id: number): Promise<Row> {
  const [row] = await db.query<Row>(
    "SELECT STATUS_ID, DATE_STATUS, EMP_STATUS_ID, UPDATED_1C, VERSION, DATE_UPDATE FROM b_sale_order WHERE ID = ?",
    [id],
  );
  return row!;
}

/** History rows with DATA as hex, so the test compares the stored bytes. */
async function history(db: TestDatabase, id: number): Promise<Row[]> {
  return db.query<Row>(
    `SELECT ORDER_ID, TYPE, HEX(DATA) AS DATA_HEX, DATA, USER_ID, ENTITY, ENTITY_ID, DATE_CREATE, DATE_MODIFY,
            TIMESTAMPDIFF(SECOND, DATE_CREATE, NOW()) AS AGE_S
     FROM b_sale_order_change WHERE ORDER_ID = ? ORDER BY ID`,
    [id],
  );
}

async function events(db: TestDatabase): Promise<Row[]> {
  return db.query<Row>(
    "SELECT EVENT_NAME, MESSAGE_ID, LID, HEX(C_FIELDS) AS C_FIELDS_HEX, C_FIELDS, DATE_INSERT, DATE_EXEC, SUCCESS_EXEC, DUPLICATE, LANGUAGE_ID FROM b_event ORDER BY ID",
  );
}

const hex = (text: string) => Buffer.from(text, "utf8").toString("hex").toUpperCase();

test("a CRM status name is written with exactly the columns and history bytes of a Bitrix status change", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const before = await orderRow(f.db, id);
  f.feed.push({ order_id: id, status: "in_transit" });
  const startedAt = bitrixNow(TZ);
  await f.tick();
  const endedAt = bitrixNow(TZ);

  const after = await orderRow(f.db, id);
  assert.equal(after.STATUS_ID, "DE");
  assert.equal(after.EMP_STATUS_ID, null);
  assert.equal(after.UPDATED_1C, "N");
  assert.equal(Number(after.VERSION), Number(before.VERSION) + 1);
  assert.equal(after.DATE_STATUS, after.DATE_UPDATE, "one save, one second");
  assert.ok(
    String(after.DATE_UPDATE) >= startedAt && String(after.DATE_UPDATE) <= endedAt,
    `DATE_UPDATE ${after.DATE_UPDATE} is Bitrix's wall clock (${TZ}) between ${startedAt} and ${endedAt}`,
  );

  const [line, ...more] = await history(f.db, id);
  assert.equal(more.length, 0);
  const data = 'a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}';
  assert.deepEqual(
    { ...line, DATE_CREATE: undefined, DATE_MODIFY: undefined, AGE_S: undefined },
    {
      ORDER_ID: id,
      TYPE: "ORDER_STATUS_CHANGED",
      DATA_HEX: hex(data),
      DATA: data,
      USER_ID: 0,
      ENTITY: "ORDER",
      ENTITY_ID: id,
      DATE_CREATE: undefined,
      DATE_MODIFY: undefined,
      AGE_S: undefined,
    },
  );
  assert.equal(line!.DATE_CREATE, line!.DATE_MODIFY);
  assert.ok(Number(line!.AGE_S) <= 5, "history times come from the database clock (NOW())");
  assert.deepEqual(await events(f.db), [], "no e-mail unless [writeback] notify_customer = true");

  const [outcome] = f.outcomes();
  assert.equal(outcome!["outcome"], "applied");
  assert.equal(outcome!["status_id"], "DE");
  assert.equal(outcome!["old_status_id"], "N");
  assert.equal(outcome!["version"], Number(after.VERSION));
  assert.equal(outcome!["date_update"], after.DATE_UPDATE);
  const line2 = f.logLines().find((l) => l.msg === "status applied");
  assert.equal(line2?.["orderId"], id);
  assert.equal(line2?.["crmStatus"], "in_transit");
});

test("a raw Bitrix code is accepted and the configured employee is recorded as the one who changed it", async (t) => {
  const f = await setupWriteback(t, { settings: { employee_id: 42 } });
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  f.feed.push({ order_id: id, status: "AP" });
  await f.tick();
  const after = await orderRow(f.db, id);
  assert.equal(after.STATUS_ID, "AP");
  assert.equal(after.EMP_STATUS_ID, 42);
  const [line] = await history(f.db, id);
  assert.equal(line!.USER_ID, 42);
  assert.equal(line!.DATA, 'a:2:{s:9:"STATUS_ID";s:2:"AP";s:13:"OLD_STATUS_ID";s:1:"N";}');
});

test("unknown statuses and codes are refused, nothing is written, and each is logged loudly once", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  const before = await orderRow(f.db, id);
  for (const status of ["cancelled", "XX", "DN", "cancelled"]) f.feed.push({ order_id: id, status });
  await f.tick();
  assert.deepEqual(await orderRow(f.db, id), before);
  assert.deepEqual(await history(f.db, id), []);
  const outcomes = f.outcomes();
  assert.deepEqual(
    outcomes.map((o) => [o["crm_status"], o["outcome"]]),
    [
      ["cancelled", "refused"],
      ["XX", "refused"],
      ["DN", "refused"],
      ["cancelled", "refused"],
    ],
  );
  assert.match(String(outcomes[2]!["reason"]), /order status \(TYPE='O'\)/);
  const loud = f.logLines().filter((l) => l.msg === "status refused" && l.level === "warn");
  assert.deepEqual(
    loud.map((l) => l["crmStatus"]),
    ["cancelled", "XX", "DN"],
  );
  const metrics = await f.metrics.registry.getSingleMetricAsString("cvety_sidecar_writeback_results_total");
  assert.match(metrics, /outcome="refused"} 4/);
});

test("a status Bitrix already has is a no-op: no write, no history, recorded as unchanged", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(f.db.pool, { statusId: "AP" }, { timeZone: TZ });
  const before = await orderRow(f.db, id);
  f.feed.push({ order_id: id, status: "confirmed" });
  await f.tick();
  assert.deepEqual(await orderRow(f.db, id), before);
  assert.deepEqual(await history(f.db, id), []);
  assert.equal(f.outcomes()[0]!["outcome"], "unchanged");
});

test("a change for an order Bitrix does not have is rejected with the reason", async (t) => {
  const f = await setupWriteback(t);
  f.feed.push({ order_id: 999_999, status: "new" });
  await f.tick();
  const [o] = f.outcomes();
  assert.equal(o!["outcome"], "rejected");
  assert.equal(o!["reason"], "order 999999 does not exist in b_sale_order");
});

test("the customer e-mail is queued exactly as Bitrix queues it, only when enabled and the status has NOTIFY='Y'", async (t) => {
  const f = await setupWriteback(t, { settings: { notify_customer: true } });
  const byProperty = await createOrder(
    f.db.pool,
    { properties: { email: "gift@example.kz" } },
    { timeZone: TZ },
  );
  const byUser = await createOrder(
    f.db.pool,
    { userId: 171541, properties: { email: null } },
    { timeZone: TZ },
  );
  const silent = await createOrder(f.db.pool, {}, { timeZone: TZ });
  await f.db.query(
    "INSERT INTO b_option (MODULE_ID, NAME, VALUE) VALUES ('sale', 'order_email', 'shop@cvety.kz')",
  );
  f.feed.push({ order_id: byProperty, status: "in_transit" });
  f.feed.push({ order_id: byUser, status: "in_transit" });
  f.feed.push({ order_id: silent, status: "assembled" }); // CO has NOTIFY='N'
  const startedAt = bitrixNow(TZ);
  await f.tick();

  const rows = await events(f.db);
  assert.equal(rows.length, 2, "no e-mail for a NOTIFY='N' status");
  const [dateInsert] = await f.db.query<Row>("SELECT DATE_INSERT FROM b_sale_order WHERE ID = ?", [
    byProperty,
  ]);
  const [y, mo, d] = String(dateInsert!.DATE_INSERT).slice(0, 10).split("-");
  const orderDate = `${d}.${mo}.${y} ${String(dateInsert!.DATE_INSERT).slice(11)}`;
  const n = String(byProperty);
  const fields =
    `a:10:{s:8:"ORDER_ID";s:${n.length}:"${n}";s:13:"ORDER_REAL_ID";i:${n};s:27:"ORDER_ACCOUNT_NUMBER_ENCODE";s:${n.length}:"${n}";` +
    // "В пути" is 11 bytes in UTF-8; the shop's description of DE is the same text.
    's:12:"ORDER_STATUS";s:11:"В пути";s:5:"EMAIL";s:15:"gift@example.kz";s:17:"ORDER_DESCRIPTION";s:11:"В пути";' +
    's:4:"TEXT";s:0:"";s:10:"SALE_EMAIL";s:13:"shop@cvety.kz";s:16:"ORDER_PUBLIC_URL";s:0:"";' +
    `s:10:"ORDER_DATE";s:19:"${orderDate}";}`;
  // Changes of different orders are written concurrently: find each e-mail by its order.
  const eventOf = (id: number) => rows.find((r) => String(r.C_FIELDS).includes(`"ORDER_REAL_ID";i:${id};`))!;
  const first = eventOf(byProperty);
  assert.deepEqual(
    { ...first, DATE_INSERT: undefined },
    {
      EVENT_NAME: "SALE_STATUS_CHANGED_DE",
      MESSAGE_ID: null,
      LID: "s1",
      C_FIELDS_HEX: hex(fields),
      C_FIELDS: fields,
      DATE_INSERT: undefined,
      DATE_EXEC: null,
      SUCCESS_EXEC: "N",
      DUPLICATE: "Y",
      LANGUAGE_ID: "ru",
    },
  );
  assert.ok(String(first.DATE_INSERT) >= startedAt, "DATE_INSERT is Bitrix's wall clock");
  assert.match(
    String(eventOf(byUser).C_FIELDS),
    /s:5:"EMAIL";s:17:"madina@example\.kz";/,
    "b_user.EMAIL without the property",
  );
  assert.equal(
    (await orderRow(f.db, silent)).STATUS_ID,
    "CO",
    "the NOTIFY='N' status itself is still applied",
  );
});

test("Bitrix changed the status after the CRM did: Bitrix's status stays and the order is queued for the CRM", async (t) => {
  const f = await setupWriteback(t);
  const id = await createOrder(f.db.pool, {}, { timeZone: TZ });
  await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "F" } }, { timeZone: TZ });
  const before = await orderRow(f.db, id);
  // The CRM's change happened an hour before the manager's save (CRM times are UTC instants).
  const crmTime = new Date(Date.now() - 3600_000);
  f.feed.push({ order_id: id, status: "in_transit", changed_at: crmTime.toISOString() });
  await f.tick();

  assert.deepEqual(await orderRow(f.db, id), before, "Bitrix wins: nothing written");
  assert.equal((await history(f.db, id)).length, 1, "only the manager's own history line");
  const [o] = f.outcomes();
  assert.equal(o!["outcome"], "conflict");
  assert.equal(o!["old_status_id"], "F");
  assert.match(String(o!["reason"]), new RegExp(`Bitrix set F at ${before.DATE_STATUS}`));
  assert.ok(String(o!["reason"]).includes(`(${bitrixNow(TZ, crmTime)} Bitrix time)`), String(o!["reason"]));
  const queued = f.stateDb
    .prepare("SELECT reason, state, version, payload FROM outbox WHERE order_id = ?")
    .all(id) as Array<{ reason: string; state: string; version: number; payload: string }>;
  assert.equal(queued.length, 1);
  assert.equal(queued[0]!.reason, "conflict");
  assert.equal(queued[0]!.state, "pending");
  assert.equal(JSON.parse(queued[0]!.payload).STATUS_ID, "F", "the CRM will learn Bitrix's status");
  assert.equal(f.enqueuedCalls, 1, "delivery was woken");
});
