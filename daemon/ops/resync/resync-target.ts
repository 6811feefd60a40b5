import { shiftWallClock } from "../../capture/bitrix-datetime.js";
import { UsageError } from "../../errors.js";
import { parseDurationMs, parseOrderOption, parseWallClockParts } from "../logs/log-filter.js";

/**
 * What `resync` re-sends: named orders, or every order whose
 * b_sale_order.DATE_UPDATE lies in [since, until). Dates are Bitrix's wall
 * clock (PHP's local time, no zone; DATE_UPDATE is stored that way), or a
 * duration back from Bitrix's "now".
 */
export type ResyncTarget =
  | { kind: "orders"; orderIds: number[] }
  | { kind: "range"; since: string; until: string | undefined };

/** A date option before the config (and so Bitrix's time zone) is known. */
type When = { kind: "wall"; value: string } | { kind: "ago"; ms: number };

export interface ResyncTargetOptions {
  order?: string[];
  since?: string;
  until?: string;
}

/** Checks the options; returns a resolver that needs only Bitrix's "now" (wall clock). */
export function parseResyncTarget(o: ResyncTargetOptions): (bitrixNow: () => string) => ResyncTarget {
  const hasOrders = o.order !== undefined && o.order.length > 0;
  if (hasOrders && (o.since !== undefined || o.until !== undefined))
    throw new UsageError("give either --order or --since [--until], not both");
  if (hasOrders) {
    const ids = o.order!.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== "");
    const orderIds = [...new Set(ids.map((v) => Number(parseOrderOption(v))))];
    return () => ({ kind: "orders", orderIds });
  }
  if (o.since === undefined) {
    if (o.until !== undefined) throw new UsageError("--until needs --since");
    throw new UsageError("say what to resync: --order ID... or --since DATE [--until DATE]");
  }
  const since = parseWhen(o.since, "--since");
  const until = o.until === undefined ? undefined : parseWhen(o.until, "--until");
  if (since.kind === "wall" && until?.kind === "wall") checkOrder(since.value, until.value);
  return (bitrixNow) => {
    const resolve = (w: When) => (w.kind === "wall" ? w.value : shiftWallClock(bitrixNow(), -w.ms / 1000));
    const s = resolve(since);
    const u = until === undefined ? undefined : resolve(until);
    if (u !== undefined) checkOrder(s, u);
    return { kind: "range", since: s, until: u };
  };
}

function checkOrder(since: string, until: string): void {
  if (until <= since) throw new UsageError(`--until (${until}) must be after --since (${since})`);
}

function parseWhen(value: string, option: string): When {
  const ms = parseDurationMs(value);
  if (ms !== undefined) return { kind: "ago", ms };
  const p = parseWallClockParts(value);
  if (!p) {
    throw new UsageError(
      `${option}: expected a Bitrix date and time (2026-11-27 10:00[:00]) or a duration back from now (15m, 2h, 1d), got ${JSON.stringify(value)}`,
    );
  }
  const n = (x: number, w = 2) => String(x).padStart(w, "0");
  return { kind: "wall", value: `${n(p.y, 4)}-${n(p.mo)}-${n(p.d)} ${n(p.h)}:${n(p.mi)}:${n(p.s)}` };
}
