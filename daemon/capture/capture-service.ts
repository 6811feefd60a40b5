import { describeError } from "../errors.js";
import type { Logger } from "../log/create-logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import { isMysqlConnectionError, mysqlErrorCode, selectStrings } from "../mysql/create-mysql-pool.js";
import { describeMissingGrant, poolDatabase } from "../mysql/missing-grant.js";
import type { EnqueueOutcome, NewSnapshot, OutboxStore } from "../outbox/outbox-store.js";
import { normalizeWallClock, wallClockDiffSeconds, wallClockNow } from "./bitrix-datetime.js";
import { SQL_NEWEST_DATE_UPDATE, SQL_POLL_PAGE } from "./bitrix-order-queries.js";
import { outboxSnapshotOf } from "./build-order-data.js";
import { advanceCursor, type CaptureCursor, decideRow, scanStart, type WindowRow } from "./plan-capture.js";
import { readSnapshots } from "./read-snapshots.js";

export const CAPTURE_CURSOR = "capture";

export interface CaptureSettings {
  poll_interval_ms: number;
  lookback_s: number;
  batch_size: number;
  start_from: string;
  settle_ms: number;
}

export interface CaptureDeps {
  settings: CaptureSettings;
  /** Bitrix's time zone, for the lag estimate only (capture never shifts times). */
  timezone: string;
  mysql: MysqlPool;
  outbox: OutboxStore;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
  /** Called after new rows were committed to the outbox. */
  onEnqueued: () => void;
  /** True while the daemon is stopping: finish the page, start no other. */
  isStopping?: () => boolean;
}

/** How many times a page re-reads orders whose save was in progress during the read. */
const MAX_REREADS = 2;
/** Shortest wait before a suspect snapshot is read once more (see `recheck`). */
const MIN_RECHECK_MS = 3_000;

/**
 * One tick = scan the look-back window after the cursor in keyset pages, read
 * the snapshots that are new, and commit them to the outbox together with the
 * cursor. Pure decisions live in plan-capture.ts; this file only does I/O.
 */
export class CaptureService {
  private cursor: CaptureCursor | undefined;
  /** First time we saw a VERSION bump without a DATE_UPDATE move, per order. */
  private readonly settlingSince = new Map<number, { version: number; sinceMs: number }>();
  /**
   * Orders captured while a save may still have been writing under a key that will not move: the
   * row's DATE_UPDATE second was not over yet, or VERSION moved while DATE_UPDATE stayed (the settle
   * wait ran out, or a legacy save writes the DATE_UPDATE of its start). If that save ends in the same
   * (VERSION, DATE_UPDATE), nothing would make capture read the order again; so each is read once
   * more after a while, and queued again if its content changed.
   */
  private readonly recheck = new Map<
    number,
    { version: number; dateUpdate: string; hash: string; dueAtMs: number }
  >();
  private readonly clock: () => number;
  private lastErrorKey: string | undefined;
  /** Why the last poll failed (for /readyz); undefined after a poll that worked. */
  failure: { reason: string; since: number } | undefined;
  lastPollAt: number | undefined;
  newestDateUpdate: string | undefined;

  constructor(private deps: CaptureDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  updateSettings(settings: CaptureSettings): void {
    this.deps = { ...this.deps, settings };
  }

  get currentCursor(): CaptureCursor | undefined {
    return this.cursor;
  }

  async tick(): Promise<{ nextDelayMs?: number }> {
    try {
      const result = await this.poll();
      if (this.lastErrorKey !== undefined) {
        this.deps.log.info({ component: "capture" }, "mysql reachable again, capture resumed");
        this.lastErrorKey = undefined;
      }
      this.failure = undefined;
      this.deps.metrics.mysqlUp.set(1);
      return result;
    } catch (err) {
      this.reportFailure(err);
      throw err;
    }
  }

  private async poll(): Promise<{ nextDelayMs?: number }> {
    const { settings, mysql, outbox, metrics } = this.deps;
    const cursor = this.cursor ?? (await this.initialCursor());
    this.cursor = cursor;
    await this.runDueRechecks(cursor);
    let after = scanStart(cursor, settings.lookback_s);
    let current = cursor;
    let pages = 0;
    for (;;) {
      const rows = (
        await selectStrings(mysql, SQL_POLL_PAGE, [
          after.dateUpdate,
          after.dateUpdate,
          after.orderId,
          settings.batch_size,
        ])
      ).map(toWindowRow);
      pages += 1;
      const pageLast = rows.at(-1);
      const { snapshots, oldestUnsettled } = await this.capturePage(rows);
      const next = advanceCursor(
        current,
        pageLast ? { dateUpdate: pageLast.dateUpdate, orderId: pageLast.orderId } : undefined,
        oldestUnsettled,
      );
      if (snapshots.length > 0 || next !== current) {
        const outcomes = outbox.commitCapture(snapshots, CAPTURE_CURSOR, next);
        this.logOutcomes(outcomes, snapshots);
        if (outcomes.some((o) => o.outcome === "enqueued" || o.outcome === "replaced"))
          this.deps.onEnqueued();
      }
      current = next;
      this.cursor = next;
      if (pageLast && (!this.newestDateUpdate || pageLast.dateUpdate > this.newestDateUpdate)) {
        this.newestDateUpdate = pageLast.dateUpdate;
      }
      if (rows.length < settings.batch_size || !pageLast || this.deps.isStopping?.()) break;
      after = { dateUpdate: pageLast.dateUpdate, orderId: pageLast.orderId };
    }
    this.lastPollAt = this.clock();
    metrics.capturePolls.inc();
    metrics.capturePages.inc(pages);
    if (this.newestDateUpdate) {
      const lag = Math.max(
        0,
        wallClockDiffSeconds(this.newestDateUpdate, wallClockNow(this.deps.timezone, this.clock())),
      );
      metrics.captureLag.set(lag);
    }
    return {};
  }

  /** Decides each row, reads the snapshots to capture (re-reading moved ones), builds outbox rows. */
  private async capturePage(
    rows: WindowRow[],
  ): Promise<{ snapshots: NewSnapshot[]; oldestUnsettled?: string }> {
    const { settings, outbox } = this.deps;
    const now = this.clock();
    const captured = outbox.capturedKeys(rows.map((r) => r.orderId));
    const unsettled: string[] = [];
    let toRead: WindowRow[] = [];
    for (const row of rows) {
      const settling = this.settlingSince.get(row.orderId);
      const since = settling && settling.version === row.version ? settling.sinceMs : undefined;
      const decision = decideRow(row, captured.get(row.orderId), since, now, settings.settle_ms);
      if (decision === "capture" && this.isFreshWritebackRow(row, now)) unsettled.push(row.dateUpdate);
      else if (decision === "capture") toRead.push(row);
      else if (decision === "settling") {
        if (since === undefined) this.settlingSince.set(row.orderId, { version: row.version, sinceMs: now });
        unsettled.push(row.dateUpdate);
      }
    }
    const snapshots: NewSnapshot[] = [];
    for (let attempt = 0; toRead.length > 0; attempt++) {
      const result = await readSnapshots(
        this.deps.mysql,
        toRead.map((r) => r.orderId),
      );
      for (const s of result.snapshots) {
        const snapshot = outboxSnapshotOf(s);
        snapshots.push(snapshot);
        this.settlingSince.delete(s.orderId);
        const before = captured.get(s.orderId);
        if (
          s.dateUpdate >= wallClockNow(this.deps.timezone, now) ||
          (before !== undefined && before.dateUpdate === s.dateUpdate && before.version !== s.version)
        ) {
          const delayMs = Math.max(MIN_RECHECK_MS, 2 * settings.settle_ms);
          this.recheck.set(s.orderId, {
            version: s.version,
            dateUpdate: s.dateUpdate,
            hash: snapshot.hash,
            dueAtMs: now + delayMs,
          });
        }
      }
      const moved = new Set(result.moved);
      toRead = toRead.filter((r) => moved.has(r.orderId));
      if (attempt >= MAX_REREADS && toRead.length > 0) {
        // Still being saved: leave it for the next poll and keep it inside the scan window.
        for (const r of toRead) unsettled.push(r.dateUpdate);
        this.deps.log.debug(
          { component: "capture", orderIds: toRead.map((r) => r.orderId) },
          "orders still moving",
        );
        break;
      }
    }
    this.forgetStaleSettling(now);
    const oldestUnsettled = unsettled.sort()[0];
    return oldestUnsettled === undefined ? { snapshots } : { snapshots, oldestUnsettled };
  }

  /**
   * A row a status write-back produced, whose DATE_UPDATE second is not over yet. The write-back
   * only locks the order row, so it can land in the middle of a Bitrix save (VERSION already
   * bumped, children still being written); if that save's last UPDATE then writes DATE_UPDATE in
   * the same second, the row keeps the write-back's (VERSION, DATE_UPDATE) and a snapshot read
   * before it would never be read again. Once the second is over, such a save is complete or
   * moves DATE_UPDATE. Both clocks are Bitrix's wall clock ([bitrix] timezone), whole seconds.
   */
  private isFreshWritebackRow(row: WindowRow, nowMs: number): boolean {
    return (
      row.dateUpdate >= wallClockNow(this.deps.timezone, nowMs) &&
      this.deps.outbox.isWritebackRow(row.orderId, row.version, row.dateUpdate)
    );
  }

  /**
   * Reads the orders in `recheck` whose time has come once more; those still at the same
   * (VERSION, DATE_UPDATE) whose content changed since that read are queued. A moved key is left
   * to the scan. Kept for the next poll when MySQL fails.
   */
  private async runDueRechecks(cursor: CaptureCursor): Promise<void> {
    const now = this.clock();
    const due = [...this.recheck].filter(([, r]) => r.dueAtMs <= now);
    if (due.length === 0) return;
    const result = await readSnapshots(
      this.deps.mysql,
      due.map(([orderId]) => orderId),
    );
    const wanted = new Map(due);
    for (const [orderId] of due) this.recheck.delete(orderId);
    // Only a content that changed under the same key goes to the outbox: an unchanged one was queued
    // already (and may be a dead letter, which only ops retry).
    const again = result.snapshots
      .filter((s) => {
        const r = wanted.get(s.orderId);
        return r !== undefined && r.version === s.version && r.dateUpdate === s.dateUpdate;
      })
      .map(outboxSnapshotOf)
      .filter((snapshot) => snapshot.hash !== wanted.get(snapshot.orderId)?.hash);
    if (again.length === 0) return;
    const outcomes = this.deps.outbox.commitCapture(again, CAPTURE_CURSOR, cursor);
    this.logOutcomes(outcomes, again);
    if (outcomes.some((o) => o.outcome === "enqueued" || o.outcome === "replaced")) this.deps.onEnqueued();
  }

  /** An order that stopped settling without being captured (deleted meanwhile) is forgotten after the window. */
  private forgetStaleSettling(now: number): void {
    const maxAgeMs = Math.max(this.deps.settings.settle_ms, this.deps.settings.lookback_s * 1000) * 2;
    for (const [orderId, s] of this.settlingSince)
      if (now - s.sinceMs > maxAgeMs) this.settlingSince.delete(orderId);
  }

  /** The cursor from the state, or from start_from on the very first run (values from the DB, never our clock). */
  private async initialCursor(): Promise<CaptureCursor> {
    const saved = this.deps.outbox.getCursor<CaptureCursor>(CAPTURE_CURSOR);
    if (saved) return saved;
    const startFrom = this.deps.settings.start_from;
    let cursor: CaptureCursor;
    if (startFrom === "now") {
      const [row] = await selectStrings(this.deps.mysql, SQL_NEWEST_DATE_UPDATE);
      cursor = { dateUpdate: row?.["newest"] ?? row?.["db_now"] ?? "1970-01-01 00:00:00", orderId: 0 };
    } else {
      // The look-back is applied below the cursor, so begin lookback_s after the date to start exactly there.
      cursor = { dateUpdate: normalizeWallClock(startFrom), orderId: 0 };
      cursor = { dateUpdate: shiftForward(cursor.dateUpdate, this.deps.settings.lookback_s), orderId: 0 };
    }
    this.deps.outbox.setCursor(CAPTURE_CURSOR, cursor);
    this.deps.log.info({ component: "capture", cursor, startFrom }, "capture cursor initialised");
    return cursor;
  }

  private logOutcomes(outcomes: EnqueueOutcome[], snapshots: NewSnapshot[]): void {
    const { log, metrics } = this.deps;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      const s = snapshots[i]!;
      if (o.outcome === "enqueued" || o.outcome === "replaced") {
        metrics.captured.inc();
        log.info(
          {
            component: "capture",
            orderId: o.orderId,
            version: o.version,
            dateUpdate: s.dateUpdate,
            outboxId: o.outboxId,
            event: o.event,
            ...(o.replacedId !== undefined ? { replacedOutboxId: o.replacedId } : {}),
          },
          "order captured",
        );
      } else {
        log.debug(
          { component: "capture", orderId: o.orderId, version: o.version, outcome: o.outcome },
          "snapshot not queued",
        );
      }
    }
  }

  /** Logs a failure once per distinct cause (an outage is one line, not one per poll). */
  private reportFailure(err: unknown): void {
    this.deps.metrics.mysqlUp.set(isMysqlConnectionError(err) ? 0 : 1);
    const key = isMysqlConnectionError(err) ? "connection" : (mysqlErrorCode(err) ?? describeError(err));
    const missingGrant = describeMissingGrant(err, poolDatabase(this.deps.mysql));
    const reason =
      missingGrant === undefined
        ? describeError(err)
        : `MySQL refused a read, nothing was captured: ${missingGrant}`;
    this.failure = { reason, since: this.failure?.since ?? this.clock() };
    if (key === this.lastErrorKey) return;
    this.lastErrorKey = key;
    if (isMysqlConnectionError(err)) {
      this.deps.log.warn(
        { component: "capture", err: describeError(err) },
        "mysql unreachable, capture waits and retries",
      );
    } else if (missingGrant !== undefined) {
      this.deps.log.error(
        { component: "capture", err: describeError(err), reason },
        "capture failed: missing MySQL grant",
      );
    } else {
      this.deps.log.error({ component: "capture", err: describeError(err) }, "capture failed");
    }
  }
}

function toWindowRow(r: Record<string, string | null>): WindowRow {
  return {
    orderId: Number(r["ID"]),
    version: Number(r["VERSION"]),
    dateUpdate: r["DATE_UPDATE"] ?? "",
    running: r["RUNNING"] === "Y",
  };
}

function shiftForward(value: string, seconds: number): string {
  return scanStart({ dateUpdate: value, orderId: 0 }, -seconds).dateUpdate;
}
