/**
 * Row counts of the daemon's state database (outbox by state, attempts,
 * per-order keys, write-back history), read through a read-only handle while
 * the daemon runs (WAL lets both work at once).
 */
import { openStateDb } from "../../daemon/outbox/open-state-db.js";

export interface StateTableCounts {
  outboxPending: number;
  outboxDelivered: number;
  outboxDead: number;
  deliveryAttempts: number;
  capturedOrders: number;
  deliveredOrders: number;
  writebackChanges: number;
  writebackWrites: number;
}

export function stateTableCounts(stateDir: string): StateTableCounts {
  const db = openStateDb(stateDir, { readonly: true });
  try {
    const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
    const byState = (state: string) => count(`SELECT COUNT(*) AS n FROM outbox WHERE state = '${state}'`);
    return {
      outboxPending: byState("pending"),
      outboxDelivered: byState("delivered"),
      outboxDead: byState("dead"),
      deliveryAttempts: count("SELECT COUNT(*) AS n FROM delivery_attempts"),
      capturedOrders: count("SELECT COUNT(*) AS n FROM captured_orders"),
      deliveredOrders: count("SELECT COUNT(*) AS n FROM delivered_orders"),
      writebackChanges: count("SELECT COUNT(*) AS n FROM writeback_changes"),
      writebackWrites: count("SELECT COUNT(*) AS n FROM writeback_writes"),
    };
  } finally {
    db.close();
  }
}

export function formatCounts(c: StateTableCounts): string {
  return (
    `outbox pending ${c.outboxPending} / delivered ${c.outboxDelivered} / dead ${c.outboxDead}, ` +
    `delivery_attempts ${c.deliveryAttempts}, captured_orders ${c.capturedOrders}, delivered_orders ${c.deliveredOrders}, ` +
    `writeback_changes ${c.writebackChanges}, writeback_writes ${c.writebackWrites}`
  );
}
