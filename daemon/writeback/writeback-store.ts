import type { Statement } from "better-sqlite3";
import { openStateDb, type StateDb } from "../outbox/open-state-db.js";

/**
 * Write-back's side of the state database (migration 2): the outcome of every
 * CRM change, its cursor (table `cursors`), its pause (table runtime_state)
 * and the (ID, VERSION, DATE_UPDATE) rows write-back produced. Statements are
 * prepared once, here. An outcome and the cursor past it commit in one
 * SQLite transaction: the cursor never points past a change whose outcome is
 * not recorded.
 *
 * The daemon gives this store its own connection with synchronous=NORMAL
 * (openWritebackStore): a commit per applied change must not wait for an
 * fsync. A power cut may lose the last commits, never a kill -9; what is
 * lost is rebuilt safely: the cursor falls back, re-read changes find Bitrix
 * already holding their status (unchanged) and capture may forward one
 * write-back row to the CRM, which already has that status.
 */

export const WRITEBACK_OUTCOMES = [
  "applied",
  "unchanged",
  "conflict",
  "rejected",
  "refused",
  "would_apply",
] as const;
export type WritebackOutcome = (typeof WRITEBACK_OUTCOMES)[number];

/** Cursor names in `cursors`; a dry run keeps its own so switching it off starts cleanly. */
export const WRITEBACK_CURSOR = "writeback";
export const WRITEBACK_DRY_RUN_CURSOR = "writeback-dry-run";
/** runtime_state key while write-back is paused (missing grant, MySQL or source down). */
export const WRITEBACK_PAUSE_KEY = "writeback_pause";

export interface WritebackRecord {
  source: string;
  changeKey: string;
  dryRun: boolean;
  outcome: WritebackOutcome;
  orderId?: number | undefined;
  crmStatus?: string | undefined;
  statusId?: string | undefined;
  oldStatusId?: string | undefined;
  reason?: string | undefined;
  changedAt?: string | undefined;
  version?: number | undefined;
  dateUpdate?: string | undefined;
  /** The row as received (JSON). */
  raw: string;
}

/** A b_sale_order row state a write-back produced, and the CRM change that caused it. */
export interface OwnWrite {
  orderId: number;
  version: number;
  dateUpdate: string;
  /** Microseconds since 1970 (fits a double until the year 2255). */
  crmChangedAtUs: number;
}

export interface WritebackPause {
  code: string;
  reason: string;
  sinceMs: number;
}

/** What `status` shows about write-back. */
export interface WritebackSummary {
  /** Outcomes of real runs, by outcome (all keys present). */
  outcomes: Record<WritebackOutcome, number>;
  /** Outcomes seen by dry runs (nothing written). */
  dryRunOutcomes: Record<WritebackOutcome, number>;
  cursor: { value: unknown; updatedAt: number } | undefined;
  lastRecordedAt: number | undefined;
  pause: WritebackPause | undefined;
}

/** A row can be 1 MB of hostile text; what we keep of it is enough to see what it was. */
export const MAX_RAW_CHARS = 4096;

/** The store on its own connection to `<dir>/outbox.db` (see above). */
export function openWritebackStore(stateDir: string, clock: () => number = Date.now): WritebackStore {
  return new WritebackStore(openStateDb(stateDir, { synchronous: "NORMAL" }), clock);
}

export class WritebackStore {
  private readonly s: Record<string, Statement>;
  readonly record: (rec: WritebackRecord, cursor?: { name: string; value: unknown }) => void;

  constructor(
    readonly db: StateDb,
    private readonly clock: () => number = Date.now,
  ) {
    this.s = {
      settled: db.prepare(
        "SELECT 1 FROM writeback_changes WHERE source = ? AND dry_run = ? AND change_key = ?",
      ),
      insertChange: db.prepare(
        `INSERT OR IGNORE INTO writeback_changes (source, change_key, dry_run, order_id, crm_status, status_id, old_status_id,
           outcome, reason, changed_at, version, date_update, raw, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertWrite: db.prepare(
        `INSERT OR REPLACE INTO writeback_writes (order_id, version, date_update, crm_changed_at_us, written_at)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      ownWrite: db.prepare(
        "SELECT crm_changed_at_us FROM writeback_writes WHERE order_id = ? AND version = ? AND date_update = ?",
      ),
      counts: db.prepare(
        "SELECT dry_run, outcome, COUNT(*) AS n FROM writeback_changes GROUP BY dry_run, outcome",
      ),
      lastRecorded: db.prepare("SELECT MAX(recorded_at) AS at FROM writeback_changes"),
      getCursor: db.prepare("SELECT value, updated_at FROM cursors WHERE name = ?"),
      setCursor: db.prepare(
        "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ),
      getPause: db.prepare("SELECT value FROM runtime_state WHERE key = ?"),
      setPause: db.prepare(
        "INSERT INTO runtime_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ),
      clearPause: db.prepare("DELETE FROM runtime_state WHERE key = ?"),
    };
    this.record = db.transaction((rec: WritebackRecord, cursor?: { name: string; value: unknown }) => {
      this.s.insertChange!.run(
        rec.source,
        rec.changeKey,
        rec.dryRun ? 1 : 0,
        rec.orderId ?? null,
        rec.crmStatus ?? null,
        rec.statusId ?? null,
        rec.oldStatusId ?? null,
        rec.outcome,
        rec.reason ?? null,
        rec.changedAt ?? null,
        rec.version ?? null,
        rec.dateUpdate ?? null,
        cutRaw(rec.raw),
        this.clock(),
      );
      if (cursor) this.setCursor(cursor.name, cursor.value);
    });
  }

  /** This change already has an outcome (a re-read page): it is skipped, never applied twice. */
  isSettled(source: string, dryRun: boolean, changeKey: string): boolean {
    return this.s.settled!.get(source, dryRun ? 1 : 0, changeKey) !== undefined;
  }

  /** The row a write-back is about to commit: capture will not forward it as a Bitrix change. */
  recordWrite(write: OwnWrite): void {
    this.s.insertWrite!.run(
      write.orderId,
      write.version,
      write.dateUpdate,
      write.crmChangedAtUs,
      this.clock(),
    );
  }

  /** The CRM time (µs) of the change whose write-back produced this exact order row, if one did. */
  ownWriteCrmTimeUs(orderId: number, version: number, dateUpdate: string): number | undefined {
    const row = this.s.ownWrite!.get(orderId, version, dateUpdate) as
      | { crm_changed_at_us: number }
      | undefined;
    return row?.crm_changed_at_us;
  }

  getCursor<T>(name: string): T | undefined {
    const row = this.s.getCursor!.get(name) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setCursor(name: string, value: unknown): void {
    this.s.setCursor!.run(name, JSON.stringify(value), this.clock());
  }

  getPause(): WritebackPause | undefined {
    const row = this.s.getPause!.get(WRITEBACK_PAUSE_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as WritebackPause) : undefined;
  }

  setPause(pause: WritebackPause | undefined): void {
    if (pause === undefined) this.s.clearPause!.run(WRITEBACK_PAUSE_KEY);
    else this.s.setPause!.run(WRITEBACK_PAUSE_KEY, JSON.stringify(pause), this.clock());
  }

  /** Counts by outcome, the cursor and the pause, for `status` and /healthz. */
  summary(): WritebackSummary {
    const outcomes = emptyCounts();
    const dryRunOutcomes = emptyCounts();
    for (const r of this.s.counts!.all() as { dry_run: number; outcome: WritebackOutcome; n: number }[]) {
      (r.dry_run ? dryRunOutcomes : outcomes)[r.outcome] = r.n;
    }
    const cursor = this.s.getCursor!.get(WRITEBACK_CURSOR) as
      | { value: string; updated_at: number }
      | undefined;
    const last = this.s.lastRecorded!.get() as { at: number | null };
    return {
      outcomes,
      dryRunOutcomes,
      cursor: cursor
        ? { value: JSON.parse(cursor.value) as unknown, updatedAt: cursor.updated_at }
        : undefined,
      lastRecordedAt: last.at ?? undefined,
      pause: this.getPause(),
    };
  }

  close(): void {
    this.db.close();
  }
}

function emptyCounts(): Record<WritebackOutcome, number> {
  return Object.fromEntries(WRITEBACK_OUTCOMES.map((o) => [o, 0])) as Record<WritebackOutcome, number>;
}

function cutRaw(raw: string): string {
  return raw.length <= MAX_RAW_CHARS
    ? raw
    : `${raw.slice(0, MAX_RAW_CHARS)}...[cut, ${raw.length} characters in all]`;
}
