/**
 * What a benchmark measures of the daemon's process, from /proc (Linux):
 * resident memory (VmRSS) and CPU seconds used so far.
 */
import { readFileSync } from "node:fs";

/** VmRSS of a process in MB; NaN once it is gone. */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) of a process so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14, 15), in ticks of 10 ms
}

/** The machine's 1-minute load average, as `uptime` prints it. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** Samples a process's RSS at an interval; keeps start, peak, last. */
export class RssSampler {
  readonly samples: Array<{ atS: number; rssMb: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(
    readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): number {
    const mb = rssMb(this.pid);
    if (Number.isFinite(mb)) this.samples.push({ atS: (Date.now() - this.started) / 1000, rssMb: mb });
    return mb;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get start(): number {
    return this.samples[0]?.rssMb ?? Number.NaN;
  }

  get peak(): number {
    return Math.max(...this.samples.map((s) => s.rssMb));
  }

  get last(): number {
    return this.samples.at(-1)?.rssMb ?? Number.NaN;
  }
}
