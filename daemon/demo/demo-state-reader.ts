/**
 * What the demo reads from the running daemon's state database (read-only, WAL:
 * the daemon keeps writing): outbox counts by state and the write-back outcomes.
 * The same tables ops read with `cvety-sidecar outbox list` or sqlite3.
 */
import type { Statement } from "better-sqlite3";
import { openStateDb, type StateDb } from "../outbox/open-state-db.js";

export interface OutboxCounts {
  pending: number;
  delivered: number;
  dead: number;
}

export interface WritebackOutcomeRow {
  id: number;
  orderId: number | null;
  crmStatus: string | null;
  statusId: string | null;
  oldStatusId: string | null;
  outcome: string;
  reason: string | null;
  version: number | null;
}

export class DemoStateReader {
  private readonly db: StateDb;
  private readonly outboxCounts: Statement<[], { state: string; n: number }>;
  private readonly outcomesAfter: Statement<[number], WritebackOutcomeRow>;

  constructor(stateDir: string) {
    this.db = openStateDb(stateDir, { readonly: true });
    this.outboxCounts = this.db.prepare("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state");
    this.outcomesAfter = this.db.prepare(
      `SELECT id, order_id AS orderId, crm_status AS crmStatus, status_id AS statusId,
              old_status_id AS oldStatusId, outcome, reason, version
         FROM writeback_changes WHERE id > ? AND dry_run = 0 ORDER BY id`,
    );
  }

  outbox(): OutboxCounts {
    const counts: OutboxCounts = { pending: 0, delivered: 0, dead: 0 };
    for (const row of this.outboxCounts.all()) {
      if (row.state === "pending" || row.state === "delivered" || row.state === "dead")
        counts[row.state] = row.n;
    }
    return counts;
  }

  /** Write-back outcomes recorded after the row `afterId` (0: all), oldest first. */
  writebackOutcomes(afterId: number): WritebackOutcomeRow[] {
    return this.outcomesAfter.all(afterId);
  }

  close(): void {
    this.db.close();
  }
}
