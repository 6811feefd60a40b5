/**
 * When a chaos run counts as drained: nothing pending in the outbox, capture
 * has seen every order's final (VERSION, DATE_UPDATE), the CRM has accepted
 * each order's final version (unless that row is a write-back's own, which is
 * not sent back), and write-back has settled every feed change.
 */
import type { CrmServer } from "../support/crm-server.js";
import type { TestDatabase } from "../support/test-database.js";
import type { BacklogProbe } from "./backlog-probe.js";

/** Why the run is not drained yet, or undefined when it is. */
export async function drainWaitingFor(
  db: TestDatabase,
  probe: BacklogProbe,
  crm: CrmServer,
  feedKeys: string[],
): Promise<string | undefined> {
  const pending = probe.pending();
  if (!pending) return "the state database";
  if (pending.all > 0) return `${pending.all} pending outbox entries`;
  const orders = await db.query<{ ID: number; VERSION: number; DATE_UPDATE: string }>(
    "SELECT ID, VERSION, DATE_UPDATE FROM b_sale_order",
  );
  const captured = probe.captured();
  const notCaptured = orders.filter((o) => captured.get(Number(o.ID)) !== `${o.VERSION}/${o.DATE_UPDATE}`);
  if (notCaptured.length > 0) return `${notCaptured.length} orders not captured in their final state`;
  const writes = probe.writebackWrites();
  const last = new Map<number, string>();
  for (const r of crm.requests) {
    if (!r.accepted || r.orderId === undefined) continue;
    const d = (r.body as { data: Record<string, unknown> }).data;
    last.set(Number(r.orderId), `${String(d["VERSION"])}/${String(d["DATE_UPDATE"])}`);
  }
  const site = (v: string) => v.replace(/^(\d{4})-(\d{2})-(\d{2}) /, "$3.$2.$1 ");
  const notDelivered = orders.filter(
    (o) =>
      !writes.has(`${o.ID}/${o.VERSION}/${o.DATE_UPDATE}`) &&
      last.get(Number(o.ID)) !== `${o.VERSION}/${site(o.DATE_UPDATE)}`,
  );
  if (notDelivered.length > 0) return `${notDelivered.length} orders whose final version the CRM lacks`;
  const settled = probe.settledChangeKeys();
  const unsettled = feedKeys.filter((k) => !settled.has(k));
  if (unsettled.length > 0) return `${unsettled.length} feed changes not settled by write-back`;
  return undefined;
}
