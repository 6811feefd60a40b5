/**
 * The demo's live output. On a terminal: a small panel redrawn in place (the
 * counters and the latest events). Otherwise (a pipe, a CI log) or with
 * --quiet: plain lines that are never rewritten: every event as it happens
 * (not with --quiet) and a summary line every few seconds.
 */
import type { OutboxCounts } from "./demo-state-reader.js";

export interface DemoCounters {
  elapsedS: number;
  durationS: number;
  ordersWritten: number;
  bitrixStatusChanges: number;
  /** Order events the CRM accepted, and how many distinct orders they were. */
  crmReceived: number;
  crmOrders: number;
  outbox: OutboxCounts;
  crmStatusChanges: number;
  writeback: { applied: number; unchanged: number; conflict: number; rejected: number; refused: number };
}

const LATEST_EVENTS = 8;
const PLAIN_SUMMARY_EVERY_S = 5;

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function writebackDetail(c: DemoCounters): string {
  const wb = c.writeback;
  const other = [
    wb.unchanged > 0 ? `unchanged ${wb.unchanged}` : "",
    wb.conflict > 0 ? `conflict ${wb.conflict}` : "",
    wb.rejected + wb.refused > 0 ? `refused ${wb.rejected + wb.refused}` : "",
  ].filter(Boolean);
  return `${wb.applied}${other.length > 0 ? ` (${other.join(", ")})` : ""}`;
}

/** The panel's counter lines. */
export function formatCounters(c: DemoCounters): string[] {
  return [
    `Bitrix → CRM   written in Bitrix: ${count(c.ordersWritten, "new order")}, ${count(c.bitrixStatusChanges, "status change")}`,
    `               outbox: ${c.outbox.pending} pending, ${c.outbox.delivered} delivered, ${c.outbox.dead} dead` +
      `   CRM received: ${count(c.crmReceived, "event")} for ${count(c.crmOrders, "order")}`,
    `CRM → Bitrix   CRM manager: ${count(c.crmStatusChanges, "status change")}   applied in Bitrix: ${writebackDetail(c)}`,
  ];
}

/** The same as one plain line. */
export function formatCountersLine(c: DemoCounters, final = false): string {
  return (
    `-- ${final ? "at the end" : `${c.elapsedS} s of ${c.durationS}`}: written ${count(c.ordersWritten, "order")} + ${count(c.bitrixStatusChanges, "status change")}` +
    ` | outbox ${c.outbox.pending} pending, ${c.outbox.delivered} delivered, ${c.outbox.dead} dead` +
    ` | CRM received ${c.crmReceived} (${count(c.crmOrders, "order")})` +
    ` | CRM status changes ${c.crmStatusChanges}, applied in Bitrix ${writebackDetail(c)}`
  );
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

export class DemoScreen {
  private readonly latest: string[] = [];
  private drawnLines = 0;
  private lastPlainSummaryS = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly mode: "live" | "plain" | "quiet",
  ) {}

  /** A line before or after the live part (setup, report): printed as is. */
  say(line: string): void {
    this.clearPanel();
    this.out.write(`${line}\n`);
  }

  /** Something that just happened (a request the CRM got, a write in Bitrix...). */
  event(text: string): void {
    const line = `${clock()}  ${text}`;
    if (this.mode === "live") {
      this.latest.push(line);
      if (this.latest.length > LATEST_EVENTS) this.latest.shift();
    } else if (this.mode === "plain") {
      this.out.write(`${line}\n`);
    }
  }

  /** Called every tick: redraws the panel, or every few seconds (`final`: now) prints a summary line. */
  update(c: DemoCounters, final = false): void {
    if (this.mode !== "live") {
      if (!final && c.elapsedS - this.lastPlainSummaryS < PLAIN_SUMMARY_EVERY_S) return;
      this.lastPlainSummaryS = c.elapsedS;
      this.out.write(`${formatCountersLine(c, final)}\n`);
      return;
    }
    const width = Math.max(40, this.out.columns ?? 120);
    const lines = [
      `── live: ${c.elapsedS} s of ${c.durationS} (Ctrl-C stops early) `.padEnd(Math.min(width, 80), "─"),
      ...formatCounters(c),
      "Latest:",
      ...this.latest.map((l) => `  ${l}`),
    ].map((l) => (l.length > width - 1 ? `${l.slice(0, width - 2)}…` : l));
    this.clearPanel();
    this.out.write(`${lines.join("\n")}\n`);
    this.drawnLines = lines.length;
  }

  /** Leaves the last panel on screen and stops redrawing over it. */
  freeze(): void {
    this.drawnLines = 0;
  }

  private clearPanel(): void {
    if (this.drawnLines === 0) return;
    // Up to the panel's first line, then erase to the end of the screen.
    this.out.write(`\x1b[${this.drawnLines}F\x1b[0J`);
    this.drawnLines = 0;
  }
}
