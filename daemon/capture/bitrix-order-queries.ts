/**
 * Every query capture runs against Bitrix, in one place. Plain indexed reads
 * (invariant 4): the window scan walks IXS_DATE_UPDATE (DATE_UPDATE, and
 * InnoDB's implicit ID) in key order; the children are read by their
 * ORDER_ID indexes. Explicit column lists where we pick fields, so extra
 * columns on newer Bitrix releases do no harm.
 */

/**
 * One page of the keyset scan over (DATE_UPDATE, ID), starting strictly after
 * (?, ?). The first `DATE_UPDATE >= ?` keeps the range sargable on the index.
 */
export const SQL_POLL_PAGE = `
  SELECT ID, VERSION, DATE_UPDATE, RUNNING
  FROM b_sale_order
  WHERE DATE_UPDATE >= ? AND (DATE_UPDATE > ? OR ID > ?)
  ORDER BY DATE_UPDATE, ID
  LIMIT ?`;

/** Where a cursor starts when start_from = "now": the newest change Bitrix has. */
export const SQL_NEWEST_DATE_UPDATE = "SELECT MAX(DATE_UPDATE) AS newest, NOW() AS db_now FROM b_sale_order";

/** Re-check after reading the children: did a save start meanwhile? */
export const SQL_ORDER_KEYS = "SELECT ID, VERSION, DATE_UPDATE, RUNNING FROM b_sale_order WHERE ID IN (?)";

/** Everything CSaleOrder::GetByID returns comes from this row. */
export const SQL_ORDERS = "SELECT * FROM b_sale_order WHERE ID IN (?)";

export const SQL_BASKET = `
  SELECT ID, ORDER_ID, PRODUCT_ID, NAME, PRICE, CURRENCY, QUANTITY, DISCOUNT_PRICE, PRODUCT_XML_ID
  FROM b_sale_basket WHERE ORDER_ID IN (?) ORDER BY ORDER_ID, ID`;

/** Order-level property values (shipment-level ones carry ENTITY_TYPE='SHIPMENT'). */
export const SQL_PROPERTIES = `
  SELECT ID, ORDER_ID, ORDER_PROPS_ID, NAME, VALUE, CODE
  FROM b_sale_order_props_value WHERE ORDER_ID IN (?) AND ENTITY_TYPE = 'ORDER' ORDER BY ORDER_ID, ID`;

export const SQL_PAYMENTS = `
  SELECT ID, ORDER_ID, ACCOUNT_NUMBER, PAID, DATE_PAID, PAY_SYSTEM_ID, PAY_SYSTEM_NAME, SUM, CURRENCY,
         PS_STATUS, PS_STATUS_CODE, PS_INVOICE_ID, PS_SUM, IS_RETURN, XML_ID
  FROM b_sale_order_payment WHERE ORDER_ID IN (?) ORDER BY ORDER_ID, ID`;

/** Real shipments only: the SYSTEM='Y' one holds unallocated basket quantity. */
export const SQL_SHIPMENTS = `
  SELECT ID, ORDER_ID, ACCOUNT_NUMBER, STATUS_ID, DELIVERY_ID, DELIVERY_NAME, PRICE_DELIVERY, CURRENCY,
         ALLOW_DELIVERY, DEDUCTED, CANCELED, TRACKING_NUMBER, DATE_INSERT, DATE_UPDATE, XML_ID
  FROM b_sale_order_delivery WHERE ORDER_ID IN (?) AND \`SYSTEM\` = 'N' ORDER BY ORDER_ID, ID`;

export const SQL_USERS =
  "SELECT ID, LOGIN, EMAIL, NAME, LAST_NAME, PERSONAL_PHONE FROM b_user WHERE ID IN (?)";
