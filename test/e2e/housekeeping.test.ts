/**
 * Housekeeping in the real daemon: schedules of every second (node-cron's
 * six-field form) make the sweeps run while the test writes to Bitrix the way
 * other modules do, behind save()'s back.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { bitrixNow, createOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { startFeedWriteback } from "../support/feed-writeback.js";
import { runCli, type SidecarProcess } from "../support/sidecar-process.js";
import { acceptedVersions, setupSync } from "../support/sync-fixture.js";

const ALL_OFF = {
  sweep_schedule: "off",
  full_sweep_schedule: "off",
  prune_schedule: "off",
  checkpoint_schedule: "off",
  summary_schedule: "off",
};

/** Waits until `n` more "<msg>" lines were logged than there are now. */
async function waitForRuns(sidecar: SidecarProcess, msg: string, n: number): Promise<void> {
  const before = sidecar.logLines().filter((l) => l.msg === msg).length;
  await sidecar.waitForLog(
    () => sidecar.logLines().filter((l) => l.msg === msg).length >= before + n,
    20_000,
    `${n} more "${msg}" lines`,
  );
}

test("the sweep finds an order whose VERSION moved by raw SQL without DATE_UPDATE, the CRM receives it, and nothing else is re-sent", async (t) => {
  const f = await setupSync(t, {
    prefix: "sweep",
    config: { sections: { housekeeping: { ...ALL_OFF, sweep_schedule: "* * * * * *" } } },
  });
  // Ten minutes old: outside capture's 60 s look-back, inside the 48 h sweep window.
  const tenMinutesAgo = shiftBitrixTime(bitrixNow(), -600);
  const bumped = await createOrder(f.db.pool, {}, { dateUpdate: tenMinutesAgo });
  const untouched = await createOrder(f.db.pool, {}, { dateUpdate: tenMinutesAgo });
  const fresh = await createOrder(f.db.pool);
  const sidecar = await f.startSidecar();
  await f.crm.waitFor(
    (c) => [bumped, untouched, fresh].every((id) => c.acceptedFor(id).length === 1),
    15_000,
    "the three orders",
  );
  await waitForRuns(sidecar, "reconciliation sweep done", 2);

  const [before] = await f.db.query<{ PRICE: string; DATE_UPDATE: string }>(
    "SELECT PRICE, DATE_UPDATE FROM b_sale_order WHERE ID = ?",
    [bumped],
  );
  await f.db.pool.query("UPDATE b_sale_order SET VERSION = VERSION + 1, PRICE = PRICE + 500 WHERE ID = ?", [
    bumped,
  ]);
  await f.crm.waitFor((c) => c.acceptedFor(bumped).length === 2, 20_000, "the swept order");
  assert.deepEqual(acceptedVersions(f.crm, bumped), [
    ["order.create", "0"],
    ["order.update", "1"],
  ]);
  const sent = f.crm.acceptedFor(bumped)[1]!.data;
  assert.equal(Number(sent["PRICE"]), Number(before!.PRICE) + 500);
  const [after] = await f.db.query<{ DATE_UPDATE: string }>(
    "SELECT DATE_UPDATE FROM b_sale_order WHERE ID = ?",
    [bumped],
  );
  assert.equal(after!.DATE_UPDATE, before!.DATE_UPDATE, "DATE_UPDATE never moved");

  await waitForRuns(sidecar, "reconciliation sweep done", 3);
  assert.equal(f.crm.acceptedFor(bumped).length, 2, "sent once");
  assert.equal(f.crm.acceptedFor(untouched).length, 1, "unchanged orders are not re-sent");
  assert.equal(f.crm.acceptedFor(fresh).length, 1);

  const lines = sidecar.logLines();
  const queuedLine = lines.find((l) => l.msg === "order queued by sweep" && l["orderId"] === bumped);
  assert.equal(queuedLine?.["job"], "sweep");
  const sweepLine = lines.find((l) => l.msg === "reconciliation sweep done" && l["queued"] === 1);
  assert.deepEqual(sweepLine?.["orderIds"], [bumped]);
  assert.equal(sweepLine?.["component"], "housekeeping");
  const outboxReason = lines.find((l) => l.msg === "order delivered" && l["orderId"] === bumped);
  assert.ok(outboxReason, "delivered like any other entry");
  assert.equal((await sidecar.stop()).code, 0);
});

test("the full sweep finds an order whose basket changed with neither VERSION nor DATE_UPDATE moving; unchanged ones stay unsent", async (t) => {
  const f = await setupSync(t, {
    prefix: "fullsweep",
    config: {
      sections: {
        housekeeping: {
          ...ALL_OFF,
          sweep_schedule: "* * * * * *",
          full_sweep_schedule: "* * * * * *",
          full_sweep_chunk_size: 10,
        },
      },
    },
  });
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) ids.push(await createOrder(f.db.pool));
  const changed = ids[4]!;
  const sidecar = await f.startSidecar();
  await f.crm.waitFor((c) => ids.every((id) => c.acceptedFor(id).length === 1), 15_000, "twelve orders");
  await waitForRuns(sidecar, "full sweep done", 2);

  const [line] = await f.db.query<{ ID: number; PRICE: string }>(
    "SELECT ID, PRICE FROM b_sale_basket WHERE ORDER_ID = ? ORDER BY ID LIMIT 1",
    [changed],
  );
  await f.db.pool.query("UPDATE b_sale_basket SET PRICE = PRICE + 1000 WHERE ID = ?", [line!.ID]);
  await f.crm.waitFor(
    (c) => c.acceptedFor(changed).length === 2,
    20_000,
    "the order with the changed basket",
  );
  assert.deepEqual(acceptedVersions(f.crm, changed), [
    ["order.create", "0"],
    ["order.update", "0"],
  ]);
  const basket = f.crm.acceptedFor(changed)[1]!.data["basket"] as Array<Record<string, string>>;
  assert.equal(
    Number(basket.find((b) => Number(b["ID"]) === line!.ID)?.["PRICE"]),
    Number(line!.PRICE) + 1000,
  );

  await waitForRuns(sidecar, "full sweep done", 2);
  assert.equal(f.crm.acceptedFor(changed).length, 2, "sent once");
  for (const id of ids.filter((x) => x !== changed))
    assert.equal(f.crm.acceptedFor(id).length, 1, `order ${id} is not re-sent`);
  const done = sidecar.logLines().filter((l) => l.msg === "full sweep done");
  const last = done.at(-1)!;
  assert.equal(last["scanned"], 12);
  assert.equal(last["chunks"], 2, "twelve orders in chunks of ten");
  assert.equal(last["queued"], 0);
  assert.ok(
    done.some((l) => l["queued"] === 1 && JSON.stringify(l["orderIds"]) === JSON.stringify([changed])),
  );
  assert.equal((await sidecar.stop()).code, 0);
});

test("with write-back on, the sweeps never send the CRM's own status change back", async (t) => {
  const f = await setupSync(t, { prefix: "sweep_wb" });
  const { feed, writeback } = await startFeedWriteback(t, f);
  f.writeConfig({
    sections: {
      writeback,
      housekeeping: { ...ALL_OFF, sweep_schedule: "* * * * * *", full_sweep_schedule: "* * * * * *" },
    },
  });
  const id = await createOrder(f.db.pool);
  const sidecar = await f.startSidecar();
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "order.create");
  feed.push({ order_id: id, status: "in_transit" });
  await sidecar.waitForLog((l) => l.msg === "status applied" && l["orderId"] === id, 15_000, "write-back");
  await waitForRuns(sidecar, "full sweep done", 3);
  await waitForRuns(sidecar, "reconciliation sweep done", 2);
  assert.deepEqual(acceptedVersions(f.crm, id), [["order.create", "0"]], "no echo of the CRM's own change");
  const [row] = await f.db.query<{ STATUS_ID: string; VERSION: number }>(
    "SELECT STATUS_ID, VERSION FROM b_sale_order WHERE ID = ?",
    [id],
  );
  assert.deepEqual({ ...row }, { STATUS_ID: "DE", VERSION: 1 });
  assert.ok(!sidecar.logLines().some((l) => l.msg === "order queued by sweep"));
  assert.equal((await sidecar.stop()).code, 0);
});

test("prune, checkpoint and the daily summary each log one line in the running daemon", async (t) => {
  const f = await setupSync(t, {
    prefix: "prune",
    config: {
      sections: {
        housekeeping: {
          ...ALL_OFF,
          prune_schedule: "* * * * * *",
          checkpoint_schedule: "* * * * * *",
          summary_schedule: "* * * * * *",
        },
      },
    },
  });
  const id = await createOrder(f.db.pool);
  const sidecar = await f.startSidecar();
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "the order");
  // The delivery result is committed just after the CRM answered: a summary may run in between.
  const summary = await sidecar.waitForLog(
    (l) => l.msg === "daily summary" && l["delivered"] === 1,
    20_000,
    "a summary counting the delivery",
  );
  await waitForRuns(sidecar, "state pruned", 1);
  await waitForRuns(sidecar, "state checkpointed", 1);
  const lines = sidecar.logLines();
  assert.equal(summary["queued"], 1);
  assert.deepEqual(summary["queuedByReason"], { capture: 1 });
  assert.equal(summary["failedAttempts"], 0);
  assert.equal(summary["deadLetters"], 0);
  const pruned = lines.filter((l) => l.msg === "state pruned").at(-1)!;
  assert.deepEqual(pruned["deleted"], {
    deliveredRows: 0,
    attempts: 0,
    orphanAttempts: 0,
    writebackChanges: 0,
    writebackWrites: 0,
  });
  assert.equal(lines.filter((l) => l.msg === "state checkpointed").at(-1)!["busy"], 0);
  const scheduled = lines.find((l) => l.msg === "housekeeping scheduled");
  assert.equal((scheduled?.["schedules"] as Record<string, string> | undefined)?.["sweep"], "off");
  assert.equal((await sidecar.stop()).code, 0);
  assert.ok(
    !sidecar.logLines().some((l) => l.msg === "housekeeping job failed"),
    "no job failed, not even at shutdown",
  );
});

test("an invalid cron expression exits 78 naming the key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cvety-hk-cfg-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "config.toml");
  writeFileSync(
    file,
    `[mysql]\nurl = "mysql://root:@127.0.0.1:3306/x"\n[crm]\nurl = "https://crm.example/webhooks/bitrix/order"\ntoken = "t"\n` +
      `[state]\ndir = "${join(dir, "state")}"\n[log]\nfile = "${join(dir, "log")}"\n` +
      `[housekeeping]\nsweep_schedule = "every five minutes"\n`,
  );
  const r = await runCli(["run", "--config", file]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /housekeeping\.sweep_schedule/);
  assert.match(r.stderr, /cron expression/);
});
