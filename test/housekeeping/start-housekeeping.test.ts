import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { housekeepingConfigSchema } from "../../daemon/config/housekeeping-config.js";
import { startHousekeeping } from "../../daemon/housekeeping/start-housekeeping.js";
import { createMysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-hk-schedule-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("node-cron runs a job on its seconds schedule; a reload turns it off; stop ends the schedules", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  const state = openStateDb(dir);
  // Never connected: every job that would need MySQL is off.
  const mysql = createMysqlPool(
    { host: "127.0.0.1", port: 1, user: "x", password: "", database: "x", source: "test" },
    { connectTimeoutMs: 100, poolSize: 1 },
  );
  const off = {
    sweep_schedule: "off",
    full_sweep_schedule: "off",
    prune_schedule: "off",
    checkpoint_schedule: "off",
  };
  const housekeeping = startHousekeeping({
    settings: housekeepingConfigSchema.parse({ ...off, summary_schedule: "* * * * * *" }),
    capture: { lookback_s: 60, settle_ms: 100, batch_size: 500 },
    mysql,
    outbox: new OutboxStore(state),
    log,
    onEnqueued: () => {},
  });
  const summaries = () => lines.filter((l) => l["msg"] === "daily summary").length;
  for (let i = 0; i < 50 && summaries() < 2; i++) await sleep(100);
  assert.ok(summaries() >= 2, "ran every second");

  housekeeping.updateSettings(housekeepingConfigSchema.parse({ ...off, summary_schedule: "off" }), {
    lookback_s: 60,
    settle_ms: 100,
    batch_size: 500,
  });
  await sleep(100);
  const afterReload = summaries();
  await sleep(1_500);
  assert.equal(summaries(), afterReload, "no run once its schedule is off");
  const scheduled = lines.filter((l) => l["msg"] === "housekeeping scheduled");
  assert.equal(scheduled.length, 2, "one line per (re)schedule");
  assert.equal((scheduled[1]!["schedules"] as Record<string, string>)["summary"], "off");

  assert.equal(await housekeeping.stop(1_000), true);
  // A manual trigger after stop is refused: the daemon closes the state next.
  assert.equal(await housekeeping.jobs.get("summary")!.trigger(), "skipped");
  state.close();
  await mysql.end();
});

test("the [housekeeping] defaults", () => {
  const d = housekeepingConfigSchema.parse(undefined);
  assert.deepEqual(d, {
    sweep_schedule: "*/5 * * * *",
    sweep_window_hours: 48,
    full_sweep_schedule: "30 3 * * *",
    full_sweep_chunk_size: 500,
    full_sweep_pause_ms: 100,
    prune_schedule: "15 4 * * *",
    keep_delivered_days: 14,
    keep_attempts_per_entry: 50,
    keep_writeback_changes_days: 30,
    keep_writeback_writes_hours: 168,
    checkpoint_schedule: "0 * * * *",
    summary_schedule: "0 9 * * *",
  });
  assert.equal(housekeepingConfigSchema.safeParse({ prune_schedule: "0 4 * *" }).success, false);
  assert.equal(housekeepingConfigSchema.safeParse({ prune_schedule: "*/10 * * * * *" }).success, true);
  assert.equal(
    housekeepingConfigSchema.safeParse({ sweep_window_hours: 200, keep_writeback_writes_hours: 200 }).success,
    false,
    "write-back's own rows must outlive the sweep window",
  );
});
