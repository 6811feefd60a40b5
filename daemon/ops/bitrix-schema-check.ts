import type { Queryable } from "../mysql/create-mysql-pool.js";
import { selectStrings } from "../mysql/create-mysql-pool.js";

/**
 * The Bitrix tables and columns the sidecar reads (capture) and writes
 * (write-back), for the installer's preflight and `doctor`. Extra columns on
 * newer Bitrix releases are fine; a missing one is not.
 */
export const CAPTURE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  b_sale_order: [
    "ID",
    "LID",
    "STATUS_ID",
    "VERSION",
    "DATE_UPDATE",
    "DATE_INSERT",
    "RUNNING",
    "USER_ID",
    "PRICE",
    "CURRENCY",
    "ACCOUNT_NUMBER",
  ],
  b_sale_basket: [
    "ID",
    "ORDER_ID",
    "PRODUCT_ID",
    "NAME",
    "PRICE",
    "CURRENCY",
    "QUANTITY",
    "DISCOUNT_PRICE",
    "PRODUCT_XML_ID",
  ],
  b_sale_order_props_value: ["ID", "ORDER_ID", "ORDER_PROPS_ID", "NAME", "VALUE", "CODE", "ENTITY_TYPE"],
  b_sale_order_payment: [
    "ID",
    "ORDER_ID",
    "PAID",
    "DATE_PAID",
    "PAY_SYSTEM_ID",
    "PAY_SYSTEM_NAME",
    "SUM",
    "CURRENCY",
  ],
  b_sale_order_delivery: [
    "ID",
    "ORDER_ID",
    "STATUS_ID",
    "DELIVERY_ID",
    "DELIVERY_NAME",
    "SYSTEM",
    "DATE_UPDATE",
  ],
  b_user: ["ID", "LOGIN", "EMAIL", "NAME", "LAST_NAME", "PERSONAL_PHONE"],
};

/**
 * The b_sale_order columns a status write-back SETS, exactly those Bitrix's
 * own status change writes (the installer grants UPDATE on these alone).
 */
export const WRITEBACK_UPDATED_ORDER_COLUMNS: readonly string[] = [
  "STATUS_ID",
  "DATE_STATUS",
  "EMP_STATUS_ID",
  "UPDATED_1C",
  "VERSION",
  "DATE_UPDATE",
];

/** What a status write-back reads and writes, exactly as Bitrix records a status change. */
export const WRITEBACK_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  b_sale_order: [
    "ID",
    "LID",
    "STATUS_ID",
    "DATE_STATUS",
    "EMP_STATUS_ID",
    "UPDATED_1C",
    "VERSION",
    "DATE_UPDATE",
    "ACCOUNT_NUMBER",
    "DATE_INSERT",
    "USER_ID",
  ],
  b_sale_status: ["ID", "TYPE", "NOTIFY"],
  b_sale_status_lang: ["STATUS_ID", "LID", "NAME", "DESCRIPTION"],
  // The customer e-mail's fields (write-back with notify_customer): site language, e-mail, sender.
  b_lang: ["LID", "LANGUAGE_ID", "SERVER_NAME"],
  b_sale_order_props: ["ID", "IS_EMAIL"],
  b_sale_order_props_value: ["ORDER_ID", "ORDER_PROPS_ID", "VALUE"],
  b_user: ["ID", "EMAIL"],
  b_option: ["MODULE_ID", "NAME", "VALUE"],
  b_sale_order_change: [
    "ID",
    "ORDER_ID",
    "TYPE",
    "DATA",
    "DATE_CREATE",
    "DATE_MODIFY",
    "USER_ID",
    "ENTITY",
    "ENTITY_ID",
  ],
  b_event: ["ID", "EVENT_NAME", "MESSAGE_ID", "LID", "C_FIELDS", "DATE_INSERT", "SUCCESS_EXEC", "DUPLICATE"],
};

export interface SchemaCheckResult {
  /** `table` for a missing table, `table.COLUMN` for a missing column. */
  missing: string[];
}

/** Compares the required tables/columns with information_schema of `database`. */
export async function checkBitrixSchema(
  db: Queryable,
  database: string,
  required: Readonly<Record<string, readonly string[]>>,
): Promise<SchemaCheckResult> {
  const tables = Object.keys(required);
  const rows = await selectStrings(
    db,
    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)",
    [database, tables],
  );
  const present = new Map<string, Set<string>>();
  for (const r of rows) {
    const t = String(r["TABLE_NAME"]);
    if (!present.has(t)) present.set(t, new Set());
    present.get(t)!.add(String(r["COLUMN_NAME"]).toUpperCase());
  }
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(required)) {
    const have = present.get(table);
    if (!have) {
      missing.push(table);
      continue;
    }
    for (const c of columns) if (!have.has(c.toUpperCase())) missing.push(`${table}.${c}`);
  }
  return { missing };
}

/** Merges requirement maps (capture + write-back when enabled). */
export function mergeRequirements(
  ...maps: Readonly<Record<string, readonly string[]>>[]
): Record<string, readonly string[]> {
  const out: Record<string, Set<string>> = {};
  for (const m of maps) {
    for (const [table, columns] of Object.entries(m)) {
      const set = out[table] ?? new Set<string>();
      for (const c of columns) set.add(c);
      out[table] = set;
    }
  }
  return Object.fromEntries(Object.entries(out).map(([t, s]) => [t, [...s]]));
}

export interface BitrixDbEnvironment {
  /** Database default character set and collation (Bitrix: utf8/utf8_unicode_ci or cp1251). */
  charset: string;
  collation: string;
  /** @@time_zone and @@system_time_zone of the MySQL server. */
  timeZone: string;
  systemTimeZone: string;
  /** MySQL's NOW() as a wall clock, and the newest DATE_UPDATE Bitrix wrote. */
  now: string;
  newestDateUpdate: string | null;
}

export async function readBitrixDbEnvironment(db: Queryable): Promise<BitrixDbEnvironment> {
  const [row] = await selectStrings(
    db,
    `SELECT @@character_set_database AS charset, @@collation_database AS collation, @@time_zone AS tz,
            @@system_time_zone AS stz, NOW() AS now, (SELECT MAX(DATE_UPDATE) FROM b_sale_order) AS newest`,
  );
  return {
    charset: row?.["charset"] ?? "",
    collation: row?.["collation"] ?? "",
    timeZone: row?.["tz"] ?? "",
    systemTimeZone: row?.["stz"] ?? "",
    now: row?.["now"] ?? "",
    newestDateUpdate: row?.["newest"] ?? null,
  };
}
