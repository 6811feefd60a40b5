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

/** The [capture] settings the sweeps follow (capture's territory, settle time, page size). */
export interface CaptureLimits {
  lookback_s: number;
  settle_ms: number;
  batch_size: number;
}

export interface HousekeepingDeps {
  settings: HousekeepingSettings;
  capture: CaptureLimits;
  mysql: MysqlPool;
  outbox: OutboxStore;
  log: Logger;
  /** Wakes delivery after a sweep queued something. */
  onEnqueued: () => void;
}

export interface RunningHousekeeping {
  /** The jobs by name (tests and ops may `trigger()` one). */
  jobs: ReadonlyMap<HousekeepingJobName, ScheduledJob>;
  /**
   * Hot reload: new schedules and limits apply from the next run (a job
   * running now finishes with the old ones).
   */
  updateSettings(settings: HousekeepingSettings, capture: CaptureLimits): void;
  /** No new runs; a running job is asked to stop and awaited at most graceMs. False if one still runs. */
  stop(graceMs: number): Promise<boolean>;
}

/** The `*_schedule` key of each job. */
const SCHEDULE_KEYS: Record<HousekeepingJobName, keyof HousekeepingSettings> = {
  sweep: "sweep_schedule",
  full_sweep: "full_sweep_schedule",
  prune: "prune_schedule",
  checkpoint: "checkpoint_schedule",
  summary: "summary_schedule",
};

/**
 * Builds the housekeeping jobs on the daemon's state connection and
 * schedules each with node-cron (its `*_schedule` key; "off" disables it).
 * Overlap is prevented by ScheduledJob itself, which logs the skipped run.
 */
export function startHousekeeping(deps: HousekeepingDeps): RunningHousekeeping {
  const { log } = deps;
  let settings = deps.settings;
  let capture = deps.capture;
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
  // Each run reads the settings current at its start.
  const runs: Record<HousekeepingJobName, JobFn> = {
    sweep: (signal) =>
      runReconciliationSweep(
        sweepDeps,
        { windowHours: settings.sweep_window_hours, pageSize: capture.batch_size },
        signal,
      ),
    full_sweep: (signal) =>
      runFullSweep(
        sweepDeps,
        { chunkSize: settings.full_sweep_chunk_size, pauseMs: settings.full_sweep_pause_ms },
        signal,
      ),
    prune: (signal) =>
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
    checkpoint: () => runCheckpoint(store),
    summary: () => runDailySummary(store),
  };

  const jobs = new Map<HousekeepingJobName, ScheduledJob>(
    HOUSEKEEPING_JOBS.map((name) => [name, new ScheduledJob(name, runs[name], log)]),
  );
  const cronLogger = {
    info: (message: string) => log.debug({ component: "housekeeping" }, message),
    debug: (message: string | Error) => log.debug({ component: "housekeeping" }, String(message)),
    warn: (message: string) => log.warn({ component: "housekeeping" }, message),
    error: (message: string | Error) => log.error({ component: "housekeeping" }, String(message)),
  };
  let tasks: ScheduledTask[] = [];
  const schedule = () => {
    for (const task of tasks) void task.destroy();
    tasks = [];
    const schedules: Record<string, string> = {};
    for (const [name, job] of jobs) {
      const expression = String(settings[SCHEDULE_KEYS[name]]);
      schedules[name] = expression;
      if (expression === "off") continue;
      const task = createTask(
        expression,
        () => {
          // Not awaited: node-cron must not wait on a long run; the job guards overlap itself.
          void job.trigger();
        },
        { name: `cvety-sidecar-${name}`, logger: cronLogger, suppressMissedWarning: true },
      );
      void task.start();
      tasks.push(task);
    }
    log.info({ component: "housekeeping", schedules }, "housekeeping scheduled");
  };
  schedule();

  return {
    jobs,
    updateSettings: (next, nextCapture) => {
      settings = next;
      capture = nextCapture;
      sweepDeps.captureLookbackS = nextCapture.lookback_s;
      sweepDeps.settleMs = nextCapture.settle_ms;
      schedule();
    },
    stop: async (graceMs) => {
      for (const task of tasks) await task.destroy();
      tasks = [];
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
