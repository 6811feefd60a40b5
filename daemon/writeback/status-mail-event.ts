import { toBitrixSiteFormat } from "../capture/bitrix-datetime.js";
import { type PhpCharset, phpSerialize } from "./php-serialize.js";
import type { StatusMailEventRow } from "./plan-status-write.js";

/**
 * The customer e-mail Bitrix queues on a status change whose status has
 * NOTIFY='Y' (sale Notify::sendOrderStatusChange -> CEvent::Send): one b_event
 * row `SALE_STATUS_CHANGED_<STATUS_ID>` for the order's site, the fields
 * PHP-serialized in C_FIELDS in the order Bitrix builds them. The mail agent
 * later renders the site's template for that event from these fields.
 *
 * Not reproduced: TEXT, which only OnSaleStatusEMail handlers fill (empty
 * without them), and ORDER_PUBLIC_URL, a guest-view link Bitrix adds only when
 * the shop enables guest order view (left empty).
 */

export interface StatusMailInput {
  orderId: number;
  accountNumber: string | null;
  siteId: string;
  /** b_sale_order.DATE_INSERT as MySQL prints it. */
  dateInsert: string;
  statusId: string;
  /** b_sale_status_lang NAME / DESCRIPTION in the site's language. */
  statusName: string;
  statusDescription: string | null;
  /** The IS_EMAIL order property, else b_user.EMAIL (Notify::getUserEmail). */
  email: string | null;
  /** Option sale/order_email, else "order@<server name>". */
  saleEmail: string;
  languageId: string | null;
  /** PHP's `new DateTime()` on Bitrix's wall clock. */
  now: string;
}

export function buildStatusMailEvent(input: StatusMailInput, charset: PhpCharset): StatusMailEventRow {
  const accountNumber = input.accountNumber ?? "";
  const fields = {
    ORDER_ID: accountNumber,
    // An IntegerField: the ORM hands PHP an int, which serialize() writes as i:<n>;.
    ORDER_REAL_ID: input.orderId,
    ORDER_ACCOUNT_NUMBER_ENCODE: phpUrlencode(phpUrlencode(accountNumber)),
    ORDER_STATUS: input.statusName,
    EMAIL: input.email,
    ORDER_DESCRIPTION: input.statusDescription,
    TEXT: "",
    SALE_EMAIL: input.saleEmail,
    ORDER_PUBLIC_URL: "",
    // Added last in Bitrix's code, DATE_INSERT->toString() in the site format.
    ORDER_DATE: toBitrixSiteFormat(input.dateInsert),
  };
  return {
    EVENT_NAME: `SALE_STATUS_CHANGED_${input.statusId}`,
    LID: input.siteId,
    C_FIELDS: phpSerialize(fields, charset),
    DATE_INSERT: input.now,
    SUCCESS_EXEC: "N",
    DUPLICATE: "Y",
    LANGUAGE_ID: input.languageId,
  };
}

/** PHP urlencode(): bytes outside [A-Za-z0-9_.-] as %XX (upper case), space as '+'. UTF-8 bytes. */
export function phpUrlencode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.-]/.test(c)) out += c;
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
