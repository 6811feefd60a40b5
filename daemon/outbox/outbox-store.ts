import type { Statement } from "better-sqlite3";
import { type CapturedKey, compareSnapshots } from "../capture/plan-capture.js";
import { sameBesidesStatusChange } from "../capture/writeback-echo.js";
import type { StateDb } from "./open-state-db.js";

/**
 * The outbox and the per-order keys around it. Every statement is prepared
 * once, here. Invariants kept in this file:
 * - a capture's outbox rows, dedupe keys and cursor commit in ONE transaction;
 * - at most one pending row per order; a newer snapshot replaces it;
 * - a snapshot older than one already delivered is never queued;
 * - the (ID, VERSION, DATE_UPDATE) a status write-back produced is not
 *   captured (or swept up) as a Bitrix change (no echo), unless an older snapshot of the
 *   order is still pending: then it replaces that one, so the CRM never
 *   gets the pre-write-back status after its own change; and unless the row
 *   differs from the order's last queued snapshot in more than the status
 *   columns (a Bitrix save the write-back's row swallowed, see
 *   writeback-echo.ts) or no queued snapshot is left to compare with: then
 *   it is sent, the CRM receiving its own status once more.
 */

export type OutboxState = "pending" | "delivered" | "dead";
export type EnqueueReason = "capture" | "resync" | "sweep" | "conflict";
export type CrmEvent = "order.create" | "order.update";

export interface NewSnapshot {
  orderId: number;
  version: number;
  dateUpdate: string;
  /** JSON of the CRM's `data` (without webhook_timestamp/webhook_source). */
  payload: string;
  hash: string;
  idempotencyKey: string;
}

export interface EnqueueOutcome {
  orderId: number;
  version: number;
  /**
   * enqueued: new row; replaced: a pending older row gave way; unchanged: same content queued or delivered;
   * older: a newer one exists; echo: the row a status write-back produced (it came from the CRM).
   */
  outcome: "enqueued" | "replaced" | "unchanged" | "older" | "echo";
  outboxId?: number;
  replacedId?: number;
  event?: CrmEvent;
}

/** A pending row as delivery schedules it; the payload is read only when it is sent (`payloadOf`). */
export interface OutboxEntry {
  id: number;
  orderId: number;
  version: number;
  dateUpdate: string;
  event: CrmEvent;
  hash: string;
  idempotencyKey: string;
  attempts: number;
  firstErrorAt: number | null;
  createdAt: number;
}

export interface DeliveredKey extends CapturedKey {
  hash: string;
  deliveredAt: number;
}

export type AttemptOutcome = "delivered" | "retry" | "crm_error" | "rejected" | "endpoint";

/** What one delivery attempt did to its entry. */
export type AttemptResult =
  | {
      kind: "attempt";
      entry: OutboxEntry;
      event: CrmEvent;
      outcome: AttemptOutcome;
      /** For retry/crm_error/endpoint: when to try again. */
      nextAttemptAt?: number;
      /** retry/crm_error/endpoint keep the row pending; rejected and aged crm_error make it dead. */
      dead: boolean;
      httpStatus: number | null;
      error: string | null;
      response: string | null;
      attemptedAt: number;
      durationMs: number;
    }
  /**
   * Dropped unsent: `older` = a newer snapshot of the order was delivered first;
   * `gone` = the row was replaced or dropped after it was scheduled.
   */
  | { kind: "superseded"; entry: OutboxEntry; reason: "older" | "gone" };

interface EntryRow {
  id: number;
  order_id: number;
  version: number;
  date_update: string;
  event: CrmEvent;
  snapshot_hash: string;
  idempotency_key: string;
  attempts: number;
  first_error_at: number | null;
  created_at: number;
}

const ENTRY_COLUMNS =
  "id, order_id, version, date_update, event, snapshot_hash, idempotency_key, attempts, first_error_at, created_at";

export class OutboxStore {
  private readonly s: Record<string, Statement>;
  readonly commitCapture: (snapshots: NewSnapshot[], cursorName: string, cursor: unknown) => EnqueueOutcome[];
  readonly enqueue: (
    snapshots: NewSnapshot[],
    reason: EnqueueReason,
    opts?: { force?: boolean },
  ) => EnqueueOutcome[];
  private readonly recordResultsTx: (results: AttemptResult[]) => void;

  constructor(
    readonly db: StateDb,
    private readonly clock: () => number = Date.now,
  ) {
    this.s = {
      getCursor: db.prepare("SELECT value FROM cursors WHERE name = ?"),
      setCursor: db.prepare(
        "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ),
      getCaptured: db.prepare("SELECT version, date_update FROM captured_orders WHERE order_id = ?"),
      upsertCaptured: db.prepare(
        `INSERT INTO captured_orders (order_id, version, date_update, snapshot_hash, captured_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (order_id) DO UPDATE SET version = excluded.version, date_update = excluded.date_update,
           snapshot_hash = excluded.snapshot_hash, captured_at = excluded.captured_at`,
      ),
      getDelivered: db.prepare(
        "SELECT version, date_update, snapshot_hash, delivered_at FROM delivered_orders WHERE order_id = ?",
      ),
      upsertDelivered: db.prepare(
        `INSERT INTO delivered_orders (order_id, version, date_update, snapshot_hash, delivered_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (order_id) DO UPDATE SET version = excluded.version, date_update = excluded.date_update,
           snapshot_hash = excluded.snapshot_hash, delivered_at = excluded.delivered_at
         WHERE excluded.version > delivered_orders.version
            OR (excluded.version = delivered_orders.version AND excluded.date_update >= delivered_orders.date_update)`,
      ),
      isWritebackWrite: db.prepare(
        "SELECT 1 FROM writeback_writes WHERE order_id = ? AND version = ? AND date_update = ?",
      ),
      lastQueuedPayload: db
        .prepare("SELECT payload FROM outbox WHERE order_id = ? ORDER BY id DESC LIMIT 1")
        .pluck(),
      getPending: db.prepare(
        "SELECT id, version, date_update, snapshot_hash FROM outbox WHERE order_id = ? AND state = 'pending'",
      ),
      deletePending: db.prepare("DELETE FROM outbox WHERE id = ? AND state = 'pending'"),
      insert: db.prepare(
        `INSERT INTO outbox (order_id, version, date_update, event, state, reason, payload, snapshot_hash, idempotency_key,
           attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, 0, ?, ?, ?)`,
      ),
      due: db.prepare(
        `SELECT ${ENTRY_COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id`,
      ),
      payload: db.prepare("SELECT payload FROM outbox WHERE id = ? AND state = 'pending'").pluck(),
      nextDue: db.prepare("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending'"),
      markDelivered: db.prepare(
        `UPDATE outbox SET state = 'delivered', event = ?, attempts = attempts + 1, delivered_at = ?, updated_at = ?,
           last_http_status = ?, last_error = NULL, last_response = NULL WHERE id = ? AND state = 'pending'`,
      ),
      markFailed: db.prepare(
        `UPDATE outbox SET event = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, last_http_status = ?,
           last_error = ?, last_response = ?, first_error_at = CASE WHEN ? THEN COALESCE(first_error_at, ?) ELSE first_error_at END
         WHERE id = ? AND state = 'pending'`,
      ),
      markDead: db.prepare(
        `UPDATE outbox SET state = 'dead', event = ?, attempts = attempts + 1, updated_at = ?, last_http_status = ?,
           last_error = ?, last_response = ?, first_error_at = COALESCE(first_error_at, ?) WHERE id = ? AND state = 'pending'`,
      ),
      insertAttempt: db.prepare(
        `INSERT INTO delivery_attempts (outbox_id, order_id, attempted_at, duration_ms, http_status, outcome, error)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      countByState: db.prepare("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"),
      oldestPending: db.prepare("SELECT MIN(created_at) AS at FROM outbox WHERE state = 'pending'"),
      getRuntime: db.prepare("SELECT value FROM runtime_state WHERE key = ?"),
      setRuntime: db.prepare(
        "INSERT INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ),
      deleteRuntime: db.prepare("DELETE FROM runtime_state WHERE key = ?"),
    };

    this.commitCapture = db.transaction((snapshots: NewSnapshot[], cursorName: string, cursor: unknown) => {
      const outcomes = snapshots.map((snap) => this.enqueueOne(snap, "capture", false));
      this.s.setCursor!.run(cursorName, JSON.stringify(cursor), this.clock());
      return outcomes;
    });
    this.enqueue = db.transaction(
      (snapshots: NewSnapshot[], reason: EnqueueReason, opts?: { force?: boolean }) =>
        snapshots.map((snap) => this.enqueueOne(snap, reason, opts?.force ?? false)),
    );
    this.recordResultsTx = db.transaction((results: AttemptResult[]) => {
      for (const r of results) this.recordOne(r);
    });
  }

  /**
   * Commits delivery results without waiting for the disk (synchronous=NORMAL
   * for this one transaction; WAL keeps the file consistent). Losing the last
   * results to a power cut only means those orders are sent again, which
   * at-least-once delivery allows; captures keep the full fsync (invariant 1).
   */
  recordResults(results: AttemptResult[]): void {
    this.db.pragma("synchronous = NORMAL");
    try {
      this.recordResultsTx(results);
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  getCursor<T>(name: string): T | undefined {
    const row = this.s.getCursor!.get(name) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setCursor(name: string, value: unknown): void {
    this.s.setCursor!.run(name, JSON.stringify(value), this.clock());
  }

  /** The (VERSION, DATE_UPDATE) last captured for each of these orders. */
  capturedKeys(orderIds: readonly number[]): Map<number, CapturedKey> {
    const out = new Map<number, CapturedKey>();
    for (const id of orderIds) {
      const row = this.s.getCaptured!.get(id) as { version: number; date_update: string } | undefined;
      if (row) out.set(id, { version: row.version, dateUpdate: row.date_update });
    }
    return out;
  }

  deliveredKey(orderId: number): DeliveredKey | undefined {
    const row = this.s.getDelivered!.get(orderId) as
      | { version: number; date_update: string; snapshot_hash: string; delivered_at: number }
      | undefined;
    return row
      ? {
          version: row.version,
          dateUpdate: row.date_update,
          hash: row.snapshot_hash,
          deliveredAt: row.delivered_at,
        }
      : undefined;
  }

  /**
   * Up to `limit` pending entries due now, oldest schedule first, leaving out
   * orders `skip` names (in flight). Rows are stepped lazily, so skipped
   * orders cost no reads beyond the index.
   */
  dueEntries(nowMs: number, limit: number, skip?: (orderId: number) => boolean): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    if (limit <= 0) return out;
    for (const row of this.s.due!.iterate(nowMs) as IterableIterator<EntryRow>) {
      if (skip?.(row.order_id)) continue;
      out.push(toEntry(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** This exact (ID, VERSION, DATE_UPDATE) is a row a status write-back produced. */
  isWritebackRow(orderId: number, version: number, dateUpdate: string): boolean {
    return this.s.isWritebackWrite!.get(orderId, version, dateUpdate) !== undefined;
  }

  /** The JSON `data` of a pending entry; undefined once it was replaced, delivered or dropped. */
  payloadOf(id: number): string | undefined {
    return this.s.payload!.get(id) as string | undefined;
  }

  /** When the earliest pending entry is due (ms), if any. */
  nextDueAt(): number | undefined {
    const row = this.s.nextDue!.get() as { at: number | null };
    return row.at ?? undefined;
  }

  countsByState(): Record<OutboxState, number> {
    const counts: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of this.s.countByState!.all() as { state: OutboxState; n: number }[]) counts[r.state] = r.n;
    return counts;
  }

  oldestPendingCreatedAt(): number | undefined {
    const row = this.s.oldestPending!.get() as { at: number | null };
    return row.at ?? undefined;
  }

  getRuntime<T>(key: string): T | undefined {
    const row = this.s.getRuntime!.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setRuntime(key: string, value: unknown): void {
    if (value === undefined) this.s.deleteRuntime!.run(key);
    else this.s.setRuntime!.run(key, JSON.stringify(value), this.clock());
  }

  private enqueueOne(snap: NewSnapshot, reason: EnqueueReason, force: boolean): EnqueueOutcome {
    const now = this.clock();
    const base = { orderId: snap.orderId, version: snap.version };
    this.s.upsertCaptured!.run(snap.orderId, snap.version, snap.dateUpdate, snap.hash, now);
    if (
      (reason === "capture" || reason === "sweep") &&
      this.s.isWritebackWrite!.get(snap.orderId, snap.version, snap.dateUpdate) !== undefined &&
      this.s.getPending!.get(snap.orderId) === undefined &&
      this.onlyStatusChangedSinceQueued(snap)
    ) {
      return { ...base, outcome: "echo" };
    }
    const delivered = this.deliveredKey(snap.orderId);
    if (delivered) {
      if (compareSnapshots(snap, delivered) < 0) return { ...base, outcome: "older" };
      if (!force && delivered.hash === snap.hash) return { ...base, outcome: "unchanged" };
    }
    const pending = this.s.getPending!.get(snap.orderId) as
      | { id: number; version: number; date_update: string; snapshot_hash: string }
      | undefined;
    let replacedId: number | undefined;
    if (pending) {
      if (pending.snapshot_hash === snap.hash) return { ...base, outcome: "unchanged", outboxId: pending.id };
      if (compareSnapshots(snap, { version: pending.version, dateUpdate: pending.date_update }) < 0) {
        return { ...base, outcome: "older", outboxId: pending.id };
      }
      this.s.deletePending!.run(pending.id);
      replacedId = pending.id;
    }
    const event: CrmEvent = delivered ? "order.update" : "order.create";
    const info = this.s.insert!.run(
      snap.orderId,
      snap.version,
      snap.dateUpdate,
      event,
      reason,
      snap.payload,
      snap.hash,
      snap.idempotencyKey,
      now,
      now,
      now,
    );
    const outboxId = Number(info.lastInsertRowid);
    return replacedId === undefined
      ? { ...base, outcome: "enqueued", outboxId, event }
      : { ...base, outcome: "replaced", outboxId, replacedId, event };
  }

  /** The order's last queued snapshot (delivered, dead or pending) equals this one but for the status columns. */
  /**
   * With nothing queued before to compare with (an order from before the install, or one whose
   * delivered rows were pruned), the write-back's row counts as its own: never echoed to the CRM.
   */
  private onlyStatusChangedSinceQueued(snap: NewSnapshot): boolean {
    const previous = this.s.lastQueuedPayload!.get(snap.orderId) as string | undefined;
    return previous === undefined || sameBesidesStatusChange(previous, snap.payload);
  }

  private recordOne(r: AttemptResult): void {
    const e = r.entry;
    if (r.kind === "superseded") {
      this.s.deletePending!.run(e.id);
      return;
    }
    const now = this.clock();
    if (r.outcome === "delivered") {
      this.s.markDelivered!.run(r.event, r.attemptedAt + r.durationMs, now, r.httpStatus, e.id);
      this.s.upsertDelivered!.run(e.orderId, e.version, e.dateUpdate, e.hash, r.attemptedAt + r.durationMs);
    } else if (r.dead) {
      this.s.markDead!.run(r.event, now, r.httpStatus, r.error, r.response, r.attemptedAt, e.id);
    } else {
      const isCrmError = r.outcome === "crm_error" ? 1 : 0;
      this.s.markFailed!.run(
        r.event,
        r.nextAttemptAt ?? now,
        now,
        r.httpStatus,
        r.error,
        r.response,
        isCrmError,
        r.attemptedAt,
        e.id,
      );
    }
    this.s.insertAttempt!.run(e.id, e.orderId, r.attemptedAt, r.durationMs, r.httpStatus, r.outcome, r.error);
  }
}

function toEntry(r: EntryRow): OutboxEntry {
  return {
    id: r.id,
    orderId: r.order_id,
    version: r.version,
    dateUpdate: r.date_update,
    event: r.event,
    hash: r.snapshot_hash,
    idempotencyKey: r.idempotency_key,
    attempts: r.attempts,
    firstErrorAt: r.first_error_at,
    createdAt: r.created_at,
  };
}
