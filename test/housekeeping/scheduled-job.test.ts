import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { ScheduledJob } from "../../daemon/housekeeping/scheduled-job.js";

/** A real pino logger writing JSON lines into memory. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: "debug" }, stream), lines };
}

test("a job triggered while its previous run still runs is skipped and logged, never run twice at once", async () => {
  const { log, lines } = memoryLogger();
  let concurrent = 0;
  let maxConcurrent = 0;
  let runs = 0;
  const job = new ScheduledJob(
    "full_sweep",
    async () => {
      runs++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await sleep(150);
      concurrent--;
      return { msg: "full sweep done", fields: { queued: 0 } };
    },
    log,
  );
  const first = job.trigger();
  assert.equal(job.isRunning, true);
  assert.equal(await job.trigger(), "skipped");
  await sleep(20);
  assert.equal(await job.trigger(), "skipped");
  assert.equal(await first, "done");
  assert.equal(job.isRunning, false);
  assert.equal(await job.trigger(), "done", "runs again once the previous run ended");
  assert.equal(runs, 2);
  assert.equal(maxConcurrent, 1);
  await sleep(10);
  const skipped = lines.filter((l) => l["msg"] === "housekeeping job still running, this run skipped");
  assert.equal(skipped.length, 2);
  assert.equal(skipped[0]!["job"], "full_sweep");
  const done = lines.filter((l) => l["msg"] === "full sweep done");
  assert.equal(done.length, 2, "one line per run");
  assert.equal(done[0]!["queued"], 0);
  assert.equal(typeof done[0]!["durationMs"], "number");
});

test("a failing run logs one error line and the next trigger runs again", async () => {
  const { log, lines } = memoryLogger();
  let calls = 0;
  const job = new ScheduledJob(
    "prune",
    async () => {
      calls++;
      if (calls === 1) throw new Error("disk I/O error");
      return { msg: "state pruned", fields: {} };
    },
    log,
  );
  assert.equal(await job.trigger(), "failed");
  assert.equal(await job.trigger(), "done");
  await sleep(10);
  const failed = lines.filter((l) => l["msg"] === "housekeeping job failed");
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!["err"], "disk I/O error");
  assert.equal(failed[0]!["job"], "prune");
});

test("stop aborts the run in flight, waits for it within the grace, and refuses new runs", async () => {
  const { log, lines } = memoryLogger();
  let sawAbort = false;
  const job = new ScheduledJob(
    "sweep",
    async (signal) => {
      while (!signal.aborted) await sleep(10);
      sawAbort = true;
      return { msg: "reconciliation sweep done", fields: {} };
    },
    log,
  );
  const run = job.trigger();
  await sleep(30);
  assert.equal(await job.stop(2_000), true);
  assert.equal(sawAbort, true);
  assert.equal(await run, "done");
  assert.equal(await job.trigger(), "skipped", "no run after stop");
  await sleep(10);
  assert.equal(lines.find((l) => l["msg"] === "reconciliation sweep done")?.["interrupted"], true);
});

test("stop gives up after the grace when a run ignores the signal", async () => {
  const { log } = memoryLogger();
  const job = new ScheduledJob(
    "full_sweep",
    async () => {
      await sleep(500);
      return { msg: "full sweep done", fields: {} };
    },
    log,
  );
  const run = job.trigger();
  assert.equal(await job.stop(50), false);
  await run;
});
