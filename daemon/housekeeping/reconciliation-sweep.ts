import { shiftWallClock } from "../capture/bitrix-datetime.js";
import type { CapturedKey, WindowRow } from "../capture/plan-capture.js";
import { selectStrings } from "../mysql/create-mysql-pool.js";
import { planSweep } from "./plan-sweep.js";
import type { JobReport } from "./scheduled-job.js";
import {
  emptyEnqueueCounts,
  enqueueSwept,
  LOGGED_IDS,
  readOutboxSnapshots,
  readSettled,
  type SweepDeps,
  sweepBounds,
  toWindowRow,
  yieldToLoop,
} from "./sweep-io.js";
import { SQL_SWEEP_WINDOW_PAGE } from "./sweep-queries.js";

export interface ReconciliationSettings {
  /** Orders whose DATE_UPDATE lies this far behind capture's territory are compared. */
  windowHours: number;
  /** Keyset page size over IXS_DATE_UPDATE, and snapshots per batch read. */
  pageSize: number;
}

/**
 * The reconciliation sweep: walks (ID, VERSION, DATE_UPDATE) of the orders
 * changed in the last `windowHours` (up to where capture's own re-scan
 * starts), compares each with the state (planSweep), and enqueues a fresh
 * snapshot of what is missing or behind as reason `sweep`. Catches a VERSION
 * that moved without DATE_UPDATE (raw SQL of other modules), which capture's
 * DATE_UPDATE window never sees once the order is older than its look-back.
 */
export async function runReconciliationSweep(
  deps: SweepDeps,
  settings: ReconciliationSettings,
  signal: AbortSignal,
): Promise<JobReport> {
  const bounds = sweepBounds(deps);
  if (!bounds)
    return { msg: "reconciliation sweep skipped", fields: { reason: "capture has no cursor yet" } };
  const windowFrom = shiftWallClock(bounds.captureFrom, -settings.windowHours * 3600);
  const totals = {
    scanned: 0,
    inSync: 0,
    skipped: { running: 0, pending: 0, beforeFloor: 0, captureWindow: 0, moved: 0, missing: 0 },
  };
  const toRead: WindowRow[] = [];
  const toSettle = new Map<number, CapturedKey>();
  let after = { dateUpdate: windowFrom, orderId: 0 };
  while (!signal.aborted) {
    const rows = (
      await selectStrings(deps.mysql, SQL_SWEEP_WINDOW_PAGE, [
        after.dateUpdate,
        after.dateUpdate,
        after.orderId,
        bounds.captureFrom,
        settings.pageSize,
      ])
    ).map(toWindowRow);
    const ids = rows.map((r) => r.orderId);
    const plan = planSweep(rows, deps.store.knownOrders(ids), deps.store.pendingOrders(ids), bounds);
    totals.scanned += rows.length;
    totals.inSync += plan.inSync;
    for (const k of ["running", "pending", "beforeFloor", "captureWindow"] as const)
      totals.skipped[k] += plan.skipped[k];
    toRead.push(...plan.read);
    for (const r of plan.settle) toSettle.set(r.orderId, { version: r.version, dateUpdate: r.dateUpdate });
    const last = rows.at(-1);
    if (!last || rows.length < settings.pageSize) break;
    after = { dateUpdate: last.dateUpdate, orderId: last.orderId };
    await yieldToLoop();
  }

  const counts = emptyEnqueueCounts();
  const queued: number[] = [];
  for (let i = 0; i < toRead.length && !signal.aborted; i += settings.pageSize) {
    const batch = toRead.slice(i, i + settings.pageSize).map((r) => r.orderId);
    const read = await readOutboxSnapshots(deps.mysql, batch);
    totals.skipped.moved += read.moved;
    totals.skipped.missing += read.missing;
    queued.push(...enqueueSwept(deps, "sweep", read.snapshots, counts));
  }
  const settled = await readSettled(deps, toSettle, signal);
  totals.skipped.moved += settled.moved;
  totals.skipped.missing += settled.missing;
  queued.push(...enqueueSwept(deps, "sweep", settled.snapshots, counts));

  return {
    msg: "reconciliation sweep done",
    fields: {
      window: { from: windowFrom, to: bounds.captureFrom },
      scanned: totals.scanned,
      inSync: totals.inSync,
      missingOrBehind: toRead.length,
      versionOnly: toSettle.size,
      queued: queued.length,
      ...(queued.length > 0 ? { orderIds: queued.slice(0, LOGGED_IDS) } : {}),
      notQueued: { unchanged: counts.unchanged, older: counts.older, echo: counts.echo },
      skipped: totals.skipped,
    },
  };
}
