import { type CapturedKey, compareSnapshots, type WindowRow } from "../capture/plan-capture.js";

/**
 * Pure decisions of the two sweeps. Both exist for writes that bypass
 * Bitrix's save() (raw SQL of other modules, 1C exchange, manual fixes):
 * capture walks DATE_UPDATE, so a row whose VERSION moved without
 * DATE_UPDATE, or whose children changed with neither, never shows up in
 * its window. The sweeps compare what Bitrix holds with what the state
 * knows (captured_orders, delivered_orders, pending outbox rows) and name
 * the orders to read again. Enqueueing itself goes through the outbox
 * store, which still refuses the rows write-back produced (no echo), older
 * snapshots and content the CRM already has.
 */

/** What the state knows of one order: the captured and the delivered key (with hashes). */
export interface KnownOrder {
  captured?: CapturedKey & { hash: string };
  delivered?: CapturedKey & { hash: string };
}

export interface SweepBounds {
  /**
   * Capture's territory starts here: capture re-scans everything from its
   * cursor minus its look-back on every poll and settles VERSION-only moves
   * itself, so a sweep leaves rows with a later DATE_UPDATE to it.
   */
  captureFrom: string;
  /**
   * Orders the state has never seen are swept only from this DATE_UPDATE on:
   * what lies before it was left out on purpose (`[capture] start_from`).
   */
  floor: string | undefined;
}

export interface SweepPlan {
  /** Missing or behind: read a fresh snapshot and enqueue it. */
  read: WindowRow[];
  /**
   * VERSION ahead with the same DATE_UPDATE: a raw UPDATE, or a save still
   * writing children (a save bumps VERSION first, DATE_UPDATE last). Read
   * only if the key still holds after capture's settle time.
   */
  settle: WindowRow[];
  skipped: { running: number; pending: number; beforeFloor: number; captureWindow: number };
  inSync: number;
}

export type RowVerdict =
  | "read"
  | "settle"
  | "in_sync"
  | "running"
  | "pending"
  | "before_floor"
  | "capture_window";

/** The newer of the captured and the delivered key (a captured key can lag, e.g. rewritten by an older one). */
export function newestKnownKey(known: KnownOrder | undefined): CapturedKey | undefined {
  const { captured, delivered } = known ?? {};
  if (!captured) return delivered;
  if (!delivered) return captured;
  return compareSnapshots(captured, delivered) >= 0 ? captured : delivered;
}

/** One Bitrix row against the state, by key only. */
export function judgeRowKey(
  row: WindowRow,
  known: KnownOrder | undefined,
  pending: boolean,
  bounds: SweepBounds,
): RowVerdict {
  if (row.running) return "running";
  if (pending) return "pending";
  const key = newestKnownKey(known);
  if (key && compareSnapshots(row, key) <= 0) return "in_sync";
  if (row.dateUpdate > bounds.captureFrom) return "capture_window";
  if (!key) return bounds.floor !== undefined && row.dateUpdate < bounds.floor ? "before_floor" : "read";
  return row.dateUpdate === key.dateUpdate ? "settle" : "read";
}

/** The reconciliation sweep over one page of the recent window: which orders are missing or behind. */
export function planSweep(
  rows: readonly WindowRow[],
  known: ReadonlyMap<number, KnownOrder>,
  pending: ReadonlySet<number>,
  bounds: SweepBounds,
): SweepPlan {
  const plan: SweepPlan = {
    read: [],
    settle: [],
    skipped: { running: 0, pending: 0, beforeFloor: 0, captureWindow: 0 },
    inSync: 0,
  };
  for (const row of rows) {
    const verdict = judgeRowKey(row, known.get(row.orderId), pending.has(row.orderId), bounds);
    if (verdict === "read") plan.read.push(row);
    else if (verdict === "settle") plan.settle.push(row);
    else if (verdict === "in_sync") plan.inSync += 1;
    else if (verdict === "running") plan.skipped.running += 1;
    else if (verdict === "pending") plan.skipped.pending += 1;
    else if (verdict === "before_floor") plan.skipped.beforeFloor += 1;
    else plan.skipped.captureWindow += 1;
  }
  return plan;
}

export interface FullSweepKeyPlan {
  /** Read and hash these (in sync by key, or missing/behind). */
  read: WindowRow[];
  skipped: SweepPlan["skipped"];
}

/**
 * The full sweep over one ID chunk, first by key: every order the state
 * knows is read and hashed (its content may have changed with neither key
 * moving); running and pending ones, never-seen ones before the floor, and
 * moved ones inside capture's window are left alone.
 */
export function planFullSweepChunk(
  rows: readonly WindowRow[],
  known: ReadonlyMap<number, KnownOrder>,
  pending: ReadonlySet<number>,
  bounds: SweepBounds,
): FullSweepKeyPlan {
  const plan: FullSweepKeyPlan = {
    read: [],
    skipped: { running: 0, pending: 0, beforeFloor: 0, captureWindow: 0 },
  };
  for (const row of rows) {
    const verdict = judgeRowKey(row, known.get(row.orderId), pending.has(row.orderId), bounds);
    if (verdict === "running") plan.skipped.running += 1;
    else if (verdict === "pending") plan.skipped.pending += 1;
    else if (verdict === "before_floor") plan.skipped.beforeFloor += 1;
    else if (verdict === "capture_window") plan.skipped.captureWindow += 1;
    else plan.read.push(row);
  }
  return plan;
}

export interface HashedSnapshot extends CapturedKey {
  orderId: number;
  hash: string;
}

export type HashVerdict =
  /** Same content as the CRM got last (or as capture last judged): nothing to do. */
  | "same"
  /** Different content: enqueue. */
  | "enqueue"
  /** Key ahead with the same DATE_UPDATE: enqueue only if it holds after the settle time. */
  | "settle";

/**
 * A freshly read snapshot against the state, by content. Equal to the last
 * delivered hash: the CRM has it. Equal to the last captured hash: capture
 * (or an earlier sweep) already judged exactly this content — queued it,
 * dead-lettered it, or recognised it as write-back's own row — so it is not
 * sent again every night.
 */
export function judgeSnapshotHash(snap: HashedSnapshot, known: KnownOrder | undefined): HashVerdict {
  if (known?.delivered?.hash === snap.hash || known?.captured?.hash === snap.hash) return "same";
  const key = newestKnownKey(known);
  if (key && compareSnapshots(snap, key) > 0 && snap.dateUpdate === key.dateUpdate) return "settle";
  return "enqueue";
}
