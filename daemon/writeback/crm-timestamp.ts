import { wallClockNow } from "../capture/bitrix-datetime.js";

/**
 * Times the CRM gives us: Supabase `updated_at` as PostgREST prints it
 * (`2025-08-26T10:12:41.123456+00:00`; a `timestamp without time zone`
 * column prints no offset, and Supabase runs in UTC, so none means UTC) and
 * the feed's ISO 8601 `changed_at`. Kept to the microsecond: the keyset
 * cursor compares them exactly as Postgres does.
 */

export interface CrmTimestamp {
  /** Microseconds since the Unix epoch. */
  epochUs: bigint;
  /** The text had no offset (read as UTC). */
  naive: boolean;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Years outside this range are typing errors or hostile input, not a status change time. */
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;

export function parseCrmTimestamp(text: string): CrmTimestamp | undefined {
  const m = ISO_8601.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(
    Number,
  ) as [number, number, number, number, number, number];
  if (year < MIN_YEAR || year > MAX_YEAR || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Date.UTC rolls 2025-02-30 over into March: a round trip catches impossible dates.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const fraction = BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6) || "0");
  const zone = m[8];
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || "0");
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = sign * (hours * 60 + minutes);
  }
  const epochUs = (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1000n + fraction;
  return { epochUs, naive: zone === undefined };
}

export function compareCrmTimestamps(a: CrmTimestamp, b: CrmTimestamp): number {
  return a.epochUs < b.epochUs ? -1 : a.epochUs > b.epochUs ? 1 : 0;
}

/** Milliseconds since the epoch (sub-millisecond part dropped). */
export function crmTimestampMs(t: CrmTimestamp): number {
  return Number(t.epochUs / 1000n);
}

/**
 * The CRM's change time as Bitrix's wall clock (whole seconds, cut, not
 * rounded), comparable with DATE_STATUS, which PHP writes in its own zone.
 */
export function toBitrixWallClock(t: CrmTimestamp, timeZone: string): string {
  return wallClockNow(timeZone, crmTimestampMs(t));
}

/** `t` moved by whole seconds, printed the way PostgREST prints it (offset only if the input had one). */
export function shiftCrmTimestamp(t: CrmTimestamp, seconds: number): string {
  const us = t.epochUs + BigInt(seconds) * 1_000_000n;
  const ms = Number(us / 1000n);
  const micros = String(us % 1_000_000n).padStart(6, "0");
  const base = new Date(ms).toISOString().slice(0, 19);
  return `${base}.${micros}${t.naive ? "" : "+00:00"}`;
}
