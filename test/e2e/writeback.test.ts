import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createOrder, saveOrder } from "../support/bitrix-writer.js";
import { startFeedWriteback } from "../support/feed-writeback.js";
import type { TestDatabase } from "../support/mariadb.js";
import type { StatusFeedServer } from "../support/status-feed-server.js";
import { acceptedVersions, type SyncFixture, setupSync } from "../support/sync-fixture.js";

/** The real daemon with capture, delivery and write-back (from a status feed) all running. */
async function setupBothWays(
  t: Parameters<typeof setupSync>[0],
): Promise<SyncFixture & { feed: StatusFeedServer }> {
  const f = await setupSync(t, { prefix: "e2e_wb" });
  const { feed, writeback } = await startFeedWriteback(t, f);
  f.writeConfig({
    sections: {
      writeback,
    },
  });
  return Object.assign(f, { feed });
}

async function waitForStatus(
  db: TestDatabase,
  id: number,
  status: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await db.query<{ STATUS_ID: string }>("SELECT STATUS_ID FROM b_sale_order WHERE ID = ?", [
      id,
    ]);
    if (row?.STATUS_ID === status) return;
    if (Date.now() > deadline) throw new Error(`order ${id} did not reach ${status} (is ${row?.STATUS_ID})`);
    await sleep(25);
  }
}

test("a CRM status reaches Bitrix, its own version is not sent back, and a later manager save is", async (t) => {
  const f = await setupBothWays(t);
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "order.create");

  f.feed.push({ order_id: id, status: "in_transit" });
  await waitForStatus(f.db, id, "DE");
  const applied = await sidecar.waitForLog((l) => l.msg === "status applied" && l["orderId"] === id);
  assert.equal(applied["version"], 1);
  // Capture sees the write-back's row (VERSION 1) in its look-back window and knows it.
  await sidecar.waitForLog(
    (l) => l.msg === "snapshot not queued" && l["orderId"] === id && l["outcome"] === "echo",
    10_000,
    "the echo being recognised",
  );
  await sleep(300);
  assert.deepEqual(acceptedVersions(f.crm, id), [["order.create", "0"]], "no echo of the CRM's own change");

  await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "F" } });
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 2, 10_000, "the manager's save");
  assert.deepEqual(acceptedVersions(f.crm, id), [
    ["order.create", "0"],
    ["order.update", "2"],
  ]);
  assert.equal(f.crm.acceptedFor(id)[1]!.data["STATUS_ID"], "F");
  assert.equal((await sidecar.stop()).code, 0, "shutdown stops write-back too");
});

test("a conflict leaves Bitrix's status and the CRM receives Bitrix's status again", async (t) => {
  const f = await setupBothWays(t);
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "F" } });
  await f.crm.waitFor(
    (c) => c.acceptedFor(id).some((d) => d.data["VERSION"] === "1"),
    10_000,
    "the manager's save delivered",
  );
  const deliveredBefore = f.crm.acceptedFor(id).length;

  // The CRM's change is an hour older than the manager's: Bitrix wins.
  f.feed.push({
    order_id: id,
    status: "in_transit",
    changed_at: new Date(Date.now() - 3600_000).toISOString(),
  });
  await sidecar.waitForLog((l) => l.msg === "status conflict" && l["orderId"] === id);
  await f.crm.waitFor(
    (c) => c.acceptedFor(id).length === deliveredBefore + 1,
    10_000,
    "Bitrix's status sent",
  );
  const last = f.crm.acceptedFor(id).at(-1)!;
  assert.equal(last.data["STATUS_ID"], "F");
  assert.equal(last.data["VERSION"], "1");
  const [row] = await f.db.query<{ STATUS_ID: string; VERSION: number }>(
    "SELECT STATUS_ID, VERSION FROM b_sale_order WHERE ID = ?",
    [id],
  );
  assert.deepEqual({ status: row!.STATUS_ID, version: Number(row!.VERSION) }, { status: "F", version: 1 });
});
