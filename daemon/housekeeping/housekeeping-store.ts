import { statSync } from "node:fs";
import type { Statement } from "better-sqlite3";
import type { StateDb } from "../outbox/open-state-db.js";
import type { KnownOrder } from "./plan-sweep.js";

/**
 * Housekeeping's side of the state database: what the sweeps compare with,
 * what pruning deletes, what the summary counts. Statements are prepared
 * once, here; every write is a short transaction of at most one batch, so
 * capture and delivery (same file, WAL, busy timeout) never wait long.
 */

/** Rows deleted per pruning transaction. */
export const PRUNE_BATCH = 500;

/** runtime_state key: orders the state never saw are swept only from this DATE_UPDATE on. */
export const SWEEP_FLOOR_KEY = "housekeeping_sweep_floor";

export interface PruneCounts {
  deliveredRows: number;
  attempts: number;
  orphanAttempts: number;
  writebackChanges: number;
  writebackWrites: number;
}

export interface DaySummary {
  /** Outbox rows queued, by reason (capture, resync, sweep, conflict); replaced ones are gone. */
  queued: Record<string, number>;
  /** Delivery attempts by outcome (delivered, retry, crm_error, rejected, endpoint). */
  attempts: Record<string, number>;
  /** Entries that became dead letters in the period, and all dead letters now. */
  newDead: number;
  dead: number;
  pending: number;
  /** Write-back outcomes of real runs (applied, unchanged, conflict, rejected, refused). */
  writeback: Record<string, number>;
}

interface KeyRow {
  order_id: number;
  version: number;
  date_update: string;
  snapshot_hash: string;
}

export class HousekeepingStore {
  private readonly s: Record<string, Statement>;
  private readonly pruneDeliveredTx: (cutoffMs: number) => { rows: number; attempts: number };

  constructor(readonly db: StateDb) {
    const idList = "SELECT value FROM json_each(?)";
    this.s = {
      capturedIn: db.prepare(
        `SELECT order_id, version, date_update, snapshot_hash FROM captured_orders WHERE order_id IN (${idList})`,
      ),
      deliveredIn: db.prepare(
        `SELECT order_id, version, date_update, snapshot_hash FROM delivered_orders WHERE order_id IN (${idList})`,
      ),
      pendingIn: db
        .prepare(`SELECT order_id FROM outbox WHERE state = 'pending' AND order_id IN (${idList})`)
        .pluck(),
      minCaptured: db.prepare("SELECT MIN(date_update) FROM captured_orders").pluck(),
      getRuntime: db.prepare("SELECT value FROM runtime_state WHERE key = ?").pluck(),
      setRuntime: db.prepare(
        "INSERT INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ),
      // The state index (state, created_at) finds candidates; created_at <= delivered_at, so the
      // filter on delivered_at only keeps a row longer, never drops a young one.
      oldDelivered: db
        .prepare(
          "SELECT id FROM outbox WHERE state = 'delivered' AND created_at < ? AND delivered_at < ? ORDER BY created_at LIMIT ?",
        )
        .pluck(),
      deleteAttemptsOf: db.prepare(`DELETE FROM delivery_attempts WHERE outbox_id IN (${idList})`),
      deleteOutboxRows: db.prepare(`DELETE FROM outbox WHERE state = 'delivered' AND id IN (${idList})`),
      // Entries with more attempts than we keep: only pending and dead ones can still grow or were long.
      longEntries: db
        .prepare("SELECT id FROM outbox WHERE state IN ('pending', 'dead') AND attempts > ?")
        .pluck(),
      trimAttempts: db.prepare(
        `DELETE FROM delivery_attempts WHERE outbox_id = ? AND id < (
           SELECT id FROM delivery_attempts WHERE outbox_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      ),
      // Attempts of entries replaced by a newer snapshot or dropped by ops: their row is gone.
      orphanAttempts: db.prepare(
        `DELETE FROM delivery_attempts WHERE id IN (
           SELECT a.id FROM delivery_attempts a WHERE a.attempted_at < ?
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.outbox_id) LIMIT ?)`,
      ),
      pruneWritebackChanges: db.prepare(
        "DELETE FROM writeback_changes WHERE id IN (SELECT id FROM writeback_changes WHERE recorded_at < ? LIMIT ?)",
      ),
      pruneWritebackWrites: db.prepare(
        "DELETE FROM writeback_writes WHERE rowid IN (SELECT rowid FROM writeback_writes WHERE written_at < ? LIMIT ?)",
      ),
      queuedSince: db.prepare(
        "SELECT reason, COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'delivered', 'dead') AND created_at >= ? GROUP BY reason",
      ),
      attemptsSince: db.prepare(
        "SELECT outcome, COUNT(*) AS n FROM delivery_attempts WHERE attempted_at >= ? GROUP BY outcome",
      ),
      countState: db.prepare("SELECT COUNT(*) FROM outbox WHERE state = ?").pluck(),
      newDeadSince: db
        .prepare("SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND updated_at >= ?")
        .pluck(),
      writebackSince: db.prepare(
        "SELECT outcome, COUNT(*) AS n FROM writeback_changes WHERE dry_run = 0 AND recorded_at >= ? GROUP BY outcome",
      ),
    };
    this.pruneDeliveredTx = db.transaction((cutoffMs: number) => {
      const ids = this.s.oldDelivered!.all(cutoffMs, cutoffMs, PRUNE_BATCH) as number[];
      if (ids.length === 0) return { rows: 0, attempts: 0 };
      const json = JSON.stringify(ids);
      const attempts = this.s.deleteAttemptsOf!.run(json).changes;
      const rows = this.s.deleteOutboxRows!.run(json).changes;
      return { rows, attempts };
    });
  }

  /** Captured and delivered keys (with hashes) of these orders. */
  knownOrders(orderIds: readonly number[]): Map<number, KnownOrder> {
    const out = new Map<number, KnownOrder>();
    if (orderIds.length === 0) return out;
    const json = JSON.stringify(orderIds);
    for (const r of this.s.capturedIn!.all(json) as KeyRow[]) {
      out.set(r.order_id, { captured: toKey(r) });
    }
    for (const r of this.s.deliveredIn!.all(json) as KeyRow[]) {
      const known = out.get(r.order_id) ?? {};
      known.delivered = toKey(r);
      out.set(r.order_id, known);
    }
    return out;
  }

  /** Which of these orders have a pending outbox row. */
  pendingOrders(orderIds: readonly number[]): Set<number> {
    if (orderIds.length === 0) return new Set();
    return new Set(this.s.pendingIn!.all(JSON.stringify(orderIds)) as number[]);
  }

  /**
   * The DATE_UPDATE before which orders the state never saw are not swept.
   * Recorded once, at the first sweep: the oldest order captured so far
   * (capture starts at `[capture] start_from` and walks forward), or where
   * capture's first scan began when nothing was captured yet.
   */
  sweepFloor(captureScanStart: string, nowMs: number): string {
    const saved = this.s.getRuntime!.get(SWEEP_FLOOR_KEY) as string | undefined;
    if (saved !== undefined) return JSON.parse(saved) as string;
    const oldest = this.s.minCaptured!.get() as string | null;
    const floor = oldest !== null && oldest < captureScanStart ? oldest : captureScanStart;
    this.s.setRuntime!.run(SWEEP_FLOOR_KEY, JSON.stringify(floor), nowMs);
    return floor;
  }

  /** One batch of delivered rows older than the cutoff, with their attempts; 0 rows when done. */
  pruneDeliveredBatch(cutoffMs: number): { rows: number; attempts: number } {
    return this.pruneDeliveredTx(cutoffMs);
  }

  /** Keeps the newest `keep` attempts of every pending or dead entry that has more. */
  trimAttempts(keep: number): number {
    let deleted = 0;
    for (const id of this.s.longEntries!.all(keep) as number[]) {
      deleted += this.s.trimAttempts!.run(id, id, keep - 1).changes;
    }
    return deleted;
  }

  pruneOrphanAttemptsBatch(cutoffMs: number): number {
    return this.s.orphanAttempts!.run(cutoffMs, PRUNE_BATCH).changes;
  }

  pruneWritebackChangesBatch(cutoffMs: number): number {
    return this.s.pruneWritebackChanges!.run(cutoffMs, PRUNE_BATCH).changes;
  }

  pruneWritebackWritesBatch(cutoffMs: number): number {
    return this.s.pruneWritebackWrites!.run(cutoffMs, PRUNE_BATCH).changes;
  }

  /**
   * Moves the WAL into the database file and truncates it. `busy` = 1: a
   * reader (a CLI command) held part of it, the WAL stays for the next run.
   */
  checkpoint(): { busy: number; walBytesBefore: number; walBytesAfter: number } {
    const walBytesBefore = walSize(this.db);
    const [r] = this.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    return { busy: r?.busy ?? 0, walBytesBefore, walBytesAfter: walSize(this.db) };
  }

  /** Lets SQLite refresh the statistics its planner uses (cheap; does only what is due). */
  optimize(): void {
    this.db.pragma("optimize");
  }

  summarySince(sinceMs: number): DaySummary {
    const counts = (rows: unknown[], key: string) =>
      Object.fromEntries((rows as Record<string, string | number>[]).map((r) => [r[key], Number(r["n"])]));
    return {
      queued: counts(this.s.queuedSince!.all(sinceMs), "reason"),
      attempts: counts(this.s.attemptsSince!.all(sinceMs), "outcome"),
      newDead: this.s.newDeadSince!.get(sinceMs) as number,
      dead: this.s.countState!.get("dead") as number,
      pending: this.s.countState!.get("pending") as number,
      writeback: counts(this.s.writebackSince!.all(sinceMs), "outcome"),
    };
  }
}

function walSize(db: StateDb): number {
  try {
    return statSync(`${db.name}-wal`).size;
  } catch {
    return 0;
  }
}

function toKey(r: KeyRow): { version: number; dateUpdate: string; hash: string } {
  return { version: r.version, dateUpdate: r.date_update, hash: r.snapshot_hash };
}
