import type { Statement } from "better-sqlite3";
import { CAPTURE_CURSOR } from "../capture/capture-service.js";
import type { CaptureCursor } from "../capture/plan-capture.js";
import { PAUSE_RUNTIME_KEY } from "../delivery/delivery-service.js";
import type { StateDb } from "../outbox/open-state-db.js";
import type { AttemptOutcome, OutboxState } from "../outbox/outbox-store.js";
import { WritebackStore, type WritebackSummary } from "../writeback/writeback-store.js";

/**
 * The SQL behind `status`, on a read-only connection beside the daemon. Each
 * query walks an index (the attempts' time index backwards for the last
 * success and failure), so `status` stays cheap on a large outbox.
 */

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  "delivered",
  "retry",
  "crm_error",
  "rejected",
  "endpoint",
];

export interface LastAttempt {
  outboxId: number;
  orderId: number;
  attemptedAt: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface StoredDeliveryPause {
  reason: string;
  sinceMs: number;
  /** When the daemon wrote it (runtime_state.updated_at). */
  updatedAt: number;
}

export class StatusQueries {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: StateDb) {
    this.s = {
      counts: db.prepare("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"),
      oldestPending: db.prepare("SELECT MIN(created_at) FROM outbox WHERE state = 'pending'").pluck(),
      attemptsSince: db.prepare(
        "SELECT outcome, COUNT(*) AS n FROM delivery_attempts WHERE attempted_at >= ? GROUP BY outcome",
      ),
      lastSuccess: db.prepare(
        `SELECT outbox_id AS outboxId, order_id AS orderId, attempted_at AS attemptedAt, http_status AS httpStatus, outcome, error
         FROM delivery_attempts WHERE outcome = 'delivered' ORDER BY attempted_at DESC LIMIT 1`,
      ),
      lastFailure: db.prepare(
        `SELECT outbox_id AS outboxId, order_id AS orderId, attempted_at AS attemptedAt, http_status AS httpStatus, outcome, error
         FROM delivery_attempts WHERE outcome <> 'delivered' ORDER BY attempted_at DESC LIMIT 1`,
      ),
      cursor: db.prepare("SELECT value, updated_at AS updatedAt FROM cursors WHERE name = ?"),
      newestCaptured: db.prepare("SELECT MAX(date_update) FROM captured_orders").pluck(),
      runtime: db.prepare("SELECT value, updated_at AS updatedAt FROM runtime_state WHERE key = ?"),
    };
  }

  countsByState(): Record<OutboxState, number> {
    const counts: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of this.s.counts!.all() as { state: OutboxState; n: number }[]) counts[r.state] = r.n;
    return counts;
  }

  oldestPendingCreatedAt(): number | undefined {
    return (this.s.oldestPending!.get() as number | null) ?? undefined;
  }

  /** Delivery attempts since `sinceMs`, by outcome (every outcome present). */
  attemptsSince(sinceMs: number): Record<AttemptOutcome, number> {
    const out = Object.fromEntries(ATTEMPT_OUTCOMES.map((o) => [o, 0])) as Record<AttemptOutcome, number>;
    for (const r of this.s.attemptsSince!.all(sinceMs) as { outcome: AttemptOutcome; n: number }[])
      out[r.outcome] = r.n;
    return out;
  }

  lastSuccess(): LastAttempt | undefined {
    return this.s.lastSuccess!.get() as LastAttempt | undefined;
  }

  lastFailure(): LastAttempt | undefined {
    return this.s.lastFailure!.get() as LastAttempt | undefined;
  }

  captureCursor(): { cursor: CaptureCursor; updatedAt: number } | undefined {
    const row = this.s.cursor!.get(CAPTURE_CURSOR) as { value: string; updatedAt: number } | undefined;
    return row ? { cursor: JSON.parse(row.value) as CaptureCursor, updatedAt: row.updatedAt } : undefined;
  }

  /** The newest DATE_UPDATE ever captured (Bitrix wall clock). */
  newestCapturedDateUpdate(): string | undefined {
    return (this.s.newestCaptured!.get() as string | null) ?? undefined;
  }

  /** The delivery pause as the daemon last persisted it (it clears it on start and on resume). */
  deliveryPause(): StoredDeliveryPause | undefined {
    const row = this.s.runtime!.get(PAUSE_RUNTIME_KEY) as { value: string; updatedAt: number } | undefined;
    if (!row) return undefined;
    const value = JSON.parse(row.value) as { reason: string; sinceMs: number };
    return { reason: value.reason, sinceMs: value.sinceMs, updatedAt: row.updatedAt };
  }

  writebackSummary(): WritebackSummary {
    return new WritebackStore(this.db).summary();
  }
}
