import { setTimeout as sleep } from "node:timers/promises";
import { outboxSnapshotOf } from "../capture/build-order-data.js";
import type { CaptureCursor, CapturedKey, WindowRow } from "../capture/plan-capture.js";
import { scanStart } from "../capture/plan-capture.js";
import { readSnapshots } from "../capture/read-snapshots.js";
import type { Logger } from "../log/create-logger.js";
import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import type { EnqueueOutcome, NewSnapshot, OutboxStore } from "../outbox/outbox-store.js";
import type { HousekeepingStore } from "./housekeeping-store.js";
import type { SweepBounds } from "./plan-sweep.js";

/** Capture's cursor name in `cursors` (capture-service.ts CAPTURE_CURSOR). */
const CAPTURE_CURSOR = "capture";

/** What both sweeps need. */
export interface SweepDeps {
  mysql: MysqlPool;
  outbox: OutboxStore;
  store: HousekeepingStore;
  log: Logger;
  /** [capture] lookback_s: capture re-scans this far behind its cursor on every poll. */
  captureLookbackS: number;
  /** [capture] settle_ms: how long a save in progress may take between VERSION and DATE_UPDATE. */
  settleMs: number;
  /** Called after new rows were committed to the outbox (wakes delivery). */
  onEnqueued: () => void;
  clock?: () => number;
}

/** Outcome counts of the outbox store for what a sweep offered it. */
export type EnqueueCounts = Record<EnqueueOutcome["outcome"], number>;

export function emptyEnqueueCounts(): EnqueueCounts {
  return { enqueued: 0, replaced: 0, unchanged: 0, older: 0, echo: 0 };
}

/**
 * Where capture's territory starts and the floor for never-seen orders;
 * undefined while capture has no cursor yet (nothing to compare with).
 * Values come from the database's own clock (the committed cursor), never ours.
 */
export function sweepBounds(deps: SweepDeps): SweepBounds | undefined {
  const cursor = deps.outbox.getCursor<CaptureCursor>(CAPTURE_CURSOR);
  if (!cursor) return undefined;
  const captureFrom = scanStart(cursor, deps.captureLookbackS).dateUpdate;
  return { captureFrom, floor: deps.store.sweepFloor(captureFrom, (deps.clock ?? Date.now)()) };
}

export function toWindowRow(r: Record<string, string | null>): WindowRow {
  return {
    orderId: Number(r["ID"]),
    version: Number(r["VERSION"]),
    dateUpdate: r["DATE_UPDATE"] ?? "",
    running: r["RUNNING"] === "Y",
  };
}

/** Reads these orders with capture's batch reader; moved and missing ones are left for the next sweep. */
export async function readOutboxSnapshots(
  mysql: MysqlPool,
  orderIds: readonly number[],
): Promise<{ snapshots: NewSnapshot[]; moved: number; missing: number }> {
  const r = await readSnapshots(mysql, orderIds);
  const snapshots: NewSnapshot[] = [];
  // Building and hashing costs about a millisecond per order: let delivery and capture run in between.
  for (const [i, s] of r.snapshots.entries()) {
    snapshots.push(outboxSnapshotOf(s));
    if (i % BUILD_SLICE === BUILD_SLICE - 1) await yieldToLoop();
  }
  return { snapshots, moved: r.moved.length, missing: r.missing.length };
}

/**
 * VERSION ahead with an unchanged DATE_UPDATE is either a raw UPDATE or a save
 * still writing children. Waits capture's settle time, reads again, and keeps
 * only orders whose key did not move meanwhile (a moved DATE_UPDATE is
 * capture's to pick up). Resolves empty when aborted.
 */
export async function readSettled(
  deps: SweepDeps,
  observed: ReadonlyMap<number, CapturedKey>,
  signal: AbortSignal,
): Promise<{ snapshots: NewSnapshot[]; moved: number; missing: number }> {
  if (observed.size === 0) return { snapshots: [], moved: 0, missing: 0 };
  await pause(deps.settleMs, signal);
  if (signal.aborted) return { snapshots: [], moved: 0, missing: 0 };
  const r = await readOutboxSnapshots(deps.mysql, [...observed.keys()]);
  const stable = r.snapshots.filter((s) => {
    const seen = observed.get(s.orderId);
    return seen !== undefined && seen.version === s.version && seen.dateUpdate === s.dateUpdate;
  });
  return { snapshots: stable, moved: r.moved + r.snapshots.length - stable.length, missing: r.missing };
}

/**
 * Offers snapshots to the outbox as reason `sweep` (one short transaction).
 * The store applies the same rules as for capture: write-back's own row is
 * not queued (no echo), nor content the CRM already has, nor an older one.
 */
export function enqueueSwept(
  deps: SweepDeps,
  job: string,
  snapshots: NewSnapshot[],
  counts: EnqueueCounts,
): number[] {
  if (snapshots.length === 0) return [];
  const outcomes = deps.outbox.enqueue(snapshots, "sweep");
  const queued: number[] = [];
  for (const o of outcomes) {
    counts[o.outcome] += 1;
    if (o.outcome === "enqueued" || o.outcome === "replaced") {
      queued.push(o.orderId);
      deps.log.info(
        {
          component: "housekeeping",
          job,
          orderId: o.orderId,
          version: o.version,
          outboxId: o.outboxId,
          event: o.event,
        },
        "order queued by sweep",
      );
    }
  }
  if (queued.length > 0) deps.onEnqueued();
  return queued;
}

/** Waits `ms`, or less if the signal aborts; never throws. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => {});
}

/** Lets the event loop run (delivery, capture, HTTP) between batches. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Snapshots built and hashed between two yields to the event loop. */
const BUILD_SLICE = 100;

/** At most this many order ids in a log line. */
export const LOGGED_IDS = 20;
