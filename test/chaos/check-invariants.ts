/**
 * The verdict of a chaos run: pure functions over what was observed at the
 * end (Bitrix's tables, the CRM's received log, the feed, the daemon's
 * state). Definitions:
 *
 * - Delivered: the CRM stand-in answered success for a request (it stored it).
 * - Arrival order: the order in which the CRM had fully received those
 *   requests (its `seq`). "An older version after a newer one" means an
 *   accepted request whose (VERSION, DATE_UPDATE) is below that of an
 *   accepted request of the same order that arrived earlier. A request the
 *   daemon gave up on (timeout, kill -9) counts where it arrived.
 * - Final state delivered: the last accepted snapshot of each order (arrival
 *   order) equals the snapshot the daemon builds from Bitrix's final rows,
 *   byte for byte as JSON. Exception, by design (no echo): when Bitrix's
 *   final row is one a write-back wrote, the CRM already has that status, and
 *   the CRM's copy may differ only in the columns a status change sets.
 * - Duplicate: an accepted request whose Idempotency-Key was accepted before.
 * - Write-back: each feed change ends as exactly one ORDER_STATUS_CHANGED
 *   history row, in feed order per order (old -> new status as pushed), the
 *   final STATUS_ID is the last pushed one, and the state holds exactly one
 *   outcome per change: `applied`, or `unchanged` when the daemon was killed
 *   between the MySQL commit and recording the outcome (the re-read finds
 *   Bitrix already holding the status).
 */
import { isDeepStrictEqual } from "node:util";

export interface BitrixOrderFinal {
  id: number;
  version: number;
  /** Raw 'YYYY-MM-DD HH:MM:SS'. */
  dateUpdate: string;
  statusId: string;
  /** What the daemon would send for this row: the CRM's `data` without webhook_timestamp/source. */
  expectedData: Record<string, unknown>;
}

export interface AcceptedRequest {
  seq: number;
  orderId: number;
  data: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

export interface FeedChangeMade {
  id: string;
  orderId: number;
  statusId: string;
}

export interface StatusHistoryRow {
  id: number;
  orderId: number;
  statusId: string;
  oldStatusId: string;
}

export interface ChaosObservation {
  orders: BitrixOrderFinal[];
  /** (order, VERSION, DATE_UPDATE) rows write-back produced (state table writeback_writes). */
  writebackWrites: Array<{ orderId: number; version: number; dateUpdate: string }>;
  /** Every accepted request, in arrival order. */
  accepted: AcceptedRequest[];
  /** Per order, the accepted `data` in the order the CRM stand-in finished processing them. */
  completionOrder: Map<number, Array<Record<string, unknown>>>;
  feedChanges: FeedChangeMade[];
  history: StatusHistoryRow[];
  /** writeback_changes rows of real runs (dry_run = 0). */
  writebackOutcomes: Array<{ changeKey: string; orderId: number | null; outcome: string }>;
  outbox: { pending: number; delivered: number; dead: number };
  initialStatusId: string;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  /** One line: the numbers behind the verdict. */
  detail: string;
  violations: string[];
}

/** Columns a status write-back sets on b_sale_order (BITRIX.md §3). */
const STATUS_COLUMNS = ["STATUS_ID", "DATE_STATUS", "EMP_STATUS_ID", "UPDATED_1C", "VERSION", "DATE_UPDATE"];
const SEND_TIME_FIELDS = ["webhook_timestamp", "webhook_source"];
/** Violations listed per check at most; the count says how many there were. */
const MAX_LISTED = 15;

/** `26.08.2025 10:12:41` (site format) -> `2025-08-26 10:12:41`, comparable as a string. */
export function siteToSortable(value: unknown): string {
  const m = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}:\d{2}:\d{2})$/.exec(String(value));
  return m ? `${m[3]}-${m[2]}-${m[1]} ${m[4]}` : String(value);
}

function keyOf(data: Record<string, unknown>): { version: number; dateUpdate: string } {
  return { version: Number(data["VERSION"]), dateUpdate: siteToSortable(data["DATE_UPDATE"]) };
}

function compareKeys(a: { version: number; dateUpdate: string }, b: { version: number; dateUpdate: string }) {
  if (a.version !== b.version) return a.version - b.version;
  return a.dateUpdate < b.dateUpdate ? -1 : a.dateUpdate > b.dateUpdate ? 1 : 0;
}

function without(data: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...data };
  for (const k of keys) delete out[k];
  return out;
}

function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !isDeepStrictEqual(a[k], b[k]));
}

function result(name: string, detail: string, violations: string[]): CheckResult {
  const listed = violations.slice(0, MAX_LISTED);
  if (violations.length > MAX_LISTED) listed.push(`... and ${violations.length - MAX_LISTED} more`);
  return { name, ok: violations.length === 0, detail, violations: listed };
}

function groupBy<T>(items: readonly T[], key: (item: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

export function checkFinalStateDelivered(o: ChaosObservation): CheckResult {
  const writes = new Set(o.writebackWrites.map((w) => `${w.orderId}/${w.version}/${w.dateUpdate}`));
  const lastAccepted = new Map<number, AcceptedRequest>();
  for (const a of o.accepted) lastAccepted.set(a.orderId, a);
  const violations: string[] = [];
  let exact = 0;
  let echo = 0;
  for (const order of o.orders) {
    const last = lastAccepted.get(order.id);
    if (!last) {
      violations.push(`order ${order.id} (VERSION ${order.version}) never reached the CRM`);
      continue;
    }
    const got = without(last.data, SEND_TIME_FIELDS);
    if (isDeepStrictEqual(got, order.expectedData)) {
      exact++;
      continue;
    }
    const finalIsWriteback = writes.has(`${order.id}/${order.version}/${order.dateUpdate}`);
    if (
      finalIsWriteback &&
      isDeepStrictEqual(without(got, STATUS_COLUMNS), without(order.expectedData, STATUS_COLUMNS))
    ) {
      echo++;
      continue;
    }
    violations.push(
      `order ${order.id}: Bitrix has VERSION ${order.version} (${order.dateUpdate})` +
        `${finalIsWriteback ? ", written by write-back," : ""} but the CRM's last is VERSION ${String(last.data["VERSION"])} ` +
        `(${siteToSortable(last.data["DATE_UPDATE"])}, request #${last.seq}); differing: ${differingKeys(got, order.expectedData).join(", ")}`,
    );
  }
  return result(
    "every order's final state delivered",
    `${o.orders.length} orders: ${exact} exactly as in Bitrix, ${echo} as in Bitrix but for the CRM's own status change (no echo)`,
    violations,
  );
}

export function checkNoOlderAfterNewer(o: ChaosObservation): CheckResult {
  const newest = new Map<number, AcceptedRequest>();
  const violations: string[] = [];
  for (const a of o.accepted) {
    const seen = newest.get(a.orderId);
    if (seen && compareKeys(keyOf(a.data), keyOf(seen.data)) < 0) {
      violations.push(
        `order ${a.orderId}: VERSION ${String(a.data["VERSION"])} (${siteToSortable(a.data["DATE_UPDATE"])}, request #${a.seq}) ` +
          `arrived after VERSION ${String(seen.data["VERSION"])} (${siteToSortable(seen.data["DATE_UPDATE"])}, request #${seen.seq})`,
      );
      continue;
    }
    newest.set(a.orderId, a);
  }
  return result(
    "no older snapshot delivered after a newer one",
    `${o.accepted.length} accepted deliveries checked in arrival order`,
    violations,
  );
}

/** Informational: deliveries the CRM stand-in finished in another order than they arrived (slow answers). */
export function completionInversions(o: ChaosObservation): { inversions: number; staleFinal: number[] } {
  let inversions = 0;
  const staleFinal: number[] = [];
  const expected = new Map(o.orders.map((order) => [order.id, order]));
  for (const [orderId, datas] of o.completionOrder) {
    let max: { version: number; dateUpdate: string } | undefined;
    for (const d of datas) {
      const k = keyOf(d);
      if (max && compareKeys(k, max) < 0) inversions++;
      else max = k;
    }
    const last = datas.at(-1);
    const order = expected.get(orderId);
    if (last && order && max && compareKeys(keyOf(last), max) < 0) staleFinal.push(orderId);
  }
  return { inversions, staleFinal };
}

export function countDuplicates(o: ChaosObservation): { duplicates: number; ordersAffected: number } {
  const seen = new Set<string>();
  const affected = new Set<number>();
  let duplicates = 0;
  for (const a of o.accepted) {
    const key = a.idempotencyKey ?? `#${a.seq}`;
    if (seen.has(key)) {
      duplicates++;
      affected.add(a.orderId);
    } else seen.add(key);
  }
  return { duplicates, ordersAffected: affected.size };
}

export function checkWriteback(o: ChaosObservation): CheckResult {
  const violations: string[] = [];
  const pushedBy = groupBy(o.feedChanges, (c) => c.orderId);
  const historyBy = groupBy(o.history, (h) => h.orderId);
  const finalStatus = new Map(o.orders.map((order) => [order.id, order.statusId]));
  for (const orderId of new Set([...pushedBy.keys(), ...historyBy.keys()])) {
    const pushed = pushedBy.get(orderId) ?? [];
    const expected: string[] = [];
    let previous = o.initialStatusId;
    for (const c of pushed) {
      expected.push(`${previous}->${c.statusId}`);
      previous = c.statusId;
    }
    const got = (historyBy.get(orderId) ?? []).map((h) => `${h.oldStatusId}->${h.statusId}`);
    if (!isDeepStrictEqual(got, expected)) {
      violations.push(
        `order ${orderId}: feed changes ${expected.join(", ") || "(none)"} but history rows ${got.join(", ") || "(none)"}`,
      );
    }
    if (finalStatus.get(orderId) !== previous) {
      violations.push(
        `order ${orderId}: STATUS_ID is ${finalStatus.get(orderId)}, the last feed change set ${previous}`,
      );
    }
  }
  const outcomesBy = new Map<string, string[]>();
  for (const r of o.writebackOutcomes)
    outcomesBy.set(r.changeKey, [...(outcomesBy.get(r.changeKey) ?? []), r.outcome]);
  const counts: Record<string, number> = {};
  for (const c of o.feedChanges) {
    const outcomes = outcomesBy.get(c.id) ?? [];
    for (const out of outcomes) counts[out] = (counts[out] ?? 0) + 1;
    if (outcomes.length !== 1) {
      violations.push(
        `feed change ${c.id} (order ${c.orderId}): ${outcomes.length} outcome rows in writeback_changes`,
      );
    } else if (outcomes[0] !== "applied" && outcomes[0] !== "unchanged") {
      violations.push(`feed change ${c.id} (order ${c.orderId} -> ${c.statusId}): outcome ${outcomes[0]}`);
    }
  }
  const known = new Set(o.feedChanges.map((c) => c.id));
  for (const r of o.writebackOutcomes) {
    if (!known.has(r.changeKey))
      violations.push(`writeback_changes has ${r.changeKey}, which the feed never sent`);
  }
  const summary = Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  return result(
    "write-back: each CRM change applied exactly once, none lost",
    `${o.feedChanges.length} feed changes, ${o.history.length} ORDER_STATUS_CHANGED rows; outcomes: ${summary || "none"}`,
    violations,
  );
}

export function checkBacklogEmpty(o: ChaosObservation): CheckResult {
  const violations: string[] = [];
  if (o.outbox.pending > 0) violations.push(`${o.outbox.pending} outbox entries still pending`);
  if (o.outbox.dead > 0) violations.push(`${o.outbox.dead} dead letters (the CRM never rejected a payload)`);
  return result(
    "backlog empty, no dead letters",
    `outbox: ${o.outbox.pending} pending, ${o.outbox.delivered} delivered, ${o.outbox.dead} dead`,
    violations,
  );
}

export function checkAll(o: ChaosObservation): CheckResult[] {
  return [checkFinalStateDelivered(o), checkNoOlderAfterNewer(o), checkWriteback(o), checkBacklogEmpty(o)];
}
