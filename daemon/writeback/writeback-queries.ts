/**
 * Every statement write-back runs against Bitrix, in one place. Reads are by
 * primary key or small indexed lookups; the only writes are the ones Bitrix
 * itself makes on a status change (invariant 4), always parameterised.
 */

const ORDER_COLUMNS =
  "ID, LID, STATUS_ID, DATE_STATUS, VERSION, DATE_UPDATE, ACCOUNT_NUMBER, DATE_INSERT, USER_ID";

/** Locks the order row for the rest of the transaction (PK lookup). */
export const SQL_LOCK_ORDER = `SELECT ${ORDER_COLUMNS} FROM b_sale_order WHERE ID = ? FOR UPDATE`;
/** Dry run: the same row, no lock (needs only SELECT). */
export const SQL_READ_ORDER = `SELECT ${ORDER_COLUMNS} FROM b_sale_order WHERE ID = ?`;

export const SQL_UPDATE_ORDER_STATUS = `
  UPDATE b_sale_order
  SET STATUS_ID = ?, DATE_STATUS = ?, EMP_STATUS_ID = ?, UPDATED_1C = 'N', VERSION = VERSION + 1, DATE_UPDATE = ?
  WHERE ID = ?`;

/** CSaleOrderChange writes DATE_CREATE / DATE_MODIFY with the DB clock ($DB->GetNowFunction()). */
export const SQL_INSERT_STATUS_HISTORY = `
  INSERT INTO b_sale_order_change (ORDER_ID, TYPE, DATA, DATE_CREATE, DATE_MODIFY, USER_ID, ENTITY, ENTITY_ID)
  VALUES (?, ?, ?, NOW(), NOW(), ?, ?, ?)`;

export const SQL_INSERT_MAIL_EVENT = `
  INSERT INTO b_event (EVENT_NAME, MESSAGE_ID, LID, C_FIELDS, DATE_INSERT, SUCCESS_EXEC, DUPLICATE, LANGUAGE_ID)
  VALUES (?, NULL, ?, ?, ?, ?, ?, ?)`;
/** Bitrix releases before b_event.LANGUAGE_ID existed. */
export const SQL_INSERT_MAIL_EVENT_NO_LANGUAGE = `
  INSERT INTO b_event (EVENT_NAME, MESSAGE_ID, LID, C_FIELDS, DATE_INSERT, SUCCESS_EXEC, DUPLICATE)
  VALUES (?, NULL, ?, ?, ?, ?, ?)`;

/** Order statuses only: TYPE 'D' rows are shipment statuses. */
export const SQL_ORDER_STATUSES = "SELECT ID, NOTIFY FROM b_sale_status WHERE TYPE = 'O'";

/** The site's language (status names) and host name (default sender). */
export const SQL_SITE = "SELECT LANGUAGE_ID, SERVER_NAME FROM b_lang WHERE LID = ?";

export const SQL_STATUS_LANG =
  "SELECT NAME, DESCRIPTION FROM b_sale_status_lang WHERE STATUS_ID = ? AND LID = ?";

/** The order property flagged IS_EMAIL (Notify::getUserEmail looks there first). */
export const SQL_ORDER_EMAIL_PROPERTY = `
  SELECT v.VALUE FROM b_sale_order_props_value v
  JOIN b_sale_order_props p ON p.ID = v.ORDER_PROPS_ID
  WHERE v.ORDER_ID = ? AND p.IS_EMAIL = 'Y'
  ORDER BY v.ID LIMIT 1`;

export const SQL_USER_EMAIL = "SELECT EMAIL FROM b_user WHERE ID = ?";

export const SQL_MAIL_OPTIONS = `
  SELECT MODULE_ID, NAME, VALUE FROM b_option
  WHERE (MODULE_ID = 'sale' AND NAME = 'order_email') OR (MODULE_ID = 'main' AND NAME = 'server_name')`;

/** Charsets of the serialized columns and whether b_event has LANGUAGE_ID. */
export const SQL_WRITE_TARGET_COLUMNS = `
  SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE()
    AND ((TABLE_NAME = 'b_sale_order_change' AND COLUMN_NAME = 'DATA')
      OR (TABLE_NAME = 'b_event' AND COLUMN_NAME IN ('C_FIELDS', 'LANGUAGE_ID')))`;
