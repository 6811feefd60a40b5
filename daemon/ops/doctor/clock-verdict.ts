import { wallClockDiffSeconds } from "../../capture/bitrix-datetime.js";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

/**
 * Pure: do MySQL's clock and zone agree with this host's clock in the zone
 * Bitrix writes in ([bitrix] timezone, else the host's)? Capture compares the
 * DATE_UPDATE values PHP wrote (server-local wall time, whole seconds) with
 * this host's clock in that zone: a wrong zone makes the capture lag wrong by
 * hours, and a DATE_UPDATE in the future hides saves behind the look-back
 * window.
 */

/** Whole-second rounding and the time between the two reads. */
export const CLOCK_OK_S = 2;
/** Beyond this the clocks (or zones) disagree. */
export const CLOCK_FAIL_S = 60;
/** A DATE_UPDATE this far ahead of now is from a wrong clock or zone. */
export const FUTURE_DATE_UPDATE_FAIL_S = 60;

export interface ClockFacts {
  /** [bitrix] timezone or the host's zone. */
  timezone: string;
  /** This host's wall clock in `timezone`, read right after MySQL's. */
  hostNow: string;
  /** MySQL NOW() (session zone = the server's @@time_zone). */
  mysqlNow: string;
  mysqlTimeZone: string;
  mysqlSystemTimeZone: string;
  newestDateUpdate: string | null;
}

export function clockVerdict(f: ClockFacts): CheckResult[] {
  return [mysqlClock(f), newestDateUpdate(f)];
}

function mysqlClock(f: ClockFacts): CheckResult {
  const name = "mysql clock";
  const offset = Math.round(wallClockDiffSeconds(f.hostNow, f.mysqlNow));
  const zone = `MySQL time zone ${f.mysqlTimeZone}${f.mysqlTimeZone === "SYSTEM" ? ` (${f.mysqlSystemTimeZone})` : ""}`;
  const found = `MySQL NOW() ${f.mysqlNow}, host ${f.hostNow} in ${f.timezone}: offset ${signed(offset)} s; ${zone}`;
  const abs = Math.abs(offset);
  if (abs <= CLOCK_OK_S) return ok(name, found);
  if (abs <= CLOCK_FAIL_S)
    return warn(
      name,
      found,
      "the clocks drift: run NTP (chrony/systemd-timesyncd) on the database and this host",
    );
  // A whole number of quarter hours apart: the clocks are right, the zones differ.
  const zoneShift = Math.abs(abs - Math.round(abs / 900) * 900) <= CLOCK_FAIL_S;
  return fail(
    name,
    found,
    zoneShift
      ? `the time zones disagree (${formatHours(offset)}): set [bitrix] timezone to the zone PHP writes DATE_UPDATE in (php -r 'echo date_default_timezone_get();'), or fix MySQL's time zone`
      : "the clocks disagree: run NTP (chrony/systemd-timesyncd) on the database and this host",
  );
}

function newestDateUpdate(f: ClockFacts): CheckResult {
  const name = "bitrix DATE_UPDATE";
  if (f.newestDateUpdate === null) return ok(name, "no orders yet");
  const ahead = Math.round(wallClockDiffSeconds(f.hostNow, f.newestDateUpdate));
  if (ahead > FUTURE_DATE_UPDATE_FAIL_S) {
    return fail(
      name,
      `newest b_sale_order.DATE_UPDATE ${f.newestDateUpdate} is ${ahead} s in the future (host ${f.hostNow} in ${f.timezone})`,
      "PHP writes in another zone or with a wrong clock: set [bitrix] timezone to PHP's zone (date_default_timezone_get()) and check NTP; capture reads late until this is fixed",
    );
  }
  const age = -ahead;
  return ok(
    name,
    `newest ${f.newestDateUpdate} (${age >= 0 ? `${age} s ago` : `${-age} s ahead, within a minute`})`,
  );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function formatHours(offsetS: number): string {
  const h = offsetS / 3600;
  return `MySQL is ${Math.abs(h).toFixed(Number.isInteger(h) ? 0 : 2)} h ${offsetS > 0 ? "ahead" : "behind"}`;
}
