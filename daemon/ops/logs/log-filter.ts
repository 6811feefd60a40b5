import { UsageError } from "../../errors.js";
import { LEVEL_VALUES, LOG_LEVELS, type LogLevelName, type ParsedLogLine } from "./format-log-line.js";

/** What `logs` keeps: every part optional; an empty filter keeps every line. */
export interface LogFilter {
  /** Minimum numeric level (pino scale). */
  minLevel?: number;
  /** Order id as text; matches `orderId`, `order_id`, `order` or an `orderIds` list. */
  orderId?: string;
  /** Epoch ms; lines older are left out. */
  sinceMs?: number;
}

export function hasFilter(f: LogFilter): boolean {
  return f.minLevel !== undefined || f.orderId !== undefined || f.sinceMs !== undefined;
}

/**
 * Whether a line is shown. A line that is not JSON has no level, order or
 * time, so it is shown only when nothing is filtered.
 */
export function matchesLogFilter(line: ParsedLogLine, f: LogFilter): boolean {
  if (line.kind === "text") return !hasFilter(f);
  const r = line.record;
  if (f.minLevel !== undefined && (r.level === undefined || r.level < f.minLevel)) return false;
  if (f.sinceMs !== undefined && (r.timeMs === undefined || r.timeMs < f.sinceMs)) return false;
  if (f.orderId !== undefined && !mentionsOrder(r.fields, f.orderId)) return false;
  return true;
}

/** The field names the daemon's lines carry an order id under (today `orderId`, and `orderIds` lists). */
const ORDER_FIELDS = ["orderId", "order_id", "order"] as const;

function mentionsOrder(fields: Record<string, unknown>, id: string): boolean {
  for (const name of ORDER_FIELDS) {
    const v = fields[name];
    if ((typeof v === "number" || typeof v === "string") && String(v) === id) return true;
  }
  const list = fields["orderIds"];
  return Array.isArray(list) && list.some((v) => String(v) === id);
}

/** `--level warn` -> 40. */
export function parseLevelOption(value: string): number {
  const name = value.toLowerCase() as LogLevelName;
  if (!LOG_LEVELS.includes(name)) {
    throw new UsageError(`--level: expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return LEVEL_VALUES[name];
}

/** `--order 122401`: a positive whole number. */
export function parseOrderOption(value: string, option = "--order"): string {
  if (!/^[1-9]\d{0,18}$/.test(value.trim())) {
    throw new UsageError(
      `${option}: expected an order id (a positive whole number), got ${JSON.stringify(value)}`,
    );
  }
  return value.trim();
}

const DURATION_RE = /^(\d+)\s*(s|sec|m|min|h|d)$/i;
const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const LOCAL_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** `15m` -> 900000; undefined when the value is not a duration. */
export function parseDurationMs(value: string): number | undefined {
  const m = DURATION_RE.exec(value.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]! : undefined;
}

/** The parts of `YYYY-MM-DD[ HH:MM[:SS]]`, checked to be a real date and time; undefined otherwise. */
export function parseWallClockParts(
  value: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } | undefined {
  const m = LOCAL_DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  )
    return undefined;
  return { y, mo, d, h, mi, s };
}

/**
 * `--since`: a duration back from now (`15m`, `2h`, `1d`), a local date and
 * time (`2026-11-27 10:00`, `2026-11-27`), or an ISO time with a zone
 * (`2026-11-27T05:00:00Z`). Returns epoch ms.
 */
export function parseSinceOption(value: string, nowMs: number, option = "--since"): number {
  const duration = parseDurationMs(value);
  if (duration !== undefined) return nowMs - duration;
  const p = parseWallClockParts(value);
  if (p) return new Date(p.y, p.mo - 1, p.d, p.h, p.mi, p.s).getTime();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value.trim())) {
    const ms = Date.parse(value.trim());
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(
    `${option}: expected a date (2026-11-27 10:00) or a duration (15m, 2h, 1d), got ${JSON.stringify(value)}`,
  );
}
