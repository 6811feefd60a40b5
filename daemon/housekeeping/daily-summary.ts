import type { HousekeepingStore } from "./housekeeping-store.js";
import type { JobReport } from "./scheduled-job.js";

const DAY_MS = 86_400_000;

/**
 * One line with the last 24 hours: outbox rows queued by reason, delivery
 * attempts by outcome (delivered, retry, crm_error, rejected, endpoint), new
 * and total dead letters, what is pending now, and write-back outcomes.
 */
export function runDailySummary(store: HousekeepingStore, nowMs: number = Date.now()): Promise<JobReport> {
  const s = store.summarySince(nowMs - DAY_MS);
  const failed = Object.entries(s.attempts)
    .filter(([outcome]) => outcome !== "delivered")
    .reduce((sum, [, n]) => sum + n, 0);
  return Promise.resolve({
    msg: "daily summary",
    fields: {
      periodHours: 24,
      queued: Object.values(s.queued).reduce((a, b) => a + b, 0),
      queuedByReason: s.queued,
      delivered: s.attempts["delivered"] ?? 0,
      failedAttempts: failed,
      attemptsByOutcome: s.attempts,
      newDeadLetters: s.newDead,
      deadLetters: s.dead,
      pending: s.pending,
      writeback: s.writeback,
    },
  });
}
