import { describeError } from "../errors.js";
import type { Logger } from "../log/create-logger.js";

/** What a job run did: its one log line (a constant message plus fields). */
export interface JobReport {
  msg: string;
  fields: Record<string, unknown>;
}

/** A job gets a signal that aborts when the daemon stops: it ends at its next safe point. */
export type JobFn = (signal: AbortSignal) => Promise<JobReport>;

export type TriggerOutcome = "done" | "failed" | "skipped";

/**
 * One housekeeping job and its no-overlap guard: a trigger while the
 * previous run still runs is skipped and logged (a slow full sweep never
 * runs twice at once, whatever the schedule). Every run logs exactly one
 * line: the job's report with its duration, or the failure. Errors end at
 * this boundary; the next trigger runs again.
 */
export class ScheduledJob {
  private running: Promise<TriggerOutcome> | undefined;
  private readonly abort = new AbortController();

  constructor(
    readonly name: string,
    private readonly fn: JobFn,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Runs the job now, unless it is still running or stopped. */
  trigger(): Promise<TriggerOutcome> {
    if (this.abort.signal.aborted) return Promise.resolve("skipped");
    if (this.running) {
      this.log.warn(
        { component: "housekeeping", job: this.name },
        "housekeeping job still running, this run skipped",
      );
      return Promise.resolve("skipped");
    }
    const run = this.runOnce().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /**
   * No new runs; a run in flight is asked to stop at its next safe point
   * and awaited at most `graceMs`. Resolves true if nothing runs any more.
   */
  async stop(graceMs: number): Promise<boolean> {
    this.abort.abort();
    const run = this.running;
    if (!run) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const result = await Promise.race([run, timeout]);
    clearTimeout(timer);
    return result !== "timeout";
  }

  private async runOnce(): Promise<TriggerOutcome> {
    const startedAt = this.clock();
    try {
      const report = await this.fn(this.abort.signal);
      this.log.info(
        {
          component: "housekeeping",
          job: this.name,
          durationMs: this.clock() - startedAt,
          ...report.fields,
          ...(this.abort.signal.aborted ? { interrupted: true } : {}),
        },
        report.msg,
      );
      return "done";
    } catch (err) {
      // Abandoned at shutdown: the state or MySQL closed under it; nothing to report.
      if (this.abort.signal.aborted) {
        this.log.debug(
          { component: "housekeeping", job: this.name, err: describeError(err) },
          "housekeeping job ended at shutdown",
        );
        return "failed";
      }
      this.log.error(
        {
          component: "housekeeping",
          job: this.name,
          durationMs: this.clock() - startedAt,
          err: describeError(err),
        },
        "housekeeping job failed",
      );
      return "failed";
    }
  }
}
