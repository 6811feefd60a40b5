/**
 * The demo's closing proof, from the data rather than from the demo's own
 * counters: what the CRM stand-in received for one order (Bitrix → CRM), and
 * for one order the CRM moved, the b_sale_order row and its newest
 * b_sale_order_change row in Bitrix (CRM → Bitrix). `demoVerdict` decides the
 * exit code: 0 only when both directions were seen.
 */
import type { CrmServer } from "../../test/support/crm-server.js";
import type { TestDatabase } from "../../test/support/test-database.js";
import { statusLabel } from "./demo-activity.js";
import { customerNameOf } from "./demo-orders.js";
import type { WritebackOutcomeRow } from "./demo-state-reader.js";

export interface BitrixOrderNow {
  statusId: string;
  version: number;
  dateStatus: string;
  /** Newest ORDER_STATUS_CHANGED history row: its PHP-serialized DATA and time. */
  history: { data: string; dateCreate: string } | undefined;
}

export interface DemoProof {
  forward:
    | {
        orderId: number;
        customer: string;
        received: Array<{ event: string; version: string; statusId: string }>;
      }
    | undefined;
  back:
    | { orderId: number; applied: WritebackOutcomeRow[]; bitrix: BitrixOrderNow; echoedVersions: number[] }
    | undefined;
}

export async function readBitrixOrder(
  db: TestDatabase,
  orderId: number,
): Promise<BitrixOrderNow | undefined> {
  const [order] = await db.query<{ STATUS_ID: string; VERSION: number; DATE_STATUS: string }>(
    "SELECT STATUS_ID, VERSION, DATE_STATUS FROM b_sale_order WHERE ID = ?",
    [orderId],
  );
  if (order === undefined) return undefined;
  const [change] = await db.query<{ DATA: string; DATE_CREATE: string }>(
    "SELECT DATA, DATE_CREATE FROM b_sale_order_change WHERE ORDER_ID = ? AND TYPE = 'ORDER_STATUS_CHANGED' ORDER BY ID DESC LIMIT 1",
    [orderId],
  );
  return {
    statusId: order.STATUS_ID,
    version: Number(order.VERSION),
    dateStatus: order.DATE_STATUS,
    history: change === undefined ? undefined : { data: change.DATA, dateCreate: change.DATE_CREATE },
  };
}

/** The order the CRM received most versions of, and the one with most statuses applied back. */
export async function gatherProof(deps: {
  db: TestDatabase;
  crm: CrmServer;
  outcomes: readonly WritebackOutcomeRow[];
}): Promise<DemoProof> {
  const { db, crm, outcomes } = deps;
  let forward: DemoProof["forward"];
  for (const id of crm.orders.keys()) {
    const received = crm.acceptedFor(id).map((d) => ({
      event: d.event,
      version: String(d.data["VERSION"]),
      statusId: String(d.data["STATUS_ID"]),
    }));
    if (forward === undefined || received.length > forward.received.length) {
      forward = { orderId: Number(id), customer: customerNameOf(crm.orders.get(id)?.data), received };
    }
  }

  const appliedByOrder = new Map<number, WritebackOutcomeRow[]>();
  for (const row of outcomes) {
    if (row.outcome !== "applied" || row.orderId === null) continue;
    appliedByOrder.set(row.orderId, [...(appliedByOrder.get(row.orderId) ?? []), row]);
  }
  let back: DemoProof["back"];
  const [orderId, applied] = [...appliedByOrder.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  if (orderId !== undefined && applied !== undefined) {
    const bitrix = await readBitrixOrder(db, orderId);
    if (bitrix !== undefined) {
      const sent = new Set(crm.acceptedFor(orderId).map((d) => Number(d.data["VERSION"])));
      const echoedVersions = applied.map((a) => a.version ?? -1).filter((v) => sent.has(v));
      back = { orderId, applied, bitrix, echoedVersions };
    }
  }
  return { forward, back };
}

/** Both directions seen, from the data: the CRM accepted an order event; a CRM status is in Bitrix with its history row. */
export function demoVerdict(proof: DemoProof): { ok: boolean; missing: string[] } {
  const missing: string[] = [];
  if (proof.forward === undefined || proof.forward.received.length === 0) {
    missing.push("no order reached the CRM (Bitrix → CRM not seen)");
  }
  const back = proof.back;
  const last = back?.applied.at(-1);
  if (back === undefined || last === undefined) {
    missing.push("no CRM status change was applied in Bitrix (CRM → Bitrix not seen)");
  } else if (back.bitrix.history === undefined || !back.bitrix.history.data.includes(`"${last.statusId}"`)) {
    missing.push(`order #${back.orderId}: no b_sale_order_change row for status ${last.statusId}`);
  }
  return { ok: missing.length === 0, missing };
}

export function formatProof(proof: DemoProof): string[] {
  const lines: string[] = [];
  const f = proof.forward;
  if (f !== undefined) {
    const received = f.received.map((r) => `${r.event} v${r.version} (${r.statusId})`).join(", ");
    lines.push(`Bitrix → CRM: order #${f.orderId} (${f.customer}): the CRM received ${received}`);
  }
  const b = proof.back;
  if (b !== undefined) {
    const moves = b.applied.map((a) => `${a.crmStatus} → ${a.statusId} (VERSION ${a.version})`).join(", ");
    lines.push(`CRM → Bitrix: order #${b.orderId}: the CRM manager's ${moves} were written into Bitrix;`);
    lines.push(
      `              b_sale_order.STATUS_ID is now ${statusLabel(b.bitrix.statusId)}, VERSION ${b.bitrix.version}, DATE_STATUS ${b.bitrix.dateStatus}`,
    );
    if (b.bitrix.history !== undefined) {
      lines.push(
        `              b_sale_order_change ORDER_STATUS_CHANGED at ${b.bitrix.history.dateCreate}: ${b.bitrix.history.data}`,
      );
    }
    lines.push(
      b.echoedVersions.length === 0
        ? "              and none of those versions was sent back to the CRM (no echo)"
        : `              (versions ${b.echoedVersions.join(", ")} were sent back to the CRM: an echo)`,
    );
  }
  return lines;
}

/** Where the log and the outbox are, and the commands that read them. */
export function formatWhereToLook(
  env: { logFile: string; stateDir: string; configFile: string },
  kept: boolean,
): string[] {
  return [
    `Log:    ${env.logFile} (JSON lines)`,
    `Outbox: ${env.stateDir}/outbox.db (SQLite)`,
    kept ? "Look at them with:" : "To look at them yourself, run `cvety-sidecar demo --keep`, then:",
    ...["status", "outbox list", "logs"].map(
      (command) => `  cvety-sidecar ${command} --config ${env.configFile}`,
    ),
    `  sqlite3 ${env.stateDir}/outbox.db "SELECT id, order_id, version, event, state FROM outbox"`,
  ];
}
