/**
 * Runs the real `cvety-sidecar` binary (dist/daemon/cli/bin.js) as a child
 * process with a config file written for the test, and reads its JSON log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PACKAGE_ROOT } from "./package-root.js";

export const SIDECAR_BIN = join(PACKAGE_ROOT, "dist", "daemon", "cli", "bin.js");

export interface LogLine {
  level: string;
  msg: string;
  time: string;
  [key: string]: unknown;
}

export interface SidecarTestConfig {
  mysqlUrl: string;
  crmUrl: string;
  crmToken: string;
  caFile: string;
  /** Extra TOML appended verbatim (sections of your own), or overrides via `sections`. */
  extraToml?: string;
  /** Section -> key -> TOML literal, merged over the test defaults. */
  sections?: Record<string, Record<string, string | number | boolean>>;
}

/** Fast defaults for tests: 100 ms polls, sub-second retries, quick probes. */
const TEST_DEFAULTS: Record<string, Record<string, string | number | boolean>> = {
  capture: { poll_interval_ms: 100, lookback_s: 60, settle_ms: 1000, start_from: "2000-01-01" },
  delivery: {
    retry_min_ms: 100,
    retry_max_ms: 500,
    error_retry_min_ms: 200,
    error_retry_max_ms: 400,
    dead_after_s: 600,
    pause_probe_ms: 300,
    shutdown_grace_ms: 5000,
  },
  log: { level: "debug" },
  http: { listen: "127.0.0.1:0" },
};

/** Writes `<dir>/config.toml` and returns its path. */
export function writeSidecarConfig(dir: string, c: SidecarTestConfig): string {
  mkdirSync(dir, { recursive: true });
  const sections: Record<string, Record<string, string | number | boolean>> = {
    mysql: { url: c.mysqlUrl },
    crm: { url: c.crmUrl, token: c.crmToken, ca_file: c.caFile },
    state: { dir: join(dir, "state") },
    ...structuredClone(TEST_DEFAULTS),
  };
  sections["log"] = { ...sections["log"], file: join(dir, "sidecar.log") };
  for (const [name, keys] of Object.entries(c.sections ?? {}))
    sections[name] = { ...sections[name], ...keys };
  const toml = Object.entries(sections)
    .map(
      ([name, keys]) =>
        `[${name}]\n${Object.entries(keys)
          .map(([k, v]) => `${k} = ${tomlValue(v)}`)
          .join("\n")}`,
    )
    .join("\n\n");
  const file = join(dir, "config.toml");
  writeFileSync(file, `${toml}\n${c.extraToml ?? ""}\n`);
  return file;
}

function tomlValue(v: string | number | boolean): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion. */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return runBin(SIDECAR_BIN, args, opts);
}

/** Runs a CLI command of another copy of the package (an upgrade test's newer version) to completion. */
export function runBin(
  bin: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `cvety-sidecar ${args.join(" ")} did not finish in ${opts.timeoutMs ?? 30000} ms\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** A running daemon (`cvety-sidecar run`). */
export class SidecarProcess {
  readonly child: ChildProcess;
  stderr = "";
  stdout = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly configFile: string,
    readonly logFile: string,
    env: NodeJS.ProcessEnv,
    bin: string,
    detached: boolean,
  ) {
    this.child = spawn(process.execPath, [bin, "run", "--config", configFile], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached,
    });
    this.child.stdout!.on("data", (d) => (this.stdout += d));
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * Starts the daemon (this checkout's, or another copy's `bin`) and waits for its "cvety-sidecar started" log line.
   * `detached`: its own process group, so a Ctrl-C in the terminal reaches only the caller, which stops it once
   * (the demo); a second signal would make the daemon exit at once.
   */
  static async start(
    configFile: string,
    logFile: string,
    env: NodeJS.ProcessEnv = {},
    bin: string = SIDECAR_BIN,
    opts: { detached?: boolean } = {},
  ): Promise<SidecarProcess> {
    const p = new SidecarProcess(configFile, logFile, env, bin, opts.detached ?? false);
    const startedBefore = p.logLines().filter((l) => l.msg === "cvety-sidecar started").length;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (p.child.exitCode !== null) throw new Error(`cvety-sidecar exited ${p.child.exitCode}: ${p.stderr}`);
      if (p.logLines().filter((l) => l.msg === "cvety-sidecar started").length > startedBefore) return p;
      await sleep(25);
    }
    p.child.kill("SIGKILL");
    throw new Error(`cvety-sidecar did not start in 15 s: ${p.stderr}`);
  }

  /** The http address from the "running" line on stderr. */
  get httpAddress(): string | undefined {
    return /http:\/\/([^/\s]+)\/healthz/.exec(this.stderr)?.[1];
  }

  logLines(): LogLine[] {
    return readLogLines(this.logFile);
  }

  async waitForLog(
    predicate: (l: LogLine) => boolean,
    timeoutMs = 10_000,
    what = "a log line",
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.logLines().find(predicate);
      if (hit) return hit;
      await sleep(25);
    }
    throw new Error(
      `timed out waiting for ${what}; last lines:\n${this.logLines()
        .slice(-15)
        .map((l) => JSON.stringify(l))
        .join("\n")}\nstderr: ${this.stderr}`,
    );
  }

  /** SIGTERM and wait for exit. */
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

export function readLogLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const out: LogLine[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line being written right now
    }
  }
  return out;
}
