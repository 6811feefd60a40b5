/**
 * Reads the daemon's state database while it runs (WAL lets a reader in
 * beside the writer; the daemon may be dead or restarting meanwhile): how
 * big the backlog is, and whether everything has been captured and settled.
 */
import { existsSync } from "node:fs";
import Database from "better-sqlite3";

export class BacklogProbe {
  private db: Database.Database | undefined;

  constructor(private readonly stateFile: string) {}

  private handle(): Database.Database | undefined {
    if (!this.db && existsSync(this.stateFile))
      this.db = new Database(this.stateFile, { fileMustExist: true });
    return this.db;
  }

  /** Pending outbox entries, and those among them created at or before `beforeMs` (undefined: unreadable now). */
  pending(beforeMs = Number.MAX_SAFE_INTEGER): { all: number; older: number } | undefined {
    try {
      const db = this.handle();
      if (!db) return undefined;
      const row = db
        .prepare(
          "SELECT COUNT(*) AS n, COALESCE(SUM(created_at <= ?), 0) AS older FROM outbox WHERE state = 'pending'",
        )
        .get(beforeMs) as { n: number; older: number };
      return { all: row.n, older: row.older };
    } catch {
      return undefined;
    }
  }

  /** (VERSION, DATE_UPDATE) capture last saw, per order. */
  captured(): Map<number, string> {
    const db = this.handle();
    const out = new Map<number, string>();
    if (!db) return out;
    for (const r of db.prepare("SELECT order_id, version, date_update FROM captured_orders").all() as Array<{
      order_id: number;
      version: number;
      date_update: string;
    }>) {
      out.set(r.order_id, `${r.version}/${r.date_update}`);
    }
    return out;
  }

  writebackWrites(): Set<string> {
    const db = this.handle();
    if (!db) return new Set();
    return new Set(
      (
        db.prepare("SELECT order_id, version, date_update FROM writeback_writes").all() as Array<{
          order_id: number;
          version: number;
          date_update: string;
        }>
      ).map((r) => `${r.order_id}/${r.version}/${r.date_update}`),
    );
  }

  settledChangeKeys(): Set<string> {
    const db = this.handle();
    if (!db) return new Set();
    return new Set(
      db.prepare("SELECT change_key FROM writeback_changes WHERE dry_run = 0").pluck().all() as string[],
    );
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
