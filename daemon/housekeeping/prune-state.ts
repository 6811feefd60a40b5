import { type HousekeepingStore, PRUNE_BATCH, type PruneCounts } from "./housekeeping-store.js";
import type { JobReport } from "./scheduled-job.js";
import { yieldToLoop } from "./sweep-io.js";

export interface PruneSettings {
  keepDeliveredDays: number;
  keepAttemptsPerEntry: number;
  keepWritebackChangesDays: number;
  keepWritebackWritesHours: number;
}

const DAY_MS = 86_400_000;

/**
 * Forgets history the state no longer needs, one short transaction per batch:
 * - delivered outbox rows (and their attempts) older than keep_delivered_days;
 *   dead letters stay until ops retry or drop them; delivered_orders and
 *   captured_orders stay forever (one row per order: the sweeps and the
 *   "never older than delivered" rule compare with them);
 * - attempts beyond the newest keep_attempts_per_entry of a long-retrying or
 *   dead entry, and attempts of entries replaced or dropped (row gone) older
 *   than keep_delivered_days;
 * - writeback_changes older than keep_writeback_changes_days (`status`
 *   counts, and the dedupe of a source page re-read: the Supabase look-back is
 *   at most an hour, the feed re-reads only after its cursor);
 * - writeback_writes older than keep_writeback_writes_hours: the no-echo key
 *   is needed until capture (look-back ≤ 1 day) and the sweep (its window)
 *   have met the row; later the captured key equals Bitrix's and the sweeps
 *   leave the order alone, and write-back's conflict rule falls back to
 *   comparing DATE_STATUS (config validation keeps it ≥ window + 24 h).
 */
export async function runPrune(
  store: HousekeepingStore,
  settings: PruneSettings,
  signal: AbortSignal,
  nowMs: number = Date.now(),
): Promise<JobReport> {
  const counts: PruneCounts = {
    deliveredRows: 0,
    attempts: 0,
    orphanAttempts: 0,
    writebackChanges: 0,
    writebackWrites: 0,
  };
  const deliveredCutoff = nowMs - settings.keepDeliveredDays * DAY_MS;
  for (;;) {
    if (signal.aborted) break;
    const r = store.pruneDeliveredBatch(deliveredCutoff);
    counts.deliveredRows += r.rows;
    counts.attempts += r.attempts;
    if (r.rows < PRUNE_BATCH) break;
    await yieldToLoop();
  }
  if (!signal.aborted) counts.attempts += store.trimAttempts(settings.keepAttemptsPerEntry);
  counts.orphanAttempts = await drain(() => store.pruneOrphanAttemptsBatch(deliveredCutoff), signal);
  counts.writebackChanges = await drain(
    () => store.pruneWritebackChangesBatch(nowMs - settings.keepWritebackChangesDays * DAY_MS),
    signal,
  );
  counts.writebackWrites = await drain(
    () => store.pruneWritebackWritesBatch(nowMs - settings.keepWritebackWritesHours * 3_600_000),
    signal,
  );
  return { msg: "state pruned", fields: { deleted: counts } };
}

async function drain(batch: () => number, signal: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal.aborted) {
    const n = batch();
    total += n;
    if (n < PRUNE_BATCH) break;
    await yieldToLoop();
  }
  return total;
}
