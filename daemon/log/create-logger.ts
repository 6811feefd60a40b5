import pino, { type DestinationStream, type Logger } from "pino";

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

export interface LogHandle {
  log: Logger;
  /** Reopen the file (after logrotate moved it). No-op for stdout. */
  reopen(): void;
  /** Write out what is buffered; call before exit. */
  flush(): void;
}

/**
 * JSON lines (pino) to `file`, or stdout when file is "-". The file is written
 * synchronously so a line is on disk when `logs -f` or a test looks for it,
 * and nothing is lost on a crash; the volume is one line per state change.
 */
export function createLogger(opts: {
  file: string;
  level: string;
  base?: Record<string, unknown>;
}): LogHandle {
  const dest: DestinationStream & { reopen?: () => void; flushSync?: () => void } =
    opts.file === "-"
      ? pino.destination({ dest: 1, sync: true })
      : pino.destination({ dest: opts.file, mkdir: true, sync: true });
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
  return {
    log,
    reopen: () => {
      if (opts.file !== "-") dest.reopen?.();
    },
    flush: () => {
      try {
        dest.flushSync?.();
      } catch {
        // Nothing buffered (sync destination) or fd already closed at exit.
      }
    },
  };
}

/** A logger that drops everything, for CLI commands and tests that do not log. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
