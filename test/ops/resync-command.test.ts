import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { test } from "node:test";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { createOrder, rawUpdate } from "../support/bitrix-writer.js";
import { runCli, SIDECAR_BIN } from "../support/sidecar-process.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";

const execFileAsync = promisify(execFile);

function resyncRows(f: SyncFixture): Array<{ order_id: number; version: number; state: string }> {
  const db = new Database(`${f.stateDir}/outbox.db`, { readonly: true });
  try {
    return db
      .prepare("SELECT order_id, version, state FROM outbox WHERE reason = 'resync' ORDER BY id")
      .all() as Array<{ order_id: number; version: number; state: string }>;
  } finally {
    db.close();
  }
}

/** A port free right now, for [http] listen: resync wakes the daemon there (POST /wake). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("resync re-sends named orders and a DATE_UPDATE range to the CRM while the daemon runs", async (t) => {
  // batch_size 1: a range of two orders is "large" and shows progress.
  const f = await setupSync(t, {
    prefix: "resync",
    config: { sections: { capture: { batch_size: 1 }, http: { listen: `127.0.0.1:${await freePort()}` } } },
  });
  const ids = [
    await createOrder(f.db.pool, {}, { dateUpdate: "2026-01-01 10:00:00" }),
    await createOrder(f.db.pool, {}, { dateUpdate: "2026-01-02 10:00:00" }),
    await createOrder(f.db.pool, {}, { dateUpdate: "2026-01-03 10:00:00" }),
  ] as const;
  await f.startSidecar();
  await f.crm.waitFor((c) => ids.every((id) => c.acceptedFor(id).length === 1), 20_000, "first deliveries");
  const cfg = ["-c", f.configFile];

  // Usage errors name the option; nothing is read or written.
  const badDate = await runCli(["resync", ...cfg, "--since", "2026-02-30"]);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /--since: expected a Bitrix date and time .* got "2026-02-30"/);
  const backwards = await runCli(["resync", ...cfg, "--since", "2026-01-03", "--until", "2026-01-02"]);
  assert.equal(backwards.code, 2);
  assert.match(
    backwards.stderr,
    /--until \(2026-01-02 00:00:00\) must be after --since \(2026-01-03 00:00:00\)/,
  );
  const nothing = await runCli(["resync", ...cfg]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /--order ID\.\.\. or --since DATE/);

  // Dry run: says what it would queue, queues nothing.
  const dry = await runCli(["resync", ...cfg, "--order", String(ids[0]), "--dry-run"]);
  assert.doesNotMatch(dry.stdout, /woken/);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run, nothing written: would queue 1 order for delivery/);
  assert.match(dry.stdout, new RegExp(`^ {2}${ids[0]} {2}v0 {2}updated 2026-01-01 10:00:00$`, "m"));
  assert.deepEqual(resyncRows(f), []);

  // Named orders, one unknown: the known one is queued, the unknown named, exit 1.
  const named = await runCli(["resync", ...cfg, "--order", String(ids[0]), "999999"]);
  assert.equal(named.code, 1, named.stderr);
  assert.match(named.stdout, /resync of 2 orders asked for: 1 found in Bitrix/);
  assert.match(named.stdout, /queued 1 order for delivery \(reason resync\)/);
  assert.match(named.stdout, /not in Bitrix: 999999/);
  assert.deepEqual(
    resyncRows(f).map((r) => r.order_id),
    [ids[0]],
  );
  assert.match(named.stdout, /daemon woken: it delivers them now/);
  await f.crm.waitFor((c) => c.acceptedFor(ids[0]).length === 2, 20_000, "the resent order");
  const again = f.crm.acceptedFor(ids[0])[1]!;
  assert.equal(again.event, "order.update", "the CRM knows the order: an update");
  assert.equal(again.data["VERSION"], "0");
  assert.equal(again.data["DATE_UPDATE"], "01.01.2026 10:00:00", "the same snapshot, sent again");

  // A range over DATE_UPDATE (Bitrix wall clock), half-open: the 2nd and 3rd orders only.
  const range = await runCli([
    "resync",
    ...cfg,
    "--since",
    "2026-01-02",
    "--until",
    "2026-01-03 10:00:01",
    "--json",
  ]);
  assert.equal(range.code, 0, range.stderr);
  const summary = JSON.parse(range.stdout) as Record<string, unknown>;
  assert.equal(summary["found"], 2);
  assert.equal(summary["enqueued"], 2);
  assert.deepEqual(summary["missing"], []);
  assert.deepEqual(summary["target"], {
    kind: "range",
    since: "2026-01-02 00:00:00",
    until: "2026-01-03 10:00:01",
  });
  assert.match(range.stderr, /^resync: 1\/2 orders read, 1 queued$/m, "plain progress lines off a terminal");
  assert.match(range.stderr, /^resync: 2\/2 orders read, 2 queued$/m);
  assert.equal(summary["woken"], true);
  await f.crm.waitFor(
    (c) => c.acceptedFor(ids[1]).length === 2 && c.acceptedFor(ids[2]).length === 2,
    20_000,
    "the range resent",
  );
  assert.deepEqual(
    [ids[1], ids[2]].map((id) => f.crm.acceptedFor(id)[1]!.event),
    ["order.update", "order.update"],
  );
  assert.equal(f.crm.acceptedFor(ids[0]).length, 2, "the first order is outside the range");
  assert.ok(
    resyncRows(f).every((r) => r.state === "delivered"),
    "every resync row delivered",
  );

  // On a terminal (script(1) gives it one) the progress is a bar, drawn on stderr.
  const { stdout: onTty } = await execFileAsync("script", [
    "-q",
    "-e",
    "-c",
    `${process.execPath} ${SIDECAR_BIN} resync -c ${f.configFile} --since 2026-01-01 --until 2026-01-04 --dry-run`,
    "/dev/null",
  ]);
  assert.match(onTty, /resync \[[█░]+\] 3\/3 orders read \| ETA/);
  assert.match(onTty, /would queue 3 orders for delivery/);

  // An order in the middle of being created (RUNNING='Y', as Bitrix leaves it until its children are
  // written) is never sent half: resync skips it and says so; capture sends it once the save completes.
  await rawUpdate(f.db.pool, ids[2], { RUNNING: "Y" });
  const busyRange = await runCli(["resync", ...cfg, "--since", "2026-01-03", "--until", "2026-01-04"]);
  assert.equal(busyRange.code, 0, busyRange.stderr);
  assert.match(busyRange.stdout, /: 1 found in Bitrix\nqueued 0 orders for delivery/);
  assert.match(
    busyRange.stdout,
    new RegExp(`skipped 1 being saved right now \\(capture sends them once saved\\): ${ids[2]}`),
  );
  const busyNamed = await runCli(["resync", ...cfg, "--order", String(ids[2])]);
  assert.equal(busyNamed.code, 0, busyNamed.stderr);
  assert.match(busyNamed.stdout, new RegExp(`skipped 1 being saved right now .*: ${ids[2]}`));
  assert.equal(resyncRows(f).filter((r) => r.order_id === ids[2]).length, 1, "nothing more queued for it");
  await rawUpdate(f.db.pool, ids[2], { RUNNING: "N" });
});
