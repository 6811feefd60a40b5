import { createHash } from "node:crypto";
import { z } from "zod";
import { type CrmTimestamp, parseCrmTimestamp } from "./crm-timestamp.js";

/**
 * Every row a source hands us is untrusted input (invariant 5): a row is
 * either a well-formed status change or a rejection with a reason, never an
 * exception, so one bad row cannot block the rows after it. Values are
 * checked for type and size before anything looks at them.
 */

export interface StatusChange {
  /** Stable per change: a re-read row has the same key, so it is never applied twice. */
  changeKey: string;
  orderId: number;
  crmStatus: string;
  /** The CRM's change time as given, and parsed. */
  changedAtText: string;
  changedAt: CrmTimestamp;
}

export type ValidatedRow =
  | { ok: true; change: StatusChange }
  | { ok: false; changeKey: string; reason: string; orderId?: number };

/** b_sale_order.ID is a signed 32-bit int. */
const MAX_ORDER_ID = 2_147_483_647;
/**
 * CRM status names (`in_transit`, `Новый`) and raw codes (`DE`): letters,
 * digits, `_`, `-`, `.` and inner spaces. Quotes, semicolons and the like
 * belong to no status; a row carrying them is rejected, not looked up.
 */
const STATUS_TEXT = /^[\p{L}\p{N}_.-]+(?: [\p{L}\p{N}_.-]+)*$/u;
const MAX_STATUS_CHARS = 64;
const MAX_ID_CHARS = 200;
const MAX_TIME_CHARS = 40;

const orderId = z.number().int().min(1).max(MAX_ORDER_ID);
const status = z
  .string()
  .min(1)
  .max(MAX_STATUS_CHARS)
  .regex(STATUS_TEXT, "has characters no status name has");
const timestamp = z
  .string()
  .max(MAX_TIME_CHARS)
  .refine((s) => parseCrmTimestamp(s) !== undefined, "expected an ISO 8601 time (year 2000-2100)");
const changeId = z.union([z.string().min(1).max(MAX_ID_CHARS), z.number().int().nonnegative()]);

/** What both sources' rows say, once valid. */
interface ChangeFields {
  orderId: number;
  crmStatus: string;
  changedAtText: string;
}

/** PostgREST row of `select=id,bitrix_order_id,status,updated_at`. */
const supabaseRow = z
  .object({
    id: z.string().min(1).max(MAX_ID_CHARS),
    bitrix_order_id: orderId,
    status,
    updated_at: timestamp,
  })
  .transform(
    (r): ChangeFields => ({ orderId: r.bitrix_order_id, crmStatus: r.status, changedAtText: r.updated_at }),
  );

/** CONTRACT.md feed: `{"id","order_id","status","changed_at"}`. */
const feedChange = z
  .object({ id: changeId, order_id: orderId, status, changed_at: timestamp })
  .transform(
    (r): ChangeFields => ({ orderId: r.order_id, crmStatus: r.status, changedAtText: r.changed_at }),
  );

export function validateSupabaseRow(raw: unknown): ValidatedRow {
  const idText = stringField(raw, "id");
  const timeText = stringField(raw, "updated_at");
  // One orders row is one change per updated_at: the same row re-read is the same change.
  const changeKey = idText !== undefined && timeText !== undefined ? `${idText}@${timeText}` : hashKey(raw);
  return validateWith(supabaseRow, raw, changeKey, "bitrix_order_id");
}

export function validateFeedChange(raw: unknown): ValidatedRow {
  const id = (raw as { id?: unknown } | null)?.id;
  const idText = typeof id === "number" && Number.isSafeInteger(id) ? String(id) : stringField(raw, "id");
  return validateWith(feedChange, raw, idText ?? hashKey(raw), "order_id");
}

function validateWith(
  schema: z.ZodType<ChangeFields>,
  raw: unknown,
  changeKey: string,
  orderIdKey: string,
): ValidatedRow {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return rejection(changeKey, parsed.error, raw, orderIdKey);
  const fields = parsed.data;
  return { ok: true, change: { changeKey, ...fields, changedAt: parseCrmTimestamp(fields.changedAtText)! } };
}

function rejection(changeKey: string, error: z.ZodError, raw: unknown, orderIdKey: string): ValidatedRow {
  const reason = error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "row"}: ${i.message}`)
    .join("; ");
  const candidate = (raw as Record<string, unknown> | null)?.[orderIdKey];
  return orderId.safeParse(candidate).success
    ? { ok: false, changeKey, reason, orderId: candidate as number }
    : { ok: false, changeKey, reason };
}

/** A short string field, if the row has one (used only to name the change). */
function stringField(raw: unknown, key: string): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const v = (raw as Record<string, unknown>)[key];
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID_CHARS ? v : undefined;
}

/** A row without a usable id is named by its content: re-reading it yields the same key. */
function hashKey(raw: unknown): string {
  return `sha256:${createHash("sha256").update(contentText(raw)).digest("hex")}`;
}

/** JSON of the row; never throws (a BigInt or a cycle cannot come from JSON, but a bug must not crash the loop). */
function contentText(raw: unknown): string {
  try {
    return (
      JSON.stringify(raw, (_key, value) => (typeof value === "bigint" ? `${value}n` : value)) ?? String(raw)
    );
  } catch {
    return Object.prototype.toString.call(raw);
  }
}
