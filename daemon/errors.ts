/**
 * Typed errors with a stable `code`. They are caught only at loop boundaries
 * (log, back off, continue) and in the CLI's main (message + exit code).
 */

/** Exit codes users and systemd rely on (DESIGN: 0 ok, 1 runtime, 2 usage, 78 config). */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 78;

export class SidecarError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SidecarError";
    this.code = code;
    this.exitCode = options?.exitCode ?? EXIT_RUNTIME;
  }
}

/** A configuration problem: names the file and, where there is one, the key. Exit 78. */
export class ConfigError extends SidecarError {
  readonly file: string | undefined;
  readonly key: string | undefined;
  constructor(message: string, options?: { file?: string; key?: string; cause?: unknown }) {
    super("E_CONFIG", message, { cause: options?.cause, exitCode: EXIT_CONFIG });
    this.name = "ConfigError";
    this.file = options?.file;
    this.key = options?.key;
  }
}

/** Wrong command line. Exit 2. */
export class UsageError extends SidecarError {
  constructor(message: string) {
    super("E_USAGE", message, { exitCode: EXIT_USAGE });
    this.name = "UsageError";
  }
}

/** Short, log-safe description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
