/**
 * Turns one line of the daemon's JSON log (pino: `level` label, ISO `time`,
 * `msg`, flat fields) into a line for people:
 *
 *   2026-11-27 10:01:02 INFO  order delivered  order=122401 v=3 event=order.update status=200 41ms outbox=17
 *
 * Pure functions over strings; the command decides colour and filtering.
 */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** pino's numeric levels; lines may carry either the label or the number. */
export const LEVEL_VALUES: Record<LogLevelName, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

export interface LogRecord {
  /** The line exactly as it was in the file. */
  raw: string;
  fields: Record<string, unknown>;
  /** Numeric level (pino scale), undefined when the line has none. */
  level: number | undefined;
  /** Epoch ms from `time` (ISO string or epoch ms), undefined when absent or unreadable. */
  timeMs: number | undefined;
  msg: string;
}

export type ParsedLogLine = { kind: "json"; record: LogRecord } | { kind: "text"; text: string };

/** A JSON object line becomes a record; anything else (a stray line, a cut-off write) stays text. */
export function parseLogLine(line: string): ParsedLogLine {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (!text.startsWith("{")) return { kind: "text", text };
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    return { kind: "text", text };
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) return { kind: "text", text };
  const f = fields as Record<string, unknown>;
  return {
    kind: "json",
    record: {
      raw: text,
      fields: f,
      level: levelValue(f["level"]),
      timeMs: timeValue(f["time"]),
      msg: typeof f["msg"] === "string" ? f["msg"] : f["msg"] === undefined ? "" : String(f["msg"]),
    },
  };
}

function levelValue(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string") return LEVEL_VALUES[v.toLowerCase() as LogLevelName];
  return undefined;
}

function timeValue(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string") {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The label of a numeric level, upper case, padded to 5 (`INFO `, `ERROR`). */
export function levelLabel(level: number | undefined): string {
  if (level === undefined) return "-----";
  let name: string = `L${level}`;
  for (const l of LOG_LEVELS) if (LEVEL_VALUES[l] === level) name = l;
  return name.toUpperCase().padEnd(5);
}

/** `YYYY-MM-DD HH:MM:SS` in the process's local time zone (TZ). */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
  );
}

/** 41 -> `41ms`, 1234 -> `1.2s`, 125000 -> `2m05s`, 7200000 -> `2h00m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, "0")}s`;
  const totalM = Math.round(totalS / 60);
  return `${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, "0")}m`;
}

/** Fields every line has, or that only a machine wants. */
const HIDDEN_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "component", "v"]);

/** Fields shown first, in this order, under a shorter name; the rest follow in the line's own order. */
const LEADING_FIELDS: ReadonlyArray<[string, string]> = [
  ["orderId", "order"],
  ["order_id", "order"],
  ["orderIds", "orders"],
  ["version", "v"],
  ["event", "event"],
  ["status", "status"],
  ["outcome", "outcome"],
  ["error", "error"],
  ["err", "err"],
];
const RENAMED = new Map<string, string>([
  ["outboxId", "outbox"],
  ["replacedOutboxId", "replaces"],
  ["dateUpdate", "updated"],
]);

export interface FormatOptions {
  color: boolean;
}

const ANSI = {
  reset: "\x1b[0m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  gray: "\x1b[90m",
  blue: "\x1b[34m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  red: "\x1b[31m",
  fatal: "\x1b[97;41m",
} as const;

function levelColor(level: number | undefined): string {
  if (level === undefined) return ANSI.dim;
  if (level >= 60) return ANSI.fatal;
  if (level >= 50) return ANSI.red;
  if (level >= 40) return ANSI.yellow;
  if (level >= 30) return ANSI.green;
  if (level >= 20) return ANSI.blue;
  return ANSI.gray;
}

/**
 * One record as a human line (plus indented stack lines for an error with a
 * stack at error level or above). Never throws on odd input.
 */
export function formatLogRecord(record: LogRecord, opts: FormatOptions): string {
  const c = (code: string, text: string) => (opts.color ? `${code}${text}${ANSI.reset}` : text);
  const time = record.timeMs === undefined ? "-------------------" : formatLocalTime(record.timeMs);
  const parts = [
    c(ANSI.dim, time),
    c(levelColor(record.level), levelLabel(record.level)),
    record.level !== undefined && record.level >= 40 ? c(ANSI.bold, record.msg) : record.msg,
  ];
  const { text: fieldText, stack } = formatFields(record.fields, (k) => c(ANSI.dim, `${k}=`));
  let line = parts.join(" ");
  if (fieldText) line += `  ${fieldText}`;
  if (stack && record.level !== undefined && record.level >= 50) {
    line += `\n${stack.map((s) => `    ${c(ANSI.dim, s.trim())}`).join("\n")}`;
  }
  return line;
}

function formatFields(
  fields: Record<string, unknown>,
  key: (name: string) => string,
): { text: string; stack?: string[] } {
  const out: string[] = [];
  const used = new Set<string>(HIDDEN_FIELDS);
  let stack: string[] | undefined;
  const push = (name: string, shown: string, value: unknown) => {
    used.add(name);
    if (value === undefined || value === null) return;
    if (name === "durationMs" && typeof value === "number") {
      out.push(formatDuration(value));
      return;
    }
    if (name === "attempt" && value === 1) return;
    if (name === "err" || name === "error") {
      const e = describeErrValue(value);
      if (e.stack) stack = e.stack;
      out.push(`${key(shown)}${quote(e.message)}`);
      return;
    }
    if (name.endsWith("Ms") && name.length > 2 && typeof value === "number") {
      out.push(`${key(name.slice(0, -2))}${formatDuration(value)}`);
      return;
    }
    out.push(`${key(shown)}${renderValue(value)}`);
  };
  for (const [name, shown] of LEADING_FIELDS) if (name in fields) push(name, shown, fields[name]);
  if ("durationMs" in fields) push("durationMs", "duration", fields["durationMs"]);
  for (const [name, value] of Object.entries(fields)) {
    if (used.has(name)) continue;
    push(name, RENAMED.get(name) ?? name, value);
  }
  return stack ? { text: out.join(" "), stack } : { text: out.join(" ") };
}

/** pino's err serializer gives {type, message, stack}; our own lines log a string. */
function describeErrValue(v: unknown): { message: string; stack?: string[] } {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const message = typeof o["message"] === "string" ? o["message"] : JSON.stringify(v);
    if (typeof o["stack"] === "string") {
      const lines = o["stack"].split("\n").filter((l) => /^\s+at /.test(l));
      if (lines.length > 0) return { message, stack: lines };
    }
    return { message };
  }
  return { message: typeof v === "string" ? v : JSON.stringify(v) };
}

function renderValue(v: unknown): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "number" || typeof x === "string"))
    return v.map((x) => quote(String(x))).join(",");
  return JSON.stringify(v);
}

/** Bare when it reads unambiguously, JSON-quoted otherwise. */
function quote(s: string): string {
  return s !== "" && /^[^\s"'=\\\p{Cc}]+$/u.test(s) ? s : JSON.stringify(s);
}
