/**
 * Saves an existing order the way Bitrix's OrderBase::save() does for ID > 0
 * (BITRIX.md §2-3), autocommit, statement by statement:
 *   UPDATE b_sale_order SET <changed fields>, UPDATED_1C='N', VERSION = VERSION + 1
 *   (optional pause: the half-saved state a poller can read)
 *   children: basket lines, shipment items, property values
 *   UPDATE b_sale_order SET DATE_UPDATE = now, RUNNING = 'N'   (DATE_UPDATE moves last)
 *   INSERT b_sale_order_change ORDER_STATUS_CHANGED when STATUS_ID changed (DB NOW())
 */
import type { Pool, RowDataPacket } from "mysql2/promise";
import { bitrixNow } from "./bitrix-clock.js";
import {
  insertBasketLine,
  insertStatusHistory,
  realShipmentId,
  writeProperty,
} from "./bitrix-order-children.js";
import { assertOrderColumns } from "./bitrix-order-columns.js";
import { type BasketLine, basketTotal, money } from "./bitrix-order-spec.js";
import { insertRow, type SqlValue, setList } from "./sql-rows.js";

export interface SaveChange {
  fields?: Record<string, SqlValue>;
  properties?: Record<string, string>;
  basket?: {
    add?: BasketLine[];
    updateQuantity?: { basketId: number; quantity: number }[];
    removeIds?: number[];
  };
}

export interface SaveOptions {
  /** Pause after the first UPDATE (VERSION already bumped), before children and DATE_UPDATE. */
  pauseAfterVersionBumpMs?: number;
  /** DATE_UPDATE to write instead of now. */
  dateUpdate?: string;
  /** Leave DATE_UPDATE alone: what raw SQL by other modules looks like. */
  keepDateUpdate?: boolean;
  timeZone?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Columns a caller may not set in saveOrder(): the save itself owns them. */
const SAVE_OWNED_COLUMNS = new Set(["ID", "VERSION", "RUNNING", "DATE_UPDATE"]);

export async function saveOrder(
  pool: Pool,
  id: number,
  change: SaveChange,
  opts: SaveOptions = {},
): Promise<{ version: number; dateUpdate: string }> {
  const now = () => opts.dateUpdate ?? bitrixNow(opts.timeZone);
  const fields: Record<string, SqlValue> = { ...change.fields };
  for (const name of Object.keys(fields)) {
    if (SAVE_OWNED_COLUMNS.has(name))
      throw new Error(`saveOrder() sets ${name} itself; use rawUpdate() to force it`);
  }
  await assertOrderColumns(pool, fields);

  const db = await pool.getConnection();
  try {
    const [orders] = await db.query<RowDataPacket[]>(
      "SELECT STATUS_ID, PRICE_DELIVERY, LID, CURRENCY, USER_ID FROM b_sale_order WHERE ID = ?",
      [id],
    );
    const before = orders[0];
    if (before === undefined) throw new Error(`saveOrder(): no order ${id}`);
    const changedAt = now();

    // onFieldModify side effects Bitrix applies in the same first UPDATE.
    if ("STATUS_ID" in fields && !("DATE_STATUS" in fields)) fields.DATE_STATUS = changedAt;
    if (fields.CANCELED === "Y" && !("DATE_CANCELED" in fields)) fields.DATE_CANCELED = changedAt;
    if (fields.PAYED === "Y" && !("DATE_PAYED" in fields)) fields.DATE_PAYED = changedAt;
    if (!("UPDATED_1C" in fields)) fields.UPDATED_1C = "N";

    const basketChange = change.basket;
    if (basketChange !== undefined && !("PRICE" in fields)) {
      // The basket decides the order PRICE (plus delivery), written in the first UPDATE.
      const [lines] = await db.query<RowDataPacket[]>(
        "SELECT ID, PRICE, QUANTITY FROM b_sale_basket WHERE ORDER_ID = ?",
        [id],
      );
      const removed = new Set(basketChange.removeIds ?? []);
      const quantities = new Map((basketChange.updateQuantity ?? []).map((u) => [u.basketId, u.quantity]));
      const kept = lines
        .filter((line) => !removed.has(Number(line.ID)))
        .map((line) => ({
          price: Number(line.PRICE),
          quantity: quantities.get(Number(line.ID)) ?? Number(line.QUANTITY),
        }));
      const delivery = Number(fields.PRICE_DELIVERY ?? before.PRICE_DELIVERY);
      fields.PRICE = money(basketTotal([...kept, ...(basketChange.add ?? [])]) + delivery);
    }

    const set = setList(fields);
    await db.query(`UPDATE b_sale_order SET ${set.sql}, VERSION = VERSION + 1 WHERE ID = ?`, [
      ...set.params,
      id,
    ]);
    if (opts.pauseAfterVersionBumpMs !== undefined) await sleep(opts.pauseAfterVersionBumpMs);

    if (basketChange !== undefined) {
      const shipmentId = await realShipmentId(db, id);
      for (const basketId of basketChange.removeIds ?? []) {
        await db.query("DELETE FROM b_sale_order_dlv_basket WHERE BASKET_ID = ?", [basketId]);
        await db.query("DELETE FROM b_sale_basket WHERE ID = ? AND ORDER_ID = ?", [basketId, id]);
      }
      for (const { basketId, quantity } of basketChange.updateQuantity ?? []) {
        await db.query(
          "UPDATE b_sale_basket SET QUANTITY = ?, DATE_UPDATE = ? WHERE ID = ? AND ORDER_ID = ?",
          [quantity, changedAt, basketId, id],
        );
        await db.query("UPDATE b_sale_order_dlv_basket SET QUANTITY = ? WHERE BASKET_ID = ?", [
          quantity,
          basketId,
        ]);
      }
      const [users] = await db.query<RowDataPacket[]>(
        "SELECT ID FROM b_sale_fuser WHERE USER_ID = ? LIMIT 1",
        [before.USER_ID],
      );
      const order = { id, fuserId: Number(users[0]?.ID ?? 0), siteId: before.LID, currency: before.CURRENCY };
      for (const line of basketChange.add ?? []) {
        const basketId = await insertBasketLine(db, order, line, changedAt);
        if (shipmentId !== undefined) {
          await insertRow(db, "b_sale_order_dlv_basket", {
            ORDER_DELIVERY_ID: shipmentId,
            BASKET_ID: basketId,
            DATE_INSERT: changedAt,
            QUANTITY: line.quantity,
            RESERVED_QUANTITY: 0,
          });
        }
      }
    }
    for (const [key, value] of Object.entries(change.properties ?? {}))
      await writeProperty(db, id, key, value);

    if (opts.keepDateUpdate === true) {
      await db.query("UPDATE b_sale_order SET RUNNING = 'N' WHERE ID = ?", [id]);
    } else {
      await db.query("UPDATE b_sale_order SET DATE_UPDATE = ?, RUNNING = 'N' WHERE ID = ?", [now(), id]);
    }

    const newStatus = fields.STATUS_ID;
    if (newStatus !== undefined && newStatus !== before.STATUS_ID) {
      await insertStatusHistory(db, id, String(newStatus), String(before.STATUS_ID));
    }

    const [after] = await db.query<RowDataPacket[]>(
      "SELECT VERSION, DATE_UPDATE FROM b_sale_order WHERE ID = ?",
      [id],
    );
    return { version: Number(after[0]?.VERSION), dateUpdate: String(after[0]?.DATE_UPDATE) };
  } finally {
    db.release();
  }
}
