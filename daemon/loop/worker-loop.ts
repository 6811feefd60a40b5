/**
 * The shape every background part runs in (after pg-boss's worker):
 * `while (!stopping) { await tick(); await sleep(interval, signal) }`,
 * with `notify()` to cut a wait short and `stop()` that awaits the tick in
 * flight. The tick is passed in, so the loop is tested without a database.
 */

export interface TickResult {
  /** Wait this long before the next tick instead of the default interval (0 = at once). */
  nextDelayMs?: number;
}

export interface WorkerLoopOptions {
  name: string;
  /** Default wait between ticks. May be changed later (hot reload) via setInterval. */
  intervalMs: number;
  tick: () => Promise<TickResult | undefined>;
  /**
   * Called when a tick throws. Returns the delay before the next tick
   * (the loop's own backoff decision). The loop never dies on an error.
   */
  onError: (err: unknown, consecutiveFailures: number) => number;
}

export class WorkerLoop {
  private stopping = false;
  private wake: (() => void) | undefined;
  private notified = false;
  private running: Promise<void> | undefined;
  private intervalMs: number;
  private failures = 0;

  constructor(private readonly opts: WorkerLoopOptions) {
    this.intervalMs = opts.intervalMs;
  }

  get name(): string {
    return this.opts.name;
  }

  start(): void {
    if (this.running) return;
    this.running = this.loop();
  }

  /** Cut the current wait short: there is work now. */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
  }

  /** Stop after the tick in flight; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.notified = false;
      let delay = this.intervalMs;
      try {
        const result = await this.opts.tick();
        this.failures = 0;
        if (result?.nextDelayMs !== undefined) delay = result.nextDelayMs;
      } catch (err) {
        this.failures += 1;
        delay = this.opts.onError(err, this.failures);
      }
      if (this.stopping) break;
      if (this.notified) continue;
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).then(() => {
      this.wake = undefined;
    });
  }
}
