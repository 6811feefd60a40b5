import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { wallClockNow } from "../../daemon/capture/bitrix-datetime.js";
import { loadConfig } from "../../daemon/config/load-config.js";
import { PAUSE_RUNTIME_KEY } from "../../daemon/delivery/delivery-service.js";
import { formatStatus } from "../../daemon/ops/format-status.js";
import { readStatus } from "../../daemon/ops/read-status.js";
import { DEFAULT_THRESHOLDS, findProblems } from "../../daemon/ops/status-problems.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { WRITEBACK_CURSOR, WritebackStore } from "../../daemon/writeback/writeback-store.js";
import { freeLoopbackPort } from "../support/free-port.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function configWithWriteback(listen = "off") {
  const dir = mkdtempSync(join(tmpdir(), "cvety-status-"));
  dirs.push(dir);
  const file = join(dir, "config.toml");
  writeFileSync(
    file,
    `[mysql]\nurl = "mysql://u@127.0.0.1:1/shop"\n[crm]\nurl = "https://crm.example/webhooks/bitrix/order"\ntoken = "t"\n` +
      `[state]\ndir = "state"\n[log]\nfile = "sidecar.log"\n[http]\nlisten = "${listen}"\n` +
      `[writeback]\nenabled = true\nsource = "feed"\nurl = "https://crm.example/feed"\ntoken = "w"\n`,
  );
  return loadConfig({ path: file, env: {} });
}

test("with the daemon stopped, status reads write-back and the last delivery pause from the state", async () => {
  const config = await configWithWriteback();
  const db = openStateDb(config.state.dir);
  const outbox = new OutboxStore(db);
  outbox.setRuntime(PAUSE_RUNTIME_KEY, { reason: "HTTP 401: Invalid token", sinceMs: Date.now() - 60_000 });
  const wb = new WritebackStore(db);
  wb.record(
    { source: "feed", changeKey: "c1", dryRun: false, outcome: "applied", orderId: 5, raw: "{}" },
    { name: WRITEBACK_CURSOR, value: "c1" },
  );
  wb.record({ source: "feed", changeKey: "c2", dryRun: false, outcome: "refused", orderId: 6, raw: "{}" });
  wb.setPause({ code: "E_GRANT", reason: "UPDATE command denied on b_sale_order", sinceMs: Date.now() });
  db.close();

  const report = await readStatus(config);
  assert.equal(report.daemon.running, false);
  assert.equal(report.daemon.healthUrl, null, "[http] listen = off: nothing asked");
  assert.deepEqual(report.delivery, {
    paused: true,
    reason: "HTTP 401: Invalid token",
    pausedSince: report.delivery.pausedSince,
    fromLastRun: true,
  });
  assert.ok(report.writeback.enabled);
  assert.equal(report.writeback.cursor, "c1");
  assert.equal(report.writeback.outcomes?.applied, 1);
  assert.equal(report.writeback.outcomes?.refused, 1);
  assert.equal(report.writeback.paused, true);

  const problems = findProblems(report, DEFAULT_THRESHOLDS);
  assert.deepEqual(
    problems.map((p) => p.code),
    ["daemon_not_running", "delivery_paused", "writeback_paused"],
  );
  const text = formatStatus(report, problems);
  assert.match(
    text,
    /^write-back +feed · PAUSED: UPDATE command denied on b_sale_order · cursor "c1" · applied 1 · refused 1 · last change \S+ ago$/m,
  );
  assert.match(text, /^delivery +PAUSED when the daemon stopped: HTTP 401: Invalid token$/m);
  assert.match(text, /✖ delivery was paused when the daemon stopped: HTTP 401: Invalid token/);
});

test("a live daemon pid that does not answer /healthz, and an entry pending too long, need a person", async () => {
  const config = await configWithWriteback(`127.0.0.1:${await freeLoopbackPort()}`);
  const db = openStateDb(config.state.dir);
  const twentyMinutesAgo = Date.now() - 20 * 60_000;
  new OutboxStore(db, () => twentyMinutesAgo).enqueue(
    [
      {
        orderId: 3,
        version: 1,
        dateUpdate: wallClockNow(config.timezone),
        payload: "{}",
        hash: "h",
        idempotencyKey: "k",
      },
    ],
    "capture",
  );
  db.close();
  // This test process stands in for a daemon that holds the lock but whose HTTP listener hangs or died.
  writeFileSync(join(config.state.dir, "daemon.pid"), `${process.pid}\n`);

  const report = await readStatus(config);
  assert.equal(report.daemon.running, true);
  assert.equal(report.daemon.answering, false);
  assert.equal(report.daemon.pid, process.pid);
  const problems = findProblems(report, DEFAULT_THRESHOLDS);
  assert.deepEqual(
    problems.map((p) => p.code),
    ["daemon_not_answering", "pending_age"],
  );
  const text = formatStatus(report, problems);
  assert.match(text, new RegExp(`^daemon +running, NOT ANSWERING · pid ${process.pid}$`, "m"));
  assert.match(text, /✖ the oldest pending entry waits for 20m \d+s \(above 600s\)/);
  assert.equal(findProblems(report, { ...DEFAULT_THRESHOLDS, maxPendingAgeS: 3600 }).length, 1);
});
