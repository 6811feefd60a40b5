import { setTimeout as sleep } from "node:timers/promises";
import { outboxSnapshotOf } from "../../capture/build-order-data.js";
import type { CaptureCursor } from "../../capture/plan-capture.js";
import { readSnapshots } from "../../capture/read-snapshots.js";
import { type MysqlPool, selectStrings } from "../../mysql/create-mysql-pool.js";
import type { NewSnapshot, OutboxStore } from "../../outbox/outbox-store.js";
import { END_OF_TIME, SQL_RANGE_COUNT, SQL_RANGE_PAGE } from "./resync-queries.js";
import type { ResyncTarget } from "./resync-target.js";

export interface ResyncDeps {
  mysql: MysqlPool;
  /** Absent in a dry run: nothing is written. */
  outbox: OutboxStore | undefined;
  /** Orders per page and per snapshot read ([capture] batch_size). */
  batchSize: number;
  /** Called with the total once known, then after each batch. */
  onProgress?: (p: { done: number; total: number; enqueued: number }) => void;
  /** Pause before re-reading orders whose save was in progress (ms). */
  rereadDelayMs?: number;
}

/** One order resync looked at and what became of it. */
export interface ResyncedOrder {
  orderId: number;
  version: number;
  dateUpdate: string;
  /**
   * queued: a new outbox row (or it replaced an older pending one); already-queued: that very snapshot is
   * pending; newer-known: a newer snapshot is pending or was delivered (never send an older one after it);
   * would-queue: dry run.
   */
  outcome: "queued" | "already-queued" | "newer-known" | "would-queue";
}

export interface ResyncSummary {
  dryRun: boolean;
  /** Orders that exist in Bitrix among those asked for (or in the range). */
  found: number;
  enqueued: number;
  alreadyQueued: number;
  newerKnown: number;
  /** New orders still being created (RUNNING='Y') or being saved while read: capture sends them once saved. */
  skippedRunning: number[];
  /** --order ids Bitrix does not have. */
  missing: number[];
  /** Every order read, in order (a dry run shows them). */
  orders: ResyncedOrder[];
}

/** How often an order whose save was in progress is read again before it is left to capture. */
const MAX_REREADS = 2;
const REREAD_DELAY_MS = 200;

/**
 * Reads fresh snapshots with capture's own reader (one consistent read view
 * per batch, VERSION re-checked after the children) and queues them for
 * delivery with reason `resync`, forced: an order is sent again even when
 * the CRM already has that exact snapshot. One short SQLite transaction per
 * batch, so the running daemon is never held up. The outbox's rules still
 * hold: a pending row of the order is replaced, and a snapshot older than one
 * pending or delivered is not queued (never an older one after a newer one).
 */
export async function resyncOrders(target: ResyncTarget, deps: ResyncDeps): Promise<ResyncSummary> {
  const summary: ResyncSummary = {
    dryRun: deps.outbox === undefined,
    found: 0,
    enqueued: 0,
    alreadyQueued: 0,
    newerKnown: 0,
    skippedRunning: [],
    missing: [],
    orders: [],
  };
  if (target.kind === "orders") {
    const total = target.orderIds.length;
    deps.onProgress?.({ done: 0, total, enqueued: 0 });
    for (let i = 0; i < total; i += deps.batchSize) {
      const batch = target.orderIds.slice(i, i + deps.batchSize);
      await resyncBatch(batch, deps, summary, true);
      deps.onProgress?.({ done: Math.min(i + batch.length, total), total, enqueued: summary.enqueued });
    }
    return finish(summary);
  }
  const until = target.until ?? END_OF_TIME;
  const [countRow] = await selectStrings(deps.mysql, SQL_RANGE_COUNT, [target.since, until]);
  let total = Number(countRow?.["n"] ?? 0);
  let done = 0;
  deps.onProgress?.({ done, total, enqueued: 0 });
  let after: CaptureCursor = { dateUpdate: target.since, orderId: 0 };
  for (;;) {
    const rows = await selectStrings(deps.mysql, SQL_RANGE_PAGE, [
      after.dateUpdate,
      after.dateUpdate,
      after.orderId,
      until,
      deps.batchSize,
    ]);
    const last = rows.at(-1);
    if (!last) break;
    const ids: number[] = [];
    for (const r of rows) {
      // A new order still being created: its final UPDATE moves DATE_UPDATE, and capture sends it then.
      if (r["RUNNING"] === "Y") summary.skippedRunning.push(Number(r["ID"]));
      else ids.push(Number(r["ID"]));
    }
    await resyncBatch(ids, deps, summary, false);
    done += rows.length;
    // Orders saved meanwhile move forward in the index and may be met twice: the total grows with them.
    total = Math.max(total, done);
    deps.onProgress?.({ done, total, enqueued: summary.enqueued });
    if (rows.length < deps.batchSize) break;
    after = { dateUpdate: last["DATE_UPDATE"] ?? "", orderId: Number(last["ID"]) };
  }
  return finish(summary);
}

/** Counts each order once (one saved during a range resync is met again further on). */
function finish(summary: ResyncSummary): ResyncSummary {
  const read = new Set(summary.orders.map((o) => o.orderId));
  summary.skippedRunning = [...new Set(summary.skippedRunning)].filter((id) => !read.has(id));
  summary.missing = [...new Set(summary.missing)];
  summary.found = read.size + summary.skippedRunning.length;
  return summary;
}

/** Reads one batch (re-reading orders caught mid-save), then queues it in one transaction. */
async function resyncBatch(
  orderIds: number[],
  deps: ResyncDeps,
  summary: ResyncSummary,
  reportMissing: boolean,
): Promise<void> {
  const snapshots: NewSnapshot[] = [];
  let toRead = orderIds;
  for (let attempt = 0; toRead.length > 0; attempt++) {
    const result = await readSnapshots(deps.mysql, toRead);
    for (const s of result.snapshots) snapshots.push(outboxSnapshotOf(s));
    // Deleted or archived since the page was read (range), or never there (--order).
    if (reportMissing) summary.missing.push(...result.missing);
    toRead = result.moved;
    if (toRead.length === 0) break;
    if (attempt >= MAX_REREADS) {
      summary.skippedRunning.push(...toRead);
      break;
    }
    await sleep(deps.rereadDelayMs ?? REREAD_DELAY_MS);
  }
  if (snapshots.length === 0) return;
  if (!deps.outbox) {
    for (const s of snapshots)
      summary.orders.push({
        orderId: s.orderId,
        version: s.version,
        dateUpdate: s.dateUpdate,
        outcome: "would-queue",
      });
    return;
  }
  const outcomes = deps.outbox.enqueue(snapshots, "resync", { force: true });
  outcomes.forEach((o, i) => {
    const s = snapshots[i]!;
    const outcome: ResyncedOrder["outcome"] =
      o.outcome === "enqueued" || o.outcome === "replaced"
        ? "queued"
        : o.outcome === "older"
          ? "newer-known"
          : "already-queued";
    if (outcome === "queued") summary.enqueued++;
    else if (outcome === "newer-known") summary.newerKnown++;
    else summary.alreadyQueued++;
    summary.orders.push({ orderId: s.orderId, version: s.version, dateUpdate: s.dateUpdate, outcome });
  });
}
