import { formatAge, formatWhen, oneLine } from "./format-time.js";
import type { AttemptSummary, StatusReport } from "./read-status.js";
import type { Problem } from "./status-problems.js";

/**
 * The human `status`: one aligned line per part, then what needs a person
 * (or that nothing does). Meant to be read in ten seconds.
 */
export function formatStatus(r: StatusReport, problems: Problem[]): string {
  const now = Date.parse(r.checkedAt);
  const lines: Array<[string, string]> = [];
  const d = r.daemon;
  if (d.running) {
    const parts = [d.answering ? "running" : "running, NOT ANSWERING"];
    if (d.pid !== null) parts.push(`pid ${d.pid}`);
    if (d.version !== null)
      parts.push(
        `version ${d.version}${d.version === r.cliVersion ? "" : ` (this command: ${r.cliVersion})`}`,
      );
    if (d.uptimeS !== null) parts.push(`up ${formatAge(d.uptimeS)}`);
    lines.push(["daemon", parts.join(" · ")]);
  } else {
    lines.push(["daemon", `NOT RUNNING${d.healthUrl ? ` (nothing answers ${d.healthUrl})` : ""}`]);
  }
  lines.push(["state", r.state.exists ? r.state.file : `none yet: ${r.state.file} does not exist`]);

  const c = r.capture;
  const capture: string[] = [];
  capture.push(c.cursor ? `cursor ${c.cursor.dateUpdate} #${c.cursor.orderId}` : "no cursor yet");
  if (c.lagS !== null) capture.push(`lag ${formatAge(c.lagS)}`);
  capture.push(
    c.lastPollAt ? `last poll ${formatAge((now - Date.parse(c.lastPollAt)) / 1000)} ago` : "last poll —",
  );
  lines.push(["capture", capture.join(" · ")]);

  if (r.outbox) {
    const o = r.outbox;
    const oldest = o.oldestPendingAgeS === null ? "" : ` · oldest pending ${formatAge(o.oldestPendingAgeS)}`;
    lines.push(["outbox", `pending ${o.pending} · delivered ${o.delivered} · dead ${o.dead}${oldest}`]);
  }
  if (r.deliveries) {
    const byOutcome = Object.entries(r.deliveries.lastHour)
      .filter(([, n]) => n > 0)
      .map(([outcome, n]) => `${outcome} ${n}`);
    lines.push(["last hour", byOutcome.length > 0 ? byOutcome.join(" · ") : "no delivery attempts"]);
    lines.push(["last success", attemptLine(r.deliveries.lastSuccess, now)]);
    lines.push(["last failure", attemptLine(r.deliveries.lastFailure, now)]);
  }
  const p = r.delivery;
  lines.push([
    "delivery",
    p.paused
      ? `PAUSED${p.fromLastRun ? " when the daemon stopped" : p.pausedSince ? ` for ${formatAge((now - Date.parse(p.pausedSince)) / 1000)}` : ""}: ${oneLine(p.reason ?? "", 120)}`
      : d.running
        ? "active"
        : "—",
  ]);
  lines.push(["write-back", writebackLine(r, now)]);

  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  const out = lines.map(([k, v]) => `${k.padEnd(width)}${v}`);
  out.push("");
  if (problems.length === 0) out.push("OK: nothing needs attention");
  else {
    out.push(`NEEDS ATTENTION (${problems.length}):`);
    for (const pr of problems) out.push(`  ✖ ${pr.message}`, `      → ${pr.hint}`);
  }
  return `${out.join("\n")}\n`;
}

function attemptLine(a: AttemptSummary | null, now: number): string {
  if (!a) return "—";
  const parts = [formatWhen(Date.parse(a.at), now), `order ${a.orderId}`, `entry #${a.outboxId}`];
  if (a.outcome !== "delivered") {
    parts.push(a.outcome);
    if (a.httpStatus !== null && !a.error?.includes(`HTTP ${a.httpStatus}`))
      parts.push(`HTTP ${a.httpStatus}`);
    if (a.error) parts.push(oneLine(a.error, 100));
  }
  return parts.join(" · ");
}

function writebackLine(r: StatusReport, now: number): string {
  const w = r.writeback;
  if (!w.enabled) return "off";
  const parts = [`${w.source}${w.dryRun ? " (dry run)" : ""}`];
  if (w.paused) parts.push(`PAUSED: ${oneLine(w.pauseReason ?? "", 100)}`);
  parts.push(w.cursor === null ? "no cursor yet" : `cursor ${oneLine(JSON.stringify(w.cursor), 60)}`);
  const counts = w.dryRun ? w.dryRunOutcomes : w.outcomes;
  if (counts) {
    const nonZero = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`);
    parts.push(nonZero.length > 0 ? nonZero.join(" · ") : "no changes yet");
  }
  if (w.lastChangeAt) parts.push(`last change ${formatAge((now - Date.parse(w.lastChangeAt)) / 1000)} ago`);
  return parts.join(" · ");
}
