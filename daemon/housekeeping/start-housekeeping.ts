import { createTask, type ScheduledTask } from "node-cron";
import type { HousekeepingSettings } from "../config/housekeeping-config.js";
import type { Logger } from "../log/create-logger.js";
import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import type { OutboxStore } from "../outbox/outbox-store.js";
import { runCheckpoint } from "./checkpoint-state.js";
import { runDailySummary } from "./daily-summary.js";
import { runFullSweep } from "./full-sweep.js";
import { HousekeepingStore } from "./housekeeping-store.js";
import { runPrune } from "./prune-state.js";
import { runReconciliationSweep } from "./reconciliation-sweep.js";
import { type JobFn, ScheduledJob } from "./scheduled-job.js";
import type { SweepDeps } from "./sweep-io.js";

export const HOUSEKEEPING_JOBS = ["sweep", "full_sweep", "prune", "checkpoint", "summary"] as const;
export type HousekeepingJobName = (typeof HOUSEKEEPING_JOBS)[number];

export interface HousekeepingDeps {
  settings: HousekeepingSettings;
  capture: { lookback_s: number; settle_ms: number; batch_size: number };
  mysql: MysqlPool;
  outbox: OutboxStore;
  log: Logger;
  /** Wakes delivery after a sweep queued something. */
  onEnqueued: () => void;
}

export interface RunningHousekeeping {
  /** The jobs by name (tests and ops may `trigger()` one). */
  jobs: ReadonlyMap<HousekeepingJobName, ScheduledJob>;
  /** No new runs; a running job is asked to stop and awaited at most graceMs. False if one still runs. */
  stop(graceMs: number): Promise<boolean>;
}

/**
 * Builds the housekeeping jobs on the daemon's state connection and
 * schedules each with node-cron (its `*_schedule` key; "off" disables it).
 * Overlap is prevented by ScheduledJob itself, which logs the skipped run.
 */
export function startHousekeeping(deps: HousekeepingDeps): RunningHousekeeping {
  const { settings, log } = deps;
  const store = new HousekeepingStore(deps.outbox.db);
  const sweepDeps: SweepDeps = {
    mysql: deps.mysql,
    outbox: deps.outbox,
    store,
    log,
    captureLookbackS: deps.capture.lookback_s,
    settleMs: deps.capture.settle_ms,
    onEnqueued: deps.onEnqueued,
  };
  const definitions: Record<HousekeepingJobName, { schedule: string; fn: JobFn }> = {
    sweep: {
      schedule: settings.sweep_schedule,
      fn: (signal) =>
        runReconciliationSweep(
          sweepDeps,
          { windowHours: settings.sweep_window_hours, pageSize: deps.capture.batch_size },
          signal,
        ),
    },
    full_sweep: {
      schedule: settings.full_sweep_schedule,
      fn: (signal) =>
        runFullSweep(
          sweepDeps,
          { chunkSize: settings.full_sweep_chunk_size, pauseMs: settings.full_sweep_pause_ms },
          signal,
        ),
    },
    prune: {
      schedule: settings.prune_schedule,
      fn: (signal) =>
        runPrune(
          store,
          {
            keepDeliveredDays: settings.keep_delivered_days,
            keepAttemptsPerEntry: settings.keep_attempts_per_entry,
            keepWritebackChangesDays: settings.keep_writeback_changes_days,
            keepWritebackWritesHours: settings.keep_writeback_writes_hours,
          },
          signal,
        ),
    },
    checkpoint: { schedule: settings.checkpoint_schedule, fn: () => runCheckpoint(store) },
    summary: { schedule: settings.summary_schedule, fn: () => runDailySummary(store) },
  };

  const jobs = new Map<HousekeepingJobName, ScheduledJob>();
  const tasks: ScheduledTask[] = [];
  const cronLogger = {
    info: (message: string) => log.debug({ component: "housekeeping" }, message),
    debug: (message: string | Error) => log.debug({ component: "housekeeping" }, String(message)),
    warn: (message: string) => log.warn({ component: "housekeeping" }, message),
    error: (message: string | Error) => log.error({ component: "housekeeping" }, String(message)),
  };
  for (const name of HOUSEKEEPING_JOBS) {
    const { schedule, fn } = definitions[name];
    const job = new ScheduledJob(name, fn, log);
    jobs.set(name, job);
    if (schedule === "off") continue;
    const task = createTask(
      schedule,
      () => {
        // Not awaited: node-cron must not wait on a long run; the job guards overlap itself.
        void job.trigger();
      },
      { name: `cvety-sidecar-${name}`, logger: cronLogger, suppressMissedWarning: true },
    );
    void task.start();
    tasks.push(task);
  }
  log.info(
    {
      component: "housekeeping",
      schedules: Object.fromEntries(HOUSEKEEPING_JOBS.map((n) => [n, definitions[n].schedule])),
    },
    "housekeeping scheduled",
  );

  return {
    jobs,
    stop: async (graceMs) => {
      for (const task of tasks) await task.destroy();
      const results = await Promise.all([...jobs.values()].map((j) => j.stop(graceMs)));
      const stillRunning = [...jobs.values()].filter((_, i) => !results[i]).map((j) => j.name);
      if (stillRunning.length > 0)
        log.warn(
          { component: "housekeeping", jobs: stillRunning, graceMs },
          "housekeeping job still running at shutdown; it is abandoned",
        );
      return stillRunning.length === 0;
    },
  };
}
