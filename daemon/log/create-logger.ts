import { mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import { SidecarError } from "../errors.js";

export type { Logger } from "pino";

/**
 * Field names whose values never reach the log, wherever they appear
 * (one level deep is enough: we log flat objects plus `err`/`config`).
 */
const REDACT_PATHS = [
  "token",
  "password",
  "secret",
  "secrets",
  "signing_secrets",
  "apikey",
  "authorization",
  "*.token",
  "*.password",
  "*.secret",
  "*.signing_secrets",
  "*.apikey",
  "*.authorization",
  "*.Authorization",
  'headers["x-webhook-token"]',
];

const LOG_BUFFER_BYTES = 4096;
/** Longest a line waits in the buffer: `logs -f` and tests see it this late at most. */
const LOG_FLUSH_MS = 100;

export interface LogHandle {
  log: Logger;
  /** Reopen the file (after logrotate moved it). No-op for stdout. */
  reopen(): void;
  /** Write out what is buffered; call before exit. */
  flush(): void;
}

/**
 * JSON lines (pino) to `file`, or stdout when file is "-". Lines are buffered
 * (up to 4 KB) and written at least every LOG_FLUSH_MS: a backfill logs two
 * lines per order, and one write per line would cost more than the delivery.
 * `flush()` writes what is pending; it runs on exit too.
 */
export function createLogger(opts: {
  file: string;
  level: string;
  base?: Record<string, unknown>;
}): LogHandle {
  // The file is opened here, synchronously: a stream that opens it asynchronously is "not ready"
  // for a moment, and a crash in that moment would lose its fatal line (pino's exit flush throws).
  const fd = opts.file === "-" ? 1 : openForAppend(opts.file);
  const dest: DestinationStream & {
    file?: string | null;
    reopen?: () => void;
    flushSync?: () => void;
    flush?: (cb?: () => void) => void;
  } = pino.destination({ dest: fd, sync: false, minLength: LOG_BUFFER_BYTES });
  // Opened from a descriptor, the stream learns its path here so reopen() (logrotate) opens it anew.
  if (opts.file !== "-") dest.file = opts.file;
  const log = pino(
    {
      level: opts.level,
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    dest,
  );
  const flush = () => {
    try {
      dest.flushSync?.();
    } catch {
      // Nothing buffered, or the fd is already closed at exit.
    }
  };
  // Asynchronous flush on the timer (keeps line order with a write in progress); synchronous only at exit.
  setInterval(() => dest.flush?.(() => {}), LOG_FLUSH_MS).unref();
  process.once("exit", flush);
  return {
    log,
    reopen: () => {
      if (opts.file !== "-") dest.reopen?.();
    },
    flush,
  };
}

/** A logger that drops everything, for CLI commands and tests that do not log. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** Opens the log file for appending; fails at start with a clear message instead of an async stream error later. */
function openForAppend(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true });
    return openSync(file, "a", 0o640);
  } catch (err) {
    throw new SidecarError(
      "E_LOG_FILE",
      `cannot write the log file ${file} ([log] file): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
