/**
 * The daemon under test as a child process that the chaos run kills with
 * SIGKILL and starts again on the same config and state. Any exit it did not
 * cause is recorded: the daemon must never die on its own from a fault.
 */
import { SidecarProcess } from "../support/sidecar-process.js";

/** A start can take many seconds on a busy shared 2-core machine; it is retried, never waited forever. */
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 90_000;

export class ChaosDaemon {
  current: SidecarProcess | undefined;
  kills = 0;
  starts = 0;
  /** When the running daemon logged "started" (ms), and the longest a start took. */
  startedAt = 0;
  slowestStartMs = 0;
  /** Time from each kill to the next "started" line, summed (ms). */
  downMs = 0;
  private killedAt: number | undefined;
  readonly unexpectedExits: string[] = [];
  readonly startFailures: string[] = [];
  private readonly expected = new WeakSet<SidecarProcess>();

  constructor(
    private readonly configFile: string,
    private readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const begun = Date.now();
        const p = await SidecarProcess.start(this.configFile, this.logFile, {}, undefined, {
          startTimeoutMs: START_TIMEOUT_MS,
        });
        this.starts++;
        this.startedAt = Date.now();
        this.slowestStartMs = Math.max(this.slowestStartMs, this.startedAt - begun);
        if (this.killedAt !== undefined) this.downMs += this.startedAt - this.killedAt;
        this.killedAt = undefined;
        this.current = p;
        void p.exited.then(({ code, signal }) => {
          if (!this.expected.has(p)) {
            this.unexpectedExits.push(
              `daemon pid ${p.child.pid} exited on its own (code ${code}, signal ${signal}): ${p.stderr.trim().slice(-500)}`,
            );
          }
        });
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.startFailures.push(message.slice(0, 500));
        if (attempt >= START_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** True when the last started process is still alive. */
  get running(): boolean {
    const c = this.current?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  async kill9(): Promise<void> {
    const p = this.current;
    if (!p) return;
    this.expected.add(p);
    await p.kill9();
    this.killedAt = Date.now();
    this.kills++;
    this.current = undefined;
  }

  /** Makes sure a daemon runs (after an unexpected exit, starts one). */
  async ensureRunning(): Promise<void> {
    if (!this.running) await this.start();
  }

  /** SIGTERM, as systemd stops it; returns the exit code. */
  async stop(): Promise<number | null> {
    const p = this.current;
    if (!p) return 0;
    this.expected.add(p);
    const { code } = await p.stop();
    this.current = undefined;
    return code;
  }
}
