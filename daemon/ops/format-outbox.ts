import { formatAge, formatLocalTime, isoOrNull, oneLine } from "./format-time.js";
import type { AttemptRow, OutboxDetail, OutboxRow } from "./outbox-queries.js";

/** Human tables and stable JSON shapes for `outbox list|show`. */

export interface OutboxRowJson {
  id: number;
  orderId: number;
  version: number;
  dateUpdate: string;
  event: string;
  state: string;
  reason: string;
  attempts: number;
  /** Pending entries only: when delivery tries it next. */
  nextAttemptAt: string | null;
  lastHttpStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export function outboxRowJson(r: OutboxRow): OutboxRowJson {
  return {
    id: r.id,
    orderId: r.orderId,
    version: r.version,
    dateUpdate: r.dateUpdate,
    event: r.event,
    state: r.state,
    reason: r.reason,
    attempts: r.attempts,
    nextAttemptAt: r.state === "pending" ? isoOrNull(r.nextAttemptAt) : null,
    lastHttpStatus: r.lastHttpStatus,
    lastError: r.lastError,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    deliveredAt: isoOrNull(r.deliveredAt),
  };
}

export function attemptJson(a: AttemptRow) {
  return {
    attemptedAt: new Date(a.attemptedAt).toISOString(),
    durationMs: a.durationMs,
    httpStatus: a.httpStatus,
    outcome: a.outcome,
    error: a.error,
  };
}

/** What happens next to an entry, in a few words. */
export function nextStep(r: OutboxRow, nowMs: number): string {
  if (r.state === "delivered")
    return r.deliveredAt === null ? "delivered" : `delivered ${formatLocalTime(r.deliveredAt)}`;
  if (r.state === "dead") return "dead letter: waits for outbox retry";
  return r.nextAttemptAt <= nowMs ? "due now" : `next try in ${formatAge((r.nextAttemptAt - nowMs) / 1000)}`;
}

export function errorText(r: { lastHttpStatus: number | null; lastError: string | null }): string {
  if (r.lastError === null) return "";
  return r.lastHttpStatus === null || r.lastError.includes(String(r.lastHttpStatus))
    ? r.lastError
    : `HTTP ${r.lastHttpStatus}: ${r.lastError}`;
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function formatOutboxList(rows: OutboxRow[], total: number, nowMs: number): string {
  if (rows.length === 0) return "no outbox entries match\n";
  const table = formatTable(
    ["ID", "ORDER", "VERSION", "EVENT", "STATE", "TRIES", "CREATED", "NEXT", "LAST ERROR"],
    rows.map((r) => [
      String(r.id),
      String(r.orderId),
      String(r.version),
      r.event,
      r.state,
      String(r.attempts),
      formatLocalTime(r.createdAt),
      r.state === "pending"
        ? nextStep(r, nowMs).replace("next try ", "")
        : r.state === "dead"
          ? "retry it"
          : "—",
      oneLine(errorText(r), 60),
    ]),
  );
  const more =
    total > rows.length
      ? `${rows.length} of ${total} entries, newest first (--limit N for more)`
      : `${total} entr${total === 1 ? "y" : "ies"}`;
  return `${table}\n${more}\n`;
}

export function formatOutboxShow(e: OutboxDetail, attempts: AttemptRow[], nowMs: number): string {
  const fields: Array<[string, string]> = [
    ["entry", `#${e.id}`],
    ["order", `${e.orderId} · VERSION ${e.version} · DATE_UPDATE ${e.dateUpdate} (Bitrix clock)`],
    ["state", `${e.state} · ${nextStep(e, nowMs)}`],
    ["event", `${e.event} · enqueued by ${e.reason}`],
    ["created", `${formatLocalTime(e.createdAt)} (${formatAge((nowMs - e.createdAt) / 1000)} ago)`],
    ["attempts", String(e.attempts)],
    ["idempotency", e.idempotencyKey],
  ];
  if (e.lastError !== null) fields.push(["last error", oneLine(errorText(e), 200)]);
  if (e.lastResponse !== null) fields.push(["CRM answer", oneLine(e.lastResponse, 400)]);
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  const out = fields.map(([k, v]) => `${k.padEnd(width)}${v}`);
  const trimmed =
    e.attempts > attempts.length ? `, the newest kept of ${e.attempts}: housekeeping trims older ones` : "";
  out.push("", `delivery attempts (${attempts.length}${trimmed}):`);
  if (attempts.length === 0) out.push("  none yet");
  else {
    const table = formatTable(
      ["TIME", "HTTP", "DURATION", "OUTCOME", "ERROR"],
      attempts.map((a) => [
        formatLocalTime(a.attemptedAt),
        a.httpStatus === null ? "—" : String(a.httpStatus),
        `${a.durationMs} ms`,
        a.outcome,
        a.error === null ? "" : oneLine(a.error, 100),
      ]),
    );
    out.push(...table.split("\n").map((l) => `  ${l}`));
  }
  out.push(
    "",
    'payload (the CRM\'s "data", without webhook_timestamp/webhook_source):',
    prettyJson(e.payload),
  );
  return `${out.join("\n")}\n`;
}

export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
