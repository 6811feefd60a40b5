import { validate as isValidCron } from "node-cron";
import { z } from "zod";

/**
 * The `[housekeeping]` section: when each scheduled job runs (node-cron
 * expressions, five fields, or six with seconds first; "off" disables a job)
 * and how much history the state keeps. Times of day are this host's zone.
 */

const cronSchedule = z
  .string()
  .refine(
    (s) => s === "off" || isValidCron(s),
    'expected a cron expression ("*/5 * * * *", seconds first if six fields) or "off"',
  );

const positiveInt = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * The longest capture look-back ([capture] lookback_s is at most a day): a
 * write-back's own row must still be recognised when capture or the sweep
 * first meets it, so writeback_writes outlives the sweep window by this much.
 */
const MAX_CAPTURE_LOOKBACK_HOURS = 24;

export const housekeepingConfigSchema = z
  .strictObject({
    /** Reconciliation sweep: orders changed in the last `sweep_window_hours`, by (ID, VERSION, DATE_UPDATE). */
    sweep_schedule: cronSchedule.default("*/5 * * * *"),
    sweep_window_hours: positiveInt(1, 24 * 30).default(48),
    /** Full sweep: every order, in ID chunks, by snapshot hash. */
    full_sweep_schedule: cronSchedule.default("30 3 * * *"),
    /** Orders per chunk (one keyset page by ID, one batched snapshot read). */
    full_sweep_chunk_size: positiveInt(10, 5_000).default(500),
    /** Pause between chunks, so the full sweep never keeps MySQL busy for long. */
    full_sweep_pause_ms: positiveInt(0, 60_000).default(100),
    /** Prune old delivered rows, attempts and write-back history. */
    prune_schedule: cronSchedule.default("15 4 * * *"),
    /** Delivered outbox rows (and their attempts) older than this go; dead letters stay. */
    keep_delivered_days: positiveInt(1, 3_650).default(14),
    /** Attempts kept per outbox entry (the newest); a long-retrying entry keeps only these. */
    keep_attempts_per_entry: positiveInt(1, 10_000).default(50),
    /** writeback_changes: outcomes for `status`, and the re-read dedupe of the source's look-back. */
    keep_writeback_changes_days: positiveInt(1, 3_650).default(30),
    /** writeback_writes: no-echo keys; must outlive the sweep window plus capture's look-back. */
    keep_writeback_writes_hours: positiveInt(1, 24 * 3_650).default(24 * 7),
    /** WAL checkpoint (TRUNCATE) and PRAGMA optimize. */
    checkpoint_schedule: cronSchedule.default("0 * * * *"),
    /** One log line with the last 24 hours in numbers. */
    summary_schedule: cronSchedule.default("0 9 * * *"),
  })
  .refine((h) => h.keep_writeback_writes_hours >= h.sweep_window_hours + MAX_CAPTURE_LOOKBACK_HOURS, {
    path: ["keep_writeback_writes_hours"],
    message: `must be at least sweep_window_hours + ${MAX_CAPTURE_LOOKBACK_HOURS}: the sweep recognises write-back's own rows by it`,
  })
  .prefault({});

export type HousekeepingSettings = z.infer<typeof housekeepingConfigSchema>;
