import type { Statement, Transaction } from "better-sqlite3";
import type { CapturedKey } from "../capture/plan-capture.js";
import type { StateDb } from "../outbox/open-state-db.js";
import type { AttemptOutcome, OutboxState } from "../outbox/outbox-store.js";
import { type PendingKey, planRetry, type RetryCandidate, type RetryPlan } from "./plan-retry.js";

/**
 * The SQL behind `outbox list|show|retry|drop`, run by the CLI beside the
 * daemon (see open-state-for-ops.ts). Statements are prepared once, here;
 * `list` picks one of a few fixed WHERE clauses, values always go in placeholders.
 */

export const OUTBOX_STATES: readonly OutboxState[] = ["pending", "delivered", "dead"];

export interface OutboxFilter {
  state?: OutboxState | undefined;
  orderId?: number | undefined;
  /** created_at >= this (ms since 1970). */
  sinceMs?: number | undefined;
  limit: number;
}

export interface OutboxRow {
  id: number;
  orderId: number;
  version: number;
  dateUpdate: string;
  event: string;
  state: OutboxState;
  reason: string;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  lastHttpStatus: number | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface OutboxDetail extends OutboxRow {
  payload: string;
  snapshotHash: string;
  idempotencyKey: string;
  firstErrorAt: number | null;
  lastResponse: string | null;
}

export interface AttemptRow {
  attemptedAt: number;
  durationMs: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface RetryResult {
  entry: OutboxRow;
  plan: RetryPlan;
}

const ROW_COLUMNS = `id, order_id AS orderId, version, date_update AS dateUpdate, event, state, reason, attempts,
  next_attempt_at AS nextAttemptAt, last_error AS lastError, last_http_status AS lastHttpStatus,
  created_at AS createdAt, updated_at AS updatedAt, delivered_at AS deliveredAt`;

/** Filter clauses by name; `list` joins the ones asked for (fixed text only). */
const FILTER_SQL = {
  state: "state = @state",
  orderId: "order_id = @orderId",
  sinceMs: "created_at >= @sinceMs",
} as const;

export class OutboxQueries {
  private readonly s: Record<string, Statement>;
  private readonly listStatements = new Map<string, { rows: Statement; count: Statement }>();
  private readonly retryTx: Transaction<(select: () => OutboxRow[], nowMs: number) => RetryResult[]>;

  constructor(private readonly db: StateDb) {
    this.s = {
      get: db.prepare(
        `SELECT ${ROW_COLUMNS}, payload, snapshot_hash AS snapshotHash, idempotency_key AS idempotencyKey,
           first_error_at AS firstErrorAt, last_response AS lastResponse FROM outbox WHERE id = ?`,
      ),
      attempts: db.prepare(
        `SELECT attempted_at AS attemptedAt, duration_ms AS durationMs, http_status AS httpStatus, outcome, error
         FROM delivery_attempts WHERE outbox_id = ? ORDER BY attempted_at, id`,
      ),
      retryableOfOrder: db.prepare(
        `SELECT ${ROW_COLUMNS} FROM outbox WHERE order_id = ? AND state IN ('pending', 'dead')
         ORDER BY version DESC, date_update DESC, id DESC`,
      ),
      newestOfOrder: db.prepare(
        `SELECT ${ROW_COLUMNS} FROM outbox WHERE order_id = ? ORDER BY id DESC LIMIT 1`,
      ),
      dead: db.prepare(
        `SELECT ${ROW_COLUMNS} FROM outbox WHERE state = 'dead' ORDER BY order_id, version DESC, date_update DESC, id DESC`,
      ),
      pendingOfOrder: db.prepare(
        "SELECT id, version, date_update AS dateUpdate FROM outbox WHERE order_id = ? AND state = 'pending'",
      ),
      deliveredKey: db.prepare(
        "SELECT version, date_update AS dateUpdate FROM delivered_orders WHERE order_id = ?",
      ),
      makeDue: db.prepare(
        "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
      ),
      deletePending: db.prepare("DELETE FROM outbox WHERE id = ? AND state = 'pending'"),
      // first_error_at restarts the dead-letter clock: a retried entry gets the full dead_after_s again.
      requeue: db.prepare(
        `UPDATE outbox SET state = 'pending', next_attempt_at = ?, updated_at = ?, first_error_at = NULL, delivered_at = NULL
         WHERE id = ? AND state IN ('delivered', 'dead')`,
      ),
      deleteEntry: db.prepare("DELETE FROM outbox WHERE id = ?"),
      deleteAttempts: db.prepare("DELETE FROM delivery_attempts WHERE outbox_id = ?"),
    };
    this.retryTx = db.transaction((select: () => OutboxRow[], nowMs: number) =>
      select().flatMap((c) => this.retryOne(c, nowMs) ?? []),
    );
  }

  list(filter: OutboxFilter): { rows: OutboxRow[]; total: number } {
    const names = (Object.keys(FILTER_SQL) as (keyof typeof FILTER_SQL)[]).filter(
      (k) => filter[k] !== undefined,
    );
    const key = names.join(",");
    let st = this.listStatements.get(key);
    if (!st) {
      const where = names.length > 0 ? `WHERE ${names.map((n) => FILTER_SQL[n]).join(" AND ")}` : "";
      st = {
        rows: this.db.prepare(`SELECT ${ROW_COLUMNS} FROM outbox ${where} ORDER BY id DESC LIMIT @limit`),
        count: this.db.prepare(`SELECT COUNT(*) FROM outbox ${where}`).pluck(),
      };
      this.listStatements.set(key, st);
    }
    const params: Record<string, number | string> = {};
    for (const n of names) params[n] = filter[n] as number | string;
    return {
      rows: st.rows.all({ ...params, limit: filter.limit }) as OutboxRow[],
      total: st.count.get(params) as number,
    };
  }

  get(id: number): OutboxDetail | undefined {
    return this.s.get!.get(id) as OutboxDetail | undefined;
  }

  attempts(outboxId: number): AttemptRow[] {
    return this.s.attempts!.all(outboxId) as AttemptRow[];
  }

  /** Pending and dead entries of an order, newest snapshot first (the order retry handles them in). */
  retryableOfOrder(orderId: number): OutboxRow[] {
    return this.s.retryableOfOrder!.all(orderId) as OutboxRow[];
  }

  newestOfOrder(orderId: number): OutboxRow | undefined {
    return this.s.newestOfOrder!.get(orderId) as OutboxRow | undefined;
  }

  /** Every dead letter, per order newest snapshot first. */
  deadLetters(): OutboxRow[] {
    return this.s.dead!.all() as OutboxRow[];
  }

  /**
   * Makes entries pending and due now (plan-retry.ts decides each), in one
   * write transaction taken up front, so the daemon's capture cannot slip a
   * pending row of the same order in between the decision and the update.
   * Give the entries of one order newest first: the newest becomes pending,
   * the older ones are then superseded by it. `select` runs inside the
   * transaction too, so what it picks cannot change before it is retried.
   */
  retry(select: OutboxRow[] | (() => OutboxRow[]), nowMs: number = Date.now()): RetryResult[] {
    return this.retryTx.immediate(typeof select === "function" ? select : () => select, nowMs);
  }

  /** Deletes the entry and its attempt history. False when there was no such entry. */
  drop(id: number): boolean {
    return this.db.transaction(() => {
      this.s.deleteAttempts!.run(id);
      return this.s.deleteEntry!.run(id).changes > 0;
    })();
  }

  private retryOne(candidate: OutboxRow, nowMs: number): RetryResult | undefined {
    // Read again: an earlier entry of this batch may have replaced it (and says so in its own result).
    const entry = this.get(candidate.id);
    if (!entry) return undefined;
    const pending = this.s.pendingOfOrder!.get(entry.orderId) as PendingKey | undefined;
    const delivered = this.s.deliveredKey!.get(entry.orderId) as CapturedKey | undefined;
    const current: RetryCandidate = {
      id: entry.id,
      state: entry.state,
      version: entry.version,
      dateUpdate: entry.dateUpdate,
    };
    const plan = planRetry(current, pending?.id === entry.id ? undefined : pending, delivered);
    switch (plan.kind) {
      case "due":
        this.s.makeDue!.run(nowMs, nowMs, entry.id);
        break;
      case "requeue":
        if (plan.replacesId !== undefined) this.s.deletePending!.run(plan.replacesId);
        this.s.requeue!.run(nowMs, nowMs, entry.id);
        break;
      case "superseded_by_pending":
        this.s.makeDue!.run(nowMs, nowMs, plan.pendingId);
        break;
      case "superseded_by_delivered":
        break;
    }
    return { entry: toOutboxRow(this.get(entry.id) ?? entry), plan };
  }
}

/** The list columns only (no payload) for output. */
export function toOutboxRow(e: OutboxRow): OutboxRow {
  return {
    id: e.id,
    orderId: e.orderId,
    version: e.version,
    dateUpdate: e.dateUpdate,
    event: e.event,
    state: e.state,
    reason: e.reason,
    attempts: e.attempts,
    nextAttemptAt: e.nextAttemptAt,
    lastError: e.lastError,
    lastHttpStatus: e.lastHttpStatus,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    deliveredAt: e.deliveredAt,
  };
}
