import type { CapturedKey } from "../capture/plan-capture.js";
import { selectStrings } from "../mysql/create-mysql-pool.js";
import type { NewSnapshot } from "../outbox/outbox-store.js";
import { judgeSnapshotHash, planFullSweepChunk } from "./plan-sweep.js";
import type { JobReport } from "./scheduled-job.js";
import {
  emptyEnqueueCounts,
  enqueueSwept,
  LOGGED_IDS,
  pause,
  readOutboxSnapshots,
  readSettled,
  type SweepDeps,
  sweepBounds,
  toWindowRow,
} from "./sweep-io.js";
import { SQL_ID_CHUNK } from "./sweep-queries.js";

export interface FullSweepSettings {
  /** Orders per chunk: one primary-key page, one batched snapshot read. */
  chunkSize: number;
  /** Pause between chunks (MySQL and the event loop breathe). */
  pauseMs: number;
}

/**
 * The full (nightly) sweep: every order, in keyset chunks by ID, so it never
 * loads everything and never holds a MySQL transaction longer than one
 * batched snapshot read. Each order's snapshot is hashed exactly as capture
 * hashes it (build-order-data.ts) and compared with the last delivered and
 * the last captured hash; a different one is enqueued as reason `sweep`.
 * Catches content changed with neither VERSION nor DATE_UPDATE moving (a
 * basket price or a property fixed by raw SQL).
 *
 * Cost: one chunk = one PK range query plus readSnapshots' six IN-list
 * queries over ORDER_ID indexes, and hashing in Node. The report carries
 * the slowest and the average chunk time.
 */
export async function runFullSweep(
  deps: SweepDeps,
  settings: FullSweepSettings,
  signal: AbortSignal,
): Promise<JobReport> {
  if (!sweepBounds(deps))
    return { msg: "full sweep skipped", fields: { reason: "capture has no cursor yet" } };
  const totals = {
    scanned: 0,
    hashed: 0,
    same: 0,
    differ: 0,
    chunks: 0,
    skipped: { running: 0, pending: 0, beforeFloor: 0, captureWindow: 0, moved: 0, missing: 0 },
  };
  const counts = emptyEnqueueCounts();
  const queued: number[] = [];
  let chunkMsTotal = 0;
  let chunkMsMax = 0;
  let afterId = 0;
  while (!signal.aborted) {
    const startedAt = Date.now();
    const rows = (await selectStrings(deps.mysql, SQL_ID_CHUNK, [afterId, settings.chunkSize])).map(
      toWindowRow,
    );
    if (rows.length === 0) break;
    // Capture moves on while we sweep: its territory is re-read per chunk.
    const bounds = sweepBounds(deps);
    if (!bounds) break;
    const ids = rows.map((r) => r.orderId);
    const known = deps.store.knownOrders(ids);
    const plan = planFullSweepChunk(rows, known, deps.store.pendingOrders(ids), bounds);
    totals.scanned += rows.length;
    for (const k of ["running", "pending", "beforeFloor", "captureWindow"] as const)
      totals.skipped[k] += plan.skipped[k];

    const read = await readOutboxSnapshots(
      deps.mysql,
      plan.read.map((r) => r.orderId),
    );
    totals.hashed += read.snapshots.length;
    totals.skipped.moved += read.moved;
    totals.skipped.missing += read.missing;
    const differ: NewSnapshot[] = [];
    const settle = new Map<number, CapturedKey>();
    for (const snap of read.snapshots) {
      const verdict = judgeSnapshotHash(snap, known.get(snap.orderId));
      if (verdict === "same") totals.same += 1;
      else if (verdict === "enqueue") differ.push(snap);
      else settle.set(snap.orderId, { version: snap.version, dateUpdate: snap.dateUpdate });
    }
    totals.differ += differ.length + settle.size;
    queued.push(...enqueueSwept(deps, "full_sweep", differ, counts));
    const settled = await readSettled(deps, settle, signal);
    totals.skipped.moved += settled.moved;
    totals.skipped.missing += settled.missing;
    queued.push(...enqueueSwept(deps, "full_sweep", settled.snapshots, counts));

    const chunkMs = Date.now() - startedAt;
    totals.chunks += 1;
    chunkMsTotal += chunkMs;
    chunkMsMax = Math.max(chunkMsMax, chunkMs);
    afterId = rows.at(-1)!.orderId;
    if (rows.length < settings.chunkSize) break;
    await pause(settings.pauseMs, signal);
  }
  return {
    msg: "full sweep done",
    fields: {
      scanned: totals.scanned,
      hashed: totals.hashed,
      same: totals.same,
      differ: totals.differ,
      queued: queued.length,
      ...(queued.length > 0 ? { orderIds: queued.slice(0, LOGGED_IDS) } : {}),
      notQueued: { unchanged: counts.unchanged, older: counts.older, echo: counts.echo },
      skipped: totals.skipped,
      chunks: totals.chunks,
      chunkMsAvg: totals.chunks > 0 ? Math.round(chunkMsTotal / totals.chunks) : 0,
      chunkMsMax,
      lastId: afterId,
    },
  };
}
