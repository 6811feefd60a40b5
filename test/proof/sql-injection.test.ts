/**
 * Proof: SQL injection attempts in every field that reaches a query change
 * nothing in Bitrix. `CHECKSUM TABLE` over every table of the Bitrix
 * database is taken before and after:
 *  - capture and delivery of orders whose texts are SQL (the forward path
 *    only reads);
 *  - write-back of feed rows with injection attempts in the status, the order
 *    id, the change time and the change id (each recorded as rejected or
 *    refused, none written), followed by a harmless row as a barrier.
 * The real daemon, the real CRM stand-in and status feed, a real MariaDB.
 * (There are no table-prefix settings: every table name is fixed in the code;
 * `resync` ids are covered where that command lives.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { createOrder } from "../support/bitrix-writer.js";
import { startFeedWriteback } from "../support/feed-writeback.js";
import type { TestDatabase } from "../support/mariadb.js";
import { setupSync } from "../support/sync-fixture.js";

const SQL_TEXTS = [
  "'; DROP TABLE b_sale_order; --",
  "\"; UPDATE b_sale_order SET STATUS_ID='F'; --",
  "x' OR '1'='1",
  "\\'; DELETE FROM b_sale_order_change; #",
  "1; SHUTDOWN; --",
  "/*! UNION SELECT PASSWORD FROM b_user */",
];

/** CHECKSUM TABLE of every table in the database: table -> checksum. */
async function checksums(db: TestDatabase): Promise<Record<string, string>> {
  const tables = await db.query<{ name: string }>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
    [db.name],
  );
  assert.ok(tables.length >= 20, `the Bitrix tables are there (${tables.length})`);
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db.query<{ Checksum: string | number | null }>(`CHECKSUM TABLE \`${name}\``);
    out[name] = String(row?.Checksum);
  }
  return out;
}

/** Feed rows whose every field is an injection attempt somewhere, for an order `id` with status N. */
function hostileRows(id: number): unknown[] {
  const at = "2026-01-01T10:00:00Z";
  const statuses = [
    "N' OR '1'='1",
    "new'; DROP TABLE b_sale_order; --",
    "F\\",
    "DE\u0000",
    'in_transit"',
    "new -- x",
    "DE OR 1=1",
    "F UNION SELECT 1",
    "`F`",
    "N;",
    "x".repeat(65),
    "",
    "Ё' --",
    "completed%",
    "_",
  ];
  const orderIds: unknown[] = [
    "1 OR 1=1",
    `${id}; DROP TABLE b_sale_order`,
    `${id}'`,
    `${id}`,
    -1,
    0,
    2 ** 31,
    1.5,
    null,
    { $gt: 0 },
    [id],
  ];
  return [
    ...statuses.map((status, i) => ({ id: `st-${i}`, order_id: id, status, changed_at: at })),
    ...orderIds.map((order_id, i) => ({ id: `oid-${i}`, order_id, status: "completed", changed_at: at })),
    { id: "time-1", order_id: id, status: "completed", changed_at: "2026-01-01' OR '1'='1" },
    {
      id: "time-2",
      order_id: id,
      status: "completed",
      changed_at: "2026-01-01T10:00:00Z; DROP TABLE b_event",
    },
  ];
}

test("SQL in order texts, feed statuses, order ids, times and change ids changes nothing in Bitrix", async (t) => {
  const f = await setupSync(t, { prefix: "proof_sqli" });
  const { feed, writeback } = await startFeedWriteback(t, f, { notify_customer: true });
  f.writeConfig({
    sections: {
      writeback,
    },
  });

  // Forward: orders whose texts are SQL; capture and delivery only read.
  const ids: number[] = [];
  for (const text of SQL_TEXTS) {
    ids.push(
      await createOrder(f.db.pool, {
        userDescription: text,
        comments: text,
        properties: { notes: text, addressRecipient: text, nameRecipient: text },
        basket: [{ productId: 1, name: text, price: 100, quantity: 1 }],
      }),
    );
  }
  const beforeCapture = await checksums(f.db);
  const sidecar = await f.startSidecar();
  await f.crm.waitFor((c) => ids.every((id) => c.acceptedFor(id).length === 1), 30_000, "deliveries");
  for (const [i, id] of ids.entries()) {
    assert.equal(f.crm.acceptedFor(id)[0]!.data["COMMENTS"], SQL_TEXTS[i], "delivered as text");
  }
  assert.deepEqual(await checksums(f.db), beforeCapture, "capture and delivery wrote nothing to Bitrix");

  // Write-back: every hostile row, then a harmless row (status unchanged) as a barrier.
  const target = ids[0]!;
  const rows = hostileRows(target);
  for (const row of rows) feed.pushRaw(row);
  const hostileChangeId = "chg'; DROP TABLE writeback_changes; --";
  feed.push({ id: hostileChangeId, order_id: target, status: "new" });
  await sidecar.waitForLog(
    (l) => l.msg === "status unchanged" && l["orderId"] === target,
    20_000,
    "the barrier row",
  );
  assert.deepEqual(await checksums(f.db), beforeCapture, "no hostile row wrote anything");
  const [order] = await f.db.query<{ STATUS_ID: string }>("SELECT STATUS_ID FROM b_sale_order WHERE ID = ?", [
    target,
  ]);
  assert.equal(order!.STATUS_ID, "N");
  assert.equal(await sidecar.stop().then((r) => r.code), 0);

  // Each hostile row is on record as rejected or refused; the hostile change id is stored verbatim.
  const state = new Database(join(f.stateDir, "outbox.db"), { readonly: true });
  try {
    const outcomes = state
      .prepare("SELECT change_key AS key, outcome FROM writeback_changes ORDER BY id")
      .all() as Array<{ key: string; outcome: string }>;
    assert.equal(outcomes.length, rows.length + 1, "every row recorded once");
    const hostile = outcomes.filter((o) => o.key !== hostileChangeId);
    for (const o of hostile) assert.ok(["rejected", "refused"].includes(o.outcome), `${o.key}: ${o.outcome}`);
    assert.deepEqual(
      outcomes.find((o) => o.key === hostileChangeId),
      { key: hostileChangeId, outcome: "unchanged" },
    );
  } finally {
    state.close();
  }
});
