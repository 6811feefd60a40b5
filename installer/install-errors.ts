import { SidecarError } from "../daemon/errors.js";

/**
 * Installer failures with a stable `code`. All exit 1 (runtime failure):
 * the host is not ready, or a step could not be done. Missing or invalid
 * flags are UsageError (exit 2) from daemon/errors.ts.
 */

/** A preflight check failed: nothing has been changed. */
export class PreflightError extends SidecarError {
  constructor(
    readonly check: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("E_PREFLIGHT", message, options);
    this.name = "PreflightError";
  }
}

/** A system command (useradd, systemctl, ssh...) exited non-zero or could not start. */
export class CommandFailedError extends SidecarError {
  constructor(
    readonly argv: readonly string[],
    readonly status: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const detail = stderr.trim().split("\n").slice(-5).join("\n");
    super(
      "E_COMMAND_FAILED",
      `${argv.join(" ")} failed${status === null ? "" : ` (exit ${status})`}${detail ? `: ${detail}` : ""}`,
      options,
    );
    this.name = "CommandFailedError";
  }
}

/** A step could not be planned or applied; what earlier steps did stays (a re-run continues). */
export class InstallStepError extends SidecarError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "InstallStepError";
  }
}
