import type { HousekeepingStore } from "./housekeeping-store.js";
import type { JobReport } from "./scheduled-job.js";

/**
 * Moves the WAL back into outbox.db and truncates it (a long-lived WAL only
 * grows while a reader, say a CLI, holds it), then lets SQLite refresh its
 * planner statistics. `busy` > 0 means a reader kept part of the WAL: the
 * next run finishes it.
 */
export function runCheckpoint(store: HousekeepingStore): Promise<JobReport> {
  const checkpoint = store.checkpoint();
  store.optimize();
  return Promise.resolve({ msg: "state checkpointed", fields: { ...checkpoint, optimized: true } });
}
