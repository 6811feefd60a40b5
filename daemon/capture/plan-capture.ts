import { shiftWallClock } from "./bitrix-datetime.js";

/**
 * Pure capture decisions: which rows of a poll page to read, and how far the
 * cursor may move. See DESIGN "Bitrix facts that shape capture".
 */

export interface WindowRow {
  orderId: number;
  version: number;
  /** Raw `YYYY-MM-DD HH:MM:SS`. */
  dateUpdate: string;
  running: boolean;
}

export interface CapturedKey {
  version: number;
  dateUpdate: string;
}

/** The keyset position: everything up to it has been settled. */
export interface CaptureCursor {
  dateUpdate: string;
  orderId: number;
}

export type RowDecision =
  /** Read a snapshot of it. */
  | "capture"
  /** This (ID, VERSION, DATE_UPDATE) was captured already. */
  | "duplicate"
  /** A new order still being created (RUNNING='Y'): its final UPDATE will move DATE_UPDATE. */
  | "running"
  /** VERSION moved but DATE_UPDATE did not: a save in progress; wait up to settle_ms. */
  | "settling";

/**
 * A Bitrix save bumps VERSION in its first UPDATE and writes DATE_UPDATE in
 * its last one. Seeing a new VERSION with the old DATE_UPDATE therefore
 * usually means the save is still writing children: we wait for it, but
 * only `settleMs` (two saves in the same second also look like this, and a
 * write that bypasses save() never moves DATE_UPDATE).
 */
export function decideRow(
  row: WindowRow,
  captured: CapturedKey | undefined,
  settlingSinceMs: number | undefined,
  nowMs: number,
  settleMs: number,
): RowDecision {
  if (row.running) return "running";
  if (!captured) return "capture";
  if (captured.version === row.version && captured.dateUpdate === row.dateUpdate) return "duplicate";
  if (captured.version !== row.version && captured.dateUpdate === row.dateUpdate) {
    if (settleMs > 0 && (settlingSinceMs === undefined || nowMs - settlingSinceMs < settleMs))
      return "settling";
  }
  return "capture";
}

export function compareCursor(a: CaptureCursor, b: CaptureCursor): number {
  if (a.dateUpdate !== b.dateUpdate) return a.dateUpdate < b.dateUpdate ? -1 : 1;
  return a.orderId - b.orderId;
}

/**
 * The cursor after a page: up to the page's last row, but never past a row
 * still unsettled (it must stay inside the next scan), and never backwards.
 */
export function advanceCursor(
  current: CaptureCursor,
  pageLast: CaptureCursor | undefined,
  oldestUnsettled: string | undefined,
): CaptureCursor {
  let candidate = pageLast ?? current;
  if (oldestUnsettled !== undefined && oldestUnsettled <= candidate.dateUpdate) {
    candidate = { dateUpdate: oldestUnsettled, orderId: 0 };
  }
  return compareCursor(candidate, current) > 0 ? candidate : current;
}

/** Where a poll starts: `lookbackS` before the cursor, since a save's DATE_UPDATE can appear late. */
export function scanStart(cursor: CaptureCursor, lookbackS: number): CaptureCursor {
  return { dateUpdate: shiftWallClock(cursor.dateUpdate, -lookbackS), orderId: 0 };
}

/** (VERSION, DATE_UPDATE) order of two snapshots of one order: newer is greater. */
export function compareSnapshots(a: CapturedKey, b: CapturedKey): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.dateUpdate !== b.dateUpdate) return a.dateUpdate < b.dateUpdate ? -1 : 1;
  return 0;
}
