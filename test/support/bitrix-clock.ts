/**
 * Bitrix writes DATE_INSERT / DATE_UPDATE / DATE_STATUS from PHP's clock: the wall
 * time of PHP's default time zone, whole seconds, no zone, as the literal
 * `YYYY-MM-DD HH:MM:SS` (SqlHelper::convertToDbDateTime). These helpers produce the
 * same strings, so tests can also write "PHP runs in Asia/Almaty while MySQL runs in
 * UTC" situations.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** Wall clock of `at` (default now) in an IANA zone (default the host's), like PHP `new DateTime()`. */
export function bitrixNow(timeZone?: string, at: Date = new Date()): string {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(at)) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const BITRIX_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** `value` moved by whole seconds, as plain wall-clock arithmetic (no zone, no DST). */
export function shiftBitrixTime(value: string, seconds: number): string {
  const match = BITRIX_DATETIME.exec(value);
  if (match === null)
    throw new Error(`not a Bitrix datetime (YYYY-MM-DD HH:MM:SS): ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const moved = new Date(Date.UTC(y, mo - 1, d, h, mi, s) + seconds * 1000);
  return moved.toISOString().slice(0, 19).replace("T", " ");
}
