/**
 * Bitrix writes DATETIME columns as the PHP process's wall clock, whole
 * seconds, no zone (BITRIX.md §2). We read them as the exact strings MySQL
 * prints and never shift them; the CRM wants the site format
 * `DD.MM.YYYY HH:MI:SS` (it parses that first; ISO caused its
 * "date/time field value out of range" failures).
 */

const MYSQL_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/;
const MYSQL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `2025-08-26 10:12:41` -> `26.08.2025 10:12:41`; `2025-08-26` -> `26.08.2025`; others unchanged. */
export function toBitrixSiteFormat(value: string): string {
  const dt = MYSQL_DATETIME.exec(value);
  if (dt) return `${dt[3]}.${dt[2]}.${dt[1]} ${dt[4]}:${dt[5]}:${dt[6]}`;
  const d = MYSQL_DATE.exec(value);
  if (d) return `${d[3]}.${d[2]}.${d[1]}`;
  return value;
}

/** Shift a MySQL wall-clock string by whole seconds, as wall-clock arithmetic (no zone). */
export function shiftWallClock(value: string, seconds: number): string {
  const m = MYSQL_DATETIME.exec(value) ?? MYSQL_DATE.exec(value);
  if (!m) throw new RangeError(`not a MySQL DATETIME: ${JSON.stringify(value)}`);
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) + seconds * 1000;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Seconds between two wall-clock strings (b - a). */
export function wallClockDiffSeconds(a: string, b: string): number {
  return (wallClockToEpochMs(b) - wallClockToEpochMs(a)) / 1000;
}

function wallClockToEpochMs(value: string): number {
  const m = MYSQL_DATETIME.exec(value) ?? MYSQL_DATE.exec(value);
  if (!m) throw new RangeError(`not a MySQL DATETIME: ${JSON.stringify(value)}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Now as a Bitrix wall clock in `timeZone` (what PHP's `new DateTime()` would write). */
export function wallClockNow(timeZone: string, nowMs: number = Date.now()): string {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(nowMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}

/** `YYYY-MM-DD` -> `YYYY-MM-DD 00:00:00`; a full value unchanged. */
export function normalizeWallClock(value: string): string {
  return MYSQL_DATE.test(value) ? `${value} 00:00:00` : value;
}
