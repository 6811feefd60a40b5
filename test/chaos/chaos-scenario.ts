/**
 * One chaos run, start to verdict: sets up MariaDB (a fresh Bitrix database),
 * the HTTPS CRM stand-in, the status feed and a TCP proxy in front of MySQL
 * for the daemon; runs the daemon as a child process; lets the writer and the
 * CRM side work while the fault plan plays; then stops the writer, switches
 * every fault off, waits for the backlog to drain, stops the daemon and
 * checks the invariants (check-invariants.ts). Used by `npm run chaos` and by
 * the short CI test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createMysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { seedShop } from "../support/bitrix-shop.js";
import { startCrmServer } from "../support/crm-server.js";
import { createTestDatabase, endpointFromEnv, formatMysqlUrl } from "../support/mariadb.js";
import { writeSidecarConfig } from "../support/sidecar-process.js";
import { startStatusFeedServer } from "../support/status-feed-server.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { createTestPki } from "../support/test-pki.js";
import { BacklogProbe } from "./backlog-probe.js";
import { ChaosDaemon } from "./chaos-daemon.js";
import type { ChaosOptions } from "./chaos-options.js";
import { ChaosWriter } from "./chaos-writer.js";
import { type CheckResult, checkAll, completionInversions, countDuplicates } from "./check-invariants.js";
import { CrmFaults } from "./crm-faults.js";
import { drainWaitingFor } from "./drain-check.js";
import { describePlan, type FaultPlan, planFaults } from "./fault-schedule.js";
import { observeRun } from "./observe-run.js";
import { seededRandom } from "./seeded-random.js";
import { StatusChanger } from "./status-changer.js";

const CRM_TOKEN = "chaos-crm-token-0123456789abcdef";
const FEED_TOKEN = "chaos-feed-token-0123456789abcdef";
/** The daemon's CRM timeouts in the chaos config; slow answers come later than this. */
const CRM_TIMEOUT_MS = 2000;
const SLOW_ANSWER_MS = 3500;
const SAMPLE_EVERY_MS = 500;
/** A killed daemon runs at least this long (up to twice) after its restart before the next kill. */
const MIN_UPTIME_MS = 2000;

export interface ChaosReport {
  options: ChaosOptions;
  plan: FaultPlan;
  /** Label -> value, in print order. */
  facts: Array<[string, string]>;
  checks: CheckResult[];
  ok: boolean;
  dir: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions, log: (line: string) => void): Promise<ChaosReport> {
  const random = seededRandom(options.seed);
  const plan = planFaults(options, random);
  log(`seed ${options.seed}; plan:`);
  for (const line of describePlan(plan)) log(`  ${line}`);

  const dir = mkdtempSync(join(tmpdir(), "cvety-chaos-"));
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  };
  try {
    const pki = await createTestPki(join(dir, "pki"));
    const crm = await startCrmServer({ token: CRM_TOKEN, pki });
    cleanups.push(() => crm.stop());
    const feed = await startStatusFeedServer({ pki, token: FEED_TOKEN });
    cleanups.push(() => feed.stop());
    const db = await createTestDatabase(endpointFromEnv(), { prefix: "chaos" });
    cleanups.push(() => db.drop());
    await seedShop(db.pool);
    const proxy = await startTcpProxy(db.endpoint.host, db.endpoint.port);
    cleanups.push(() => proxy.close());
    const e = db.endpoint;
    const bitrix = createMysqlPool(
      { host: e.host, port: e.port, user: e.user, password: e.password, database: db.name, source: "test" },
      { connectTimeoutMs: 5000, poolSize: 4 },
    );
    cleanups.push(() => bitrix.end());

    const configFile = writeSidecarConfig(dir, {
      mysqlUrl: formatMysqlUrl({ ...db.endpoint, port: proxy.port }, db.name),
      crmUrl: crm.url,
      crmToken: CRM_TOKEN,
      caFile: pki.caFile,
      sections: {
        mysql: { connect_timeout_ms: 2000 },
        crm: {
          connect_timeout_ms: 1000,
          headers_timeout_ms: CRM_TIMEOUT_MS,
          body_timeout_ms: CRM_TIMEOUT_MS,
        },
        capture: { poll_interval_ms: 200, settle_ms: 1000 },
        delivery: { retry_min_ms: 200, retry_max_ms: 3000 },
        writeback: {
          enabled: true,
          source: "feed",
          url: feed.url,
          token: FEED_TOKEN,
          ca_file: pki.caFile,
          poll_interval_ms: 250,
          start_from: "beginning",
        },
        log: { level: "info" },
      },
    });
    const logFile = join(dir, "sidecar.log");
    const stateFile = join(dir, "state", "outbox.db");
    const daemon = new ChaosDaemon(configFile, logFile);
    cleanups.push(async () => {
      if (daemon.running) await daemon.kill9();
    });
    const probe = new BacklogProbe(stateFile);
    cleanups.push(() => probe.close());
    const faults = new CrmFaults(crm, feed, random, SLOW_ANSWER_MS);
    const writer = new ChaosWriter(db.pool, random, { workers: 2, minPauseMs: 80, maxPauseMs: 420 });
    const changer = new StatusChanger(feed, random, () => writer.pickOrder(), {
      minIntervalMs: 150,
      maxIntervalMs: 700,
    });

    const loadBefore = loadavg()[0]!;
    await daemon.start();
    const t0 = Date.now();
    const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    const endAt = t0 + options.durationS * 1000;
    writer.start();
    changer.start();

    // Faults: windows switch instantly, kills run in their own sequence.
    let outageEndedAt: number | undefined;
    let mysqlCut = false;
    const windowEvents = plan.windows
      .flatMap((w) => [
        { atMs: w.startMs, kind: w.kind, on: true },
        { atMs: w.endMs, kind: w.kind, on: false },
      ])
      .sort((a, b) => a.atMs - b.atMs);
    const windowsDone = (async () => {
      for (const ev of windowEvents) {
        await sleep(Math.max(0, t0 + ev.atMs - Date.now()));
        log(`${since()} ${ev.kind} ${ev.on ? "on" : "off"}`);
        if (ev.kind === "mysql-cut") {
          if (ev.on) await proxy.cut();
          else await proxy.restore();
          mysqlCut = ev.on;
        } else {
          faults.set(ev.kind, ev.on);
          if (ev.kind === "crm-outage" && !ev.on) outageEndedAt = Date.now();
        }
      }
    })();
    // Every planned kill happens, each after the daemon ran a little (on a slow machine a start can
    // take long, and a kill right after "started" would only test the start); late ones land in the drain.
    const killsDone = (async () => {
      for (const k of plan.kills) {
        const minUptimeMs = random.int(MIN_UPTIME_MS, 2 * MIN_UPTIME_MS);
        await sleep(Math.max(0, t0 + k.atMs - Date.now(), daemon.startedAt + minUptimeMs - Date.now()));
        const pid = daemon.pid;
        await daemon.kill9();
        log(`${since()} kill -9 #${daemon.kills} (pid ${pid}), down ${k.downMs} ms`);
        await sleep(k.downMs);
        await daemon.start();
      }
    })();

    // Backlog samples: the peak, and how long the CRM outage's backlog takes to drain.
    let peakPending = 0;
    let pendingAtOutageEnd: number | undefined;
    let outageDrainMs: number | undefined;
    let sampling = true;
    const samplingDone = (async () => {
      while (sampling) {
        const p = probe.pending(outageEndedAt);
        if (p) {
          peakPending = Math.max(peakPending, p.all);
          if (outageEndedAt !== undefined && pendingAtOutageEnd === undefined) pendingAtOutageEnd = p.older;
          if (outageEndedAt !== undefined && outageDrainMs === undefined && p.older === 0) {
            outageDrainMs = Date.now() - outageEndedAt;
            log(`${since()} backlog from the CRM outage drained in ${(outageDrainMs / 1000).toFixed(1)} s`);
          }
        }
        await sleep(SAMPLE_EVERY_MS);
      }
    })();
    const progress = setInterval(() => {
      const p = probe.pending();
      log(
        `${since()} orders ${writer.orders.length}, saves ${writer.totalSaves}, feed changes ${changer.pushed.length}, ` +
          `CRM requests ${crm.requests.length}, pending ${p?.all ?? "?"}, kills ${daemon.kills}`,
      );
    }, 15_000);
    cleanups.push(() => clearInterval(progress));

    await sleep(Math.max(0, endAt - Date.now()));
    log(`${since()} stopping the writer and the CRM side`);
    changer.stop();
    await writer.stop();
    await Promise.all([windowsDone, killsDone]);
    if (daemon.kills < plan.kills.length)
      throw new Error(`only ${daemon.kills} of ${plan.kills.length} kills ran`);
    faults.allOff();
    if (mysqlCut) await proxy.restore();
    await daemon.ensureRunning();
    const faultsOffAt = Date.now();
    log(`${since()} faults off, waiting for the backlog to drain (up to ${options.drainTimeoutS} s)`);

    const pushedKeys = () => changer.pushed.map((c) => c.id);
    let drainMs: number | undefined;
    let lastWaitingFor = "";
    const drainDeadline = faultsOffAt + options.drainTimeoutS * 1000;
    while (Date.now() < drainDeadline) {
      const waitingFor = await drainWaitingFor(db, probe, crm, pushedKeys());
      if (waitingFor === undefined) {
        drainMs = Date.now() - faultsOffAt;
        break;
      }
      if (waitingFor !== lastWaitingFor) log(`${since()} waiting for: ${waitingFor}`);
      lastWaitingFor = waitingFor;
      await daemon.ensureRunning();
      await sleep(SAMPLE_EVERY_MS);
    }
    sampling = false;
    await samplingDone;
    clearInterval(progress);
    log(
      drainMs === undefined
        ? `${since()} NOT drained after ${options.drainTimeoutS} s: ${lastWaitingFor}`
        : `${since()} drained ${(drainMs / 1000).toFixed(1)} s after the faults stopped`,
    );
    const stopCode = await daemon.stop();
    probe.close();
    const loadAfter = loadavg()[0]!;

    const observation = await observeRun({ db, bitrix, stateFile, crm, pushed: changer.pushed });
    const checks = checkAll(observation);
    checks.push({
      name: "backlog drained after the faults stopped",
      ok: drainMs !== undefined,
      detail:
        drainMs === undefined
          ? `not within ${options.drainTimeoutS} s`
          : `${(drainMs / 1000).toFixed(1)} s from faults off (writer stopped) to an empty backlog`,
      violations: drainMs === undefined ? [`still waiting for ${lastWaitingFor}`] : [],
    });
    const daemonViolations = [
      ...daemon.unexpectedExits,
      ...(stopCode === 0 ? [] : [`the final SIGTERM stop exited ${stopCode}, not 0`]),
    ];
    checks.push({
      name: "daemon never died on its own, stopped cleanly",
      ok: daemonViolations.length === 0,
      detail: `${daemon.kills} kill -9, ${daemon.starts} starts, final stop exit ${stopCode}`,
      violations: daemonViolations,
    });

    const dup = countDuplicates(observation);
    const inv = completionInversions(observation);
    const statusCounts = new Map<string, number>();
    for (const r of crm.requests) {
      const key =
        r.mode === "outage"
          ? "dropped (outage)"
          : r.mode === "slow"
            ? `${r.status} late (slow)`
            : String(r.status);
      statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
    }
    const facts: Array<[string, string]> = [
      ["date", new Date().toISOString()],
      [
        "machine",
        `${cpus().length} cores, load average ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end`,
      ],
      ["seed", String(options.seed)],
      ["duration", `${options.durationS} s of writes and faults`],
      ["faults", describePlan(plan).join("; ")],
      [
        "MySQL outage",
        `the daemon's connection cut at a TCP proxy (${options.mysqlCuts} × ${options.mysqlCutS} s); the machine's MariaDB was not restarted`,
      ],
      [
        "orders / saves",
        `${writer.orders.length} orders, ${writer.totalSaves} saves (${Object.entries(writer.stats.saves)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}), writer errors ${writer.stats.errors}`,
      ],
      ["CRM status changes", `${changer.pushed.length} pushed to the feed`],
      [
        "kill -9",
        `${daemon.kills} (restarted after 0.2–3 s; down ${(daemon.downMs / 1000).toFixed(0)} s in all, slowest start ${(daemon.slowestStartMs / 1000).toFixed(1)} s` +
          `${daemon.startFailures.length > 0 ? `; ${daemon.startFailures.length} starts timed out and were retried` : ""})`,
      ],
      [
        "CRM requests",
        `${crm.requests.length}: ${[...statusCounts].map(([k, n]) => `${k} ×${n}`).join(", ")}`,
      ],
      ["accepted deliveries", String(observation.accepted.length)],
      [
        "duplicates delivered",
        `${dup.duplicates} (same Idempotency-Key accepted again; ${dup.ordersAffected} orders)`,
      ],
      [
        "late completions",
        `${inv.inversions} deliveries the CRM finished after a newer one of the same order (answers the daemon had given up on); ` +
          `${inv.staleFinal.length} orders left stale in the stand-in by one`,
      ],
      ["peak backlog", `${peakPending} pending entries`],
      [
        "CRM outage backlog",
        outageEndedAt === undefined
          ? "no outage in this run"
          : `${pendingAtOutageEnd ?? "?"} pending at the end of the outage, drained ${
              outageDrainMs === undefined
                ? "(not observed)"
                : `${(outageDrainMs / 1000).toFixed(1)} s after it`
            }`,
      ],
      [
        "final drain",
        drainMs === undefined ? "not drained" : `${(drainMs / 1000).toFixed(1)} s after faults off`,
      ],
    ];
    const ok = checks.every((c) => c.ok);
    if (options.keep || !ok) {
      log(`kept ${dir} (config, state, sidecar.log)`);
    } else {
      cleanups.unshift(() => rmSync(dir, { recursive: true, force: true }));
    }
    return { options, plan, facts, checks, ok, dir };
  } finally {
    await cleanup();
  }
}
