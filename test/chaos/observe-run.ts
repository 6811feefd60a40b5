/**
 * Reads what a chaos run left behind: Bitrix's final rows (and the snapshot
 * the daemon would build from them, with the daemon's own code), the status
 * history, the daemon's state database, the CRM's received log and the feed.
 */
import Database from "better-sqlite3";
import type { RowDataPacket } from "mysql2/promise";
import { outboxSnapshotOf } from "../../daemon/capture/build-order-data.js";
import { readSnapshots } from "../../daemon/capture/read-snapshots.js";
import type { MysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import type { CrmServer } from "../support/crm-server.js";
import type { TestDatabase } from "../support/test-database.js";
import type {
  AcceptedRequest,
  BitrixOrderFinal,
  ChaosObservation,
  StatusHistoryRow,
} from "./check-invariants.js";
import { INITIAL_STATUS_ID, type PushedChange } from "./status-changer.js";

const READ_BATCH = 500;

export interface RunSources {
  db: TestDatabase;
  /** A pool built like the daemon's (every value a string), straight to MariaDB. */
  bitrix: MysqlPool;
  stateFile: string;
  crm: CrmServer;
  pushed: readonly PushedChange[];
}

export async function readBitrixFinal(bitrix: MysqlPool, db: TestDatabase): Promise<BitrixOrderFinal[]> {
  const rows = await db.query<{ ID: number; STATUS_ID: string }>(
    "SELECT ID, STATUS_ID FROM b_sale_order ORDER BY ID",
  );
  const status = new Map(rows.map((r) => [Number(r.ID), r.STATUS_ID]));
  const ids = rows.map((r) => Number(r.ID));
  const out: BitrixOrderFinal[] = [];
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const batch = ids.slice(i, i + READ_BATCH);
    const read = await readSnapshots(bitrix, batch);
    if (read.moved.length > 0 || read.missing.length > 0) {
      throw new Error(
        `orders still moving after the writer stopped: moved ${read.moved.join(", ")}; missing ${read.missing.join(", ")}`,
      );
    }
    for (const s of read.snapshots) {
      const snapshot = outboxSnapshotOf(s);
      out.push({
        id: s.orderId,
        version: s.version,
        dateUpdate: s.dateUpdate,
        statusId: status.get(s.orderId) ?? "",
        expectedData: JSON.parse(snapshot.payload) as Record<string, unknown>,
      });
    }
  }
  return out.sort((a, b) => a.id - b.id);
}

/** `a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}` -> DE, N */
export function parseStatusChangeData(data: string): { statusId: string; oldStatusId: string } {
  const m = /s:\d+:"STATUS_ID";s:\d+:"([^"]*)";s:\d+:"OLD_STATUS_ID";s:\d+:"([^"]*)"/.exec(data);
  return { statusId: m?.[1] ?? `?${data}`, oldStatusId: m?.[2] ?? "?" };
}

export async function readStatusHistory(db: TestDatabase): Promise<StatusHistoryRow[]> {
  const [rows] = await db.pool.query<RowDataPacket[]>(
    "SELECT ID, ORDER_ID, DATA FROM b_sale_order_change WHERE TYPE = 'ORDER_STATUS_CHANGED' ORDER BY ID",
  );
  return rows.map((r) => ({
    id: Number(r.ID),
    orderId: Number(r.ORDER_ID),
    ...parseStatusChangeData(String(r.DATA)),
  }));
}

export function acceptedRequests(crm: CrmServer): AcceptedRequest[] {
  return crm.requests
    .filter((r) => r.accepted && r.orderId !== undefined)
    .sort((a, b) => a.seq - b.seq)
    .map((r) => ({
      seq: r.seq,
      orderId: Number(r.orderId),
      data: (r.body as { data: Record<string, unknown> }).data,
      idempotencyKey: r.idempotencyKey,
    }));
}

export function readState(
  stateFile: string,
): Pick<ChaosObservation, "writebackWrites" | "writebackOutcomes" | "outbox"> {
  const state = new Database(stateFile, { fileMustExist: true, readonly: true });
  try {
    const writebackWrites = (
      state.prepare("SELECT order_id, version, date_update FROM writeback_writes").all() as Array<{
        order_id: number;
        version: number;
        date_update: string;
      }>
    ).map((w) => ({ orderId: w.order_id, version: w.version, dateUpdate: w.date_update }));
    const writebackOutcomes = (
      state
        .prepare("SELECT change_key, order_id, outcome FROM writeback_changes WHERE dry_run = 0 ORDER BY id")
        .all() as Array<{ change_key: string; order_id: number | null; outcome: string }>
    ).map((r) => ({ changeKey: r.change_key, orderId: r.order_id, outcome: r.outcome }));
    const outbox = { pending: 0, delivered: 0, dead: 0 };
    for (const r of state.prepare("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state").all() as Array<{
      state: keyof typeof outbox;
      n: number;
    }>) {
      outbox[r.state] = r.n;
    }
    return { writebackWrites, writebackOutcomes, outbox };
  } finally {
    state.close();
  }
}

export async function observeRun(s: RunSources): Promise<ChaosObservation> {
  const completionOrder = new Map<number, Array<Record<string, unknown>>>();
  for (const [id, order] of s.crm.orders) completionOrder.set(Number(id), order.history);
  return {
    orders: await readBitrixFinal(s.bitrix, s.db),
    ...readState(s.stateFile),
    accepted: acceptedRequests(s.crm),
    completionOrder,
    feedChanges: s.pushed.map((c) => ({ id: c.id, orderId: c.orderId, statusId: c.statusId })),
    history: await readStatusHistory(s.db),
    initialStatusId: INITIAL_STATUS_ID,
  };
}
