import { InvalidArgumentError } from "commander";
import type { OutboxState } from "../outbox/outbox-store.js";

/**
 * Parsers for option and argument values of the ops commands. They throw
 * commander's InvalidArgumentError, so commander names the option in its
 * message and the command exits 2 (usage error).
 */

export function parseId(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1)
    throw new InvalidArgumentError("expected a positive whole number.");
  return Number(value);
}

export function parseLimit(value: string): number {
  const n = parseId(value);
  if (n > 100_000) throw new InvalidArgumentError("at most 100000.");
  return n;
}

export function parseSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError("expected a number of seconds, e.g. 300.");
  return Number(value);
}

export function outboxStateParser(states: readonly OutboxState[]): (value: string) => OutboxState {
  return (value) => {
    if (!(states as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${states.join(", ")}.`);
    return value as OutboxState;
  };
}

const RELATIVE = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 } as const;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * A point in time, ms since 1970: `2026-11-27`, `2026-11-27 08:30[:00]` (host's
 * local time), an ISO time with a zone (`2026-11-27T03:30:00Z`), or an age
 * (`90s`, `30m`, `2h`, `7d` ago).
 */
export function parseSince(value: string, nowMs: number = Date.now()): number {
  const v = value.trim();
  const rel = RELATIVE.exec(v);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  const local = LOCAL_DATE.exec(v);
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
    const date = new Date(y!, mo! - 1, d!, h!, mi!, s!);
    if (date.getMonth() === mo! - 1 && date.getDate() === d! && h! < 24 && mi! < 60 && s! < 60)
      return date.getTime();
  } else if (/^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:?\d{2})$/.test(v) && !Number.isNaN(Date.parse(v))) {
    return Date.parse(v);
  }
  throw new InvalidArgumentError(
    "expected a date (2026-11-27, 2026-11-27 08:30, 2026-11-27T03:30:00Z) or an age (30m, 2h, 7d).",
  );
}
