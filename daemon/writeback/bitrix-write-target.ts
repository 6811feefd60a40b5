import { SidecarError } from "../errors.js";
import { type Queryable, selectStrings } from "../mysql/create-mysql-pool.js";
import type { OrderStatusInfo } from "./map-status.js";
import type { PhpCharset } from "./php-serialize.js";
import { SQL_ORDER_STATUSES, SQL_WRITE_TARGET_COLUMNS } from "./writeback-queries.js";

/**
 * What the write-back must know about this Bitrix database before writing:
 * the charset of the serialized columns (PHP's byte lengths depend on it:
 * UTF-8 sites count Cyrillic as 2 bytes, cp1251 sites as 1) and which
 * b_event columns exist on this release.
 */
export interface BitrixWriteTarget {
  historyCharset: PhpCharset;
  eventCharset: PhpCharset;
  eventHasLanguageId: boolean;
}

export async function readWriteTarget(db: Queryable): Promise<BitrixWriteTarget> {
  const rows = await selectStrings(db, SQL_WRITE_TARGET_COLUMNS);
  const column = (table: string, name: string) =>
    rows.find((r) => r["TABLE_NAME"] === table && r["COLUMN_NAME"] === name);
  const data = column("b_sale_order_change", "DATA");
  const fields = column("b_event", "C_FIELDS");
  if (!data || !fields) {
    throw new SidecarError(
      "E_WRITEBACK_SCHEMA",
      `write-back needs ${[!data && "b_sale_order_change.DATA", !fields && "b_event.C_FIELDS"].filter(Boolean).join(" and ")}, which this Bitrix database does not have`,
    );
  }
  return {
    historyCharset: phpCharsetOf(data["CHARACTER_SET_NAME"] ?? null, "b_sale_order_change.DATA"),
    eventCharset: phpCharsetOf(fields["CHARACTER_SET_NAME"] ?? null, "b_event.C_FIELDS"),
    eventHasLanguageId: column("b_event", "LANGUAGE_ID") !== undefined,
  };
}

/** Bitrix sites are UTF-8 (utf8/utf8mb4 columns) or single-byte Russian (cp1251). */
function phpCharsetOf(mysqlCharset: string | null, column: string): PhpCharset {
  const cs = (mysqlCharset ?? "").toLowerCase();
  if (cs.startsWith("utf8")) return "utf8";
  if (cs === "cp1251") return "cp1251";
  throw new SidecarError(
    "E_WRITEBACK_CHARSET",
    `${column} uses character set ${mysqlCharset ?? "(none)"}; write-back supports utf8/utf8mb4 and cp1251 Bitrix sites`,
  );
}

/** Order statuses (TYPE='O') by STATUS_ID, read fresh each poll: admins add statuses. */
export async function readOrderStatuses(db: Queryable): Promise<Map<string, OrderStatusInfo>> {
  const rows = await selectStrings(db, SQL_ORDER_STATUSES);
  return new Map(
    rows.map((r) => {
      const id = r["ID"] ?? "";
      return [id, { id, notify: r["NOTIFY"] === "Y" }];
    }),
  );
}
