import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import { selectRows, selectStrings } from "../mysql/create-mysql-pool.js";
import {
  SQL_BASKET,
  SQL_ORDER_KEYS,
  SQL_ORDERS,
  SQL_PAYMENTS,
  SQL_PROPERTIES,
  SQL_SHIPMENTS,
  SQL_USERS,
} from "./bitrix-order-queries.js";
import type { OrderSnapshot, Row } from "./order-snapshot.js";

export interface SnapshotReadResult {
  snapshots: OrderSnapshot[];
  /** VERSION or DATE_UPDATE changed while we read, or the order is RUNNING again: read again later. */
  moved: number[];
  /** Gone (deleted or archived) between the poll and the read. */
  missing: number[];
}

/**
 * Reads the full snapshot of several orders in one consistent InnoDB read
 * view (one query per table, not per order), then re-reads each order's
 * (VERSION, DATE_UPDATE) outside it. Bitrix saves without a transaction and
 * bumps VERSION in its first UPDATE (BITRIX.md §2), so an order whose key
 * moved between the view and the re-check was being saved while we read:
 * it is reported as moved and never captured half.
 */
export async function readSnapshots(
  pool: MysqlPool,
  orderIds: readonly number[],
): Promise<SnapshotReadResult> {
  if (orderIds.length === 0) return { snapshots: [], moved: [], missing: [] };
  const ids = [...orderIds];
  const conn = await pool.getConnection();
  let orders: Awaited<ReturnType<typeof selectRows>>;
  let basket: Awaited<ReturnType<typeof selectRows>>;
  let props: Awaited<ReturnType<typeof selectRows>>;
  let payments: Awaited<ReturnType<typeof selectRows>>;
  let shipments: Awaited<ReturnType<typeof selectRows>>;
  let users: Row[];
  try {
    await conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    try {
      orders = await selectRows(conn, SQL_ORDERS, [ids]);
      basket = await selectRows(conn, SQL_BASKET, [ids]);
      props = await selectRows(conn, SQL_PROPERTIES, [ids]);
      payments = await selectRows(conn, SQL_PAYMENTS, [ids]);
      shipments = await selectRows(conn, SQL_SHIPMENTS, [ids]);
      const userIds = [...new Set(orders.rows.map((o) => o["USER_ID"]).filter((u): u is string => !!u))];
      users = userIds.length > 0 ? await selectStrings(conn, SQL_USERS, [userIds]) : [];
    } finally {
      await conn.query("COMMIT");
    }
  } finally {
    conn.release();
  }
  const recheck = await selectStrings(pool, SQL_ORDER_KEYS, [ids]);
  const current = new Map(recheck.map((r) => [Number(r["ID"]), r]));

  const byOrder = <T extends Row>(rows: T[]) => {
    const m = new Map<number, T[]>();
    for (const r of rows) {
      const id = Number(r["ORDER_ID"]);
      const list = m.get(id);
      if (list) list.push(r);
      else m.set(id, [r]);
    }
    return m;
  };
  const basketBy = byOrder(basket.rows);
  const propsBy = byOrder(props.rows);
  const paymentsBy = byOrder(payments.rows);
  const shipmentsBy = byOrder(shipments.rows);
  const usersById = new Map(users.map((u) => [u["ID"], u]));

  const result: SnapshotReadResult = { snapshots: [], moved: [], missing: [] };
  const seen = new Set<number>();
  for (const order of orders.rows) {
    const orderId = Number(order["ID"]);
    seen.add(orderId);
    const now = current.get(orderId);
    if (!now) {
      result.missing.push(orderId);
      continue;
    }
    if (
      now["VERSION"] !== order["VERSION"] ||
      now["DATE_UPDATE"] !== order["DATE_UPDATE"] ||
      now["RUNNING"] === "Y" ||
      order["RUNNING"] === "Y"
    ) {
      result.moved.push(orderId);
      continue;
    }
    result.snapshots.push({
      orderId,
      version: Number(order["VERSION"]),
      dateUpdate: order["DATE_UPDATE"] ?? "",
      order,
      basket: basketBy.get(orderId) ?? [],
      properties: propsBy.get(orderId) ?? [],
      payments: paymentsBy.get(orderId) ?? [],
      shipments: shipmentsBy.get(orderId) ?? [],
      user: order["USER_ID"] ? (usersById.get(order["USER_ID"]) ?? null) : null,
      dateColumns: {
        order: orders.dateColumns,
        basket: basket.dateColumns,
        payments: payments.dateColumns,
        shipments: shipments.dateColumns,
      },
    });
  }
  for (const id of ids) if (!seen.has(id)) result.missing.push(id);
  return result;
}
