import { type CapturedKey, compareSnapshots } from "../capture/plan-capture.js";
import type { OutboxState } from "../outbox/outbox-store.js";

/**
 * What `outbox retry` does with one entry, decided from values. The rules it
 * keeps (those of the outbox, see outbox-store.ts):
 * - at most one pending entry per order: a retried entry replaces an older
 *   pending one (coalescing into the newest), never joins it;
 * - per order, never an older snapshot after a newer one (by VERSION, then
 *   DATE_UPDATE): an entry older than the pending one, or than what the CRM
 *   already got, is not sent again.
 */

export interface RetryCandidate extends CapturedKey {
  id: number;
  state: OutboxState;
}

export interface PendingKey extends CapturedKey {
  id: number;
}

export type RetryPlan =
  /** Already pending: only made due now. */
  | { kind: "due" }
  /** Back to pending, due now; `replacesId`: the older pending entry of the order it replaces. */
  | { kind: "requeue"; replacesId?: number }
  /** Not sent again: a newer (or the same) snapshot of the order is pending; that one is made due now. */
  | { kind: "superseded_by_pending"; pendingId: number }
  /** Not sent again: the CRM already has a newer snapshot of the order. */
  | { kind: "superseded_by_delivered"; delivered: CapturedKey };

export function planRetry(
  entry: RetryCandidate,
  pending: PendingKey | undefined,
  delivered: CapturedKey | undefined,
): RetryPlan {
  if (entry.state === "pending") return { kind: "due" };
  if (pending) {
    if (compareSnapshots(entry, pending) <= 0)
      return { kind: "superseded_by_pending", pendingId: pending.id };
    // The pending one is older: it gives way, as it would to a newer capture.
    if (delivered && compareSnapshots(entry, delivered) < 0)
      return { kind: "superseded_by_delivered", delivered };
    return { kind: "requeue", replacesId: pending.id };
  }
  if (delivered && compareSnapshots(entry, delivered) < 0)
    return { kind: "superseded_by_delivered", delivered };
  return { kind: "requeue" };
}
