import type { ResyncSummary } from "./resync-orders.js";
import type { ResyncTarget } from "./resync-target.js";

/** Orders listed one per line in a dry run before "... and N more". */
const DRY_RUN_LIST_MAX = 50;
/** Ids named inline before "... and N more". */
const IDS_MAX = 20;

/** The summary `resync` prints for people. */
export function formatResyncSummary(
  s: ResyncSummary,
  target: ResyncTarget,
  woke: boolean | undefined,
): string {
  const lines: string[] = [];
  const what =
    target.kind === "orders"
      ? `${plural(target.orderIds.length, "order")} asked for`
      : `orders updated from ${target.since}${target.until ? ` until ${target.until}` : ""} (Bitrix time)`;
  lines.push(`resync of ${what}: ${s.found} found in Bitrix`);
  if (s.dryRun) {
    const would = s.orders.length;
    lines.push(`dry run, nothing written: would queue ${plural(would, "order")} for delivery`);
    for (const o of s.orders.slice(0, DRY_RUN_LIST_MAX))
      lines.push(`  ${o.orderId}  v${o.version}  updated ${o.dateUpdate}`);
    if (would > DRY_RUN_LIST_MAX)
      lines.push(`  ... and ${would - DRY_RUN_LIST_MAX} more (--json lists them all)`);
  } else {
    lines.push(`queued ${plural(s.enqueued, "order")} for delivery (reason resync)`);
    if (s.alreadyQueued > 0)
      lines.push(`  ${s.alreadyQueued} already waiting in the outbox with this same snapshot`);
    if (s.newerKnown > 0)
      lines.push(`  ${s.newerKnown} not queued: a newer snapshot is already queued or delivered`);
  }
  if (s.skippedRunning.length > 0)
    lines.push(
      `  skipped ${s.skippedRunning.length} being saved right now (capture sends them once saved): ${ids(s.skippedRunning)}`,
    );
  if (s.missing.length > 0) lines.push(`not in Bitrix: ${ids(s.missing)}`);
  if (!s.dryRun && s.enqueued > 0) {
    lines.push(
      woke
        ? "daemon woken: it delivers them now"
        : "the daemon did not answer (not running?): they go when it runs",
    );
  }
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function ids(list: number[]): string {
  const shown = list.slice(0, IDS_MAX).join(", ");
  return list.length > IDS_MAX ? `${shown} ... and ${list.length - IDS_MAX} more` : shown;
}
