/**
 * `npm run soak -- --minutes 60 --rate 10`: the daemon (capture, delivery and
 * write-back) runs for the given time while orders are saved the way Bitrix
 * saves them at a steady rate, with status changes now and then from both
 * sides (a manager in Bitrix, the CRM through the Supabase stand-in). Every
 * --sample-s seconds it prints the daemon's RSS and the state tables' row
 * counts; at the end RSS at start, end and peak and the final table sizes.
 * Measures, never asserts: whether memory stays flat is read off the output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, InvalidArgumentError } from "commander";
import { seedShop } from "../support/bitrix-shop.js";
import { createOrder, saveOrder } from "../support/bitrix-writer.js";
import { startCrmServer } from "../support/crm-server.js";
import { createTestDatabase, endpointFromEnv, ensureMariaDb, formatMysqlUrl } from "../support/mariadb.js";
import { startPostgrestServer } from "../support/postgrest-server.js";
import { SidecarProcess, writeSidecarConfig } from "../support/sidecar-process.js";
import { createTestPki } from "../support/test-pki.js";
import { loadAverage, RssSampler } from "./proc-usage.js";
import { formatCounts, type StateTableCounts, stateTableCounts } from "./state-table-counts.js";

const CRM_TOKEN = "soak-crm-token-0123456789";
const SOURCE_KEY = "soak-supabase-key-0123456789";
/** Orders written concurrently at most (Bitrix serves several customers at once). */
const MAX_IN_FLIGHT = 8;
/** Recent order ids kept for status changes (bounded, so this process stays small too). */
const RECENT_IDS = 2000;
const CRM_STATUSES = ["confirmed", "assembled", "in_transit", "completed", "paid"];
const BITRIX_STATUSES = ["AP", "PD", "CO", "DE", "F"];

interface Options {
  minutes: number;
  rate: number;
  sampleS: number;
  crmChangeEveryS: number;
  bitrixChangeEveryS: number;
  keep: boolean;
  daemonNodeOptions?: string;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

function parseOptions(argv: string[]): Options {
  const program = new Command("soak")
    .description(
      "Runs the daemon for a while under a steady order rate and reports its memory and state size.",
    )
    .option("--minutes <n>", "how long to write orders", positive, 60)
    .option("--rate <n>", "orders saved per second", positive, 10)
    .option("--sample-s <n>", "print a sample every n seconds", positive, 30)
    .option("--crm-change-every-s <n>", "a CRM status change (write-back) every n seconds", positive, 2)
    .option("--bitrix-change-every-s <n>", "a status change saved in Bitrix every n seconds", positive, 5)
    .option("--keep", "keep the temp dir (config, state, daemon log) and the database", false)
    .option(
      "--daemon-node-options <flags>",
      "NODE_OPTIONS for the daemon only, e.g. --max-old-space-size=48 to see whether its heap is garbage or kept",
    )
    .addHelpText("after", "\nExample:\n  npm run soak -- --minutes 60 --rate 10 > /tmp/soak.txt 2>&1");
  program.parse(argv, { from: "user" });
  return program.opts<Options>();
}

function fmt(mb: number): string {
  return `${mb.toFixed(1)} MB`;
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const out = (line: string) => console.log(`[soak ${stamp()}] ${line}`);
  const server = await ensureMariaDb({ log: (l) => out(l) });
  process.env["CVETY_TEST_MYSQL_URL"] ??= formatMysqlUrl(server.endpoint);

  const dir = mkdtempSync(join(tmpdir(), "cvety-soak-"));
  const pki = await createTestPki(join(dir, "pki"));
  const crm = await startCrmServer({ token: CRM_TOKEN, pki, record: false });
  const postgrest = await startPostgrestServer({ pki, key: SOURCE_KEY });
  const db = await createTestDatabase(endpointFromEnv(), { prefix: "soak" });
  await seedShop(db.pool);
  const stateDir = join(dir, "state");
  const configFile = writeSidecarConfig(dir, {
    mysqlUrl: db.url,
    crmUrl: crm.url,
    crmToken: CRM_TOKEN,
    caFile: pki.caFile,
    sections: {
      // Production settings where the test defaults are tuned for speed.
      capture: { poll_interval_ms: 500, settle_ms: 2000, start_from: "now" },
      delivery: { retry_min_ms: 1000, retry_max_ms: 300_000, pause_probe_ms: 30_000 },
      log: { level: "info" },
      writeback: {
        enabled: true,
        source: "supabase",
        url: postgrest.url,
        token: SOURCE_KEY,
        ca_file: pki.caFile,
        start_from: "beginning",
        poll_interval_ms: 1000,
      },
    },
  });
  // capture start_from = "now" starts at the newest order: make one.
  const recent: number[] = [await createOrder(db.pool)];
  const sidecar = await SidecarProcess.start(
    configFile,
    join(dir, "sidecar.log"),
    opts.daemonNodeOptions === undefined ? {} : { NODE_OPTIONS: opts.daemonNodeOptions },
  );
  const pid = sidecar.child.pid!;
  const rss = new RssSampler(pid, 1000);
  out(
    `daemon pid ${pid} started; writing ${opts.rate} orders/s for ${opts.minutes} min, ` +
      `a CRM status change every ${opts.crmChangeEveryS} s, a Bitrix status change every ${opts.bitrixChangeEveryS} s` +
      `${opts.daemonNodeOptions === undefined ? "" : `; daemon NODE_OPTIONS ${opts.daemonNodeOptions}`}; load ${loadAverage()}`,
  );

  let written = 0;
  let writeErrors = 0;
  let crmChanges = 0;
  let bitrixChanges = 0;
  let inFlight = 0;
  let maxLagOrders = 0;
  const remember = (id: number) => {
    recent.push(id);
    if (recent.length > RECENT_IDS) recent.shift();
  };
  const pick = () => recent[Math.floor(Math.random() * Math.max(1, recent.length - 50))]!;
  const countsLog: StateTableCounts[] = [];
  const sample = (label: string) => {
    const counts = stateTableCounts(stateDir);
    countsLog.push(counts);
    out(
      `${label} RSS ${fmt(rss.sample())} | written ${written} (errors ${writeErrors}), CRM has ${crm.stats.orders} orders ` +
        `(${crm.stats.accepted} accepted, ${crm.stats.versionRegressions} version regressions), ` +
        `write-back changes sent ${crmChanges}, Bitrix status saves ${bitrixChanges} | ${formatCounts(counts)} | load ${loadAverage()}`,
    );
  };

  const startedAt = Date.now();
  const endAt = startedAt + opts.minutes * 60_000;
  sample("t=0s");
  let nextSample = startedAt + opts.sampleS * 1000;
  let nextCrmChange = startedAt + opts.crmChangeEveryS * 1000;
  let nextBitrixChange = startedAt + opts.bitrixChangeEveryS * 1000;
  let due = startedAt;
  while (Date.now() < endAt) {
    const now = Date.now();
    if (now >= due && inFlight < MAX_IN_FLIGHT) {
      due += 1000 / opts.rate;
      inFlight++;
      maxLagOrders = Math.max(maxLagOrders, Math.floor(((now - due) * opts.rate) / 1000));
      createOrder(db.pool)
        .then((id) => {
          written++;
          remember(id);
        })
        .catch((err: unknown) => {
          writeErrors++;
          if (writeErrors <= 5) out(`order write failed: ${(err as Error).message}`);
        })
        .finally(() => inFlight--);
      continue;
    }
    if (now >= nextCrmChange) {
      nextCrmChange += opts.crmChangeEveryS * 1000;
      postgrest.setStatus(pick(), CRM_STATUSES[crmChanges % CRM_STATUSES.length]!);
      crmChanges++;
    }
    if (now >= nextBitrixChange) {
      nextBitrixChange += opts.bitrixChangeEveryS * 1000;
      const status = BITRIX_STATUSES[bitrixChanges % BITRIX_STATUSES.length]!;
      inFlight++;
      saveOrder(db.pool, pick(), { fields: { STATUS_ID: status } })
        .then(() => bitrixChanges++)
        .catch((err: unknown) => out(`status save failed: ${(err as Error).message}`))
        .finally(() => inFlight--);
    }
    if (now >= nextSample) {
      nextSample += opts.sampleS * 1000;
      sample(`t=${Math.round((now - startedAt) / 1000)}s`);
    }
    await sleep(Math.max(1, Math.min(due, nextSample, nextCrmChange, nextBitrixChange) - Date.now()));
  }
  while (inFlight > 0) await sleep(20);
  const writeSeconds = (Date.now() - startedAt) / 1000;
  out(`writing stopped after ${writeSeconds.toFixed(0)} s; waiting up to 120 s for the backlog to drain`);
  const drainDeadline = Date.now() + 120_000;
  while (Date.now() < drainDeadline) {
    const c = stateTableCounts(stateDir);
    if (c.outboxPending === 0 && crm.stats.orders >= written) break;
    await sleep(1000);
  }
  sample("end");
  rss.stop();
  const stopped = await sidecar.stop();
  const first = countsLog[0]!;
  const last = countsLog.at(-1)!;
  const n = rss.samples.length;
  const tenth = Math.max(1, Math.floor(n / 10));
  const mean = (xs: Array<{ rssMb: number }>) => xs.reduce((s, x) => s + x.rssMb, 0) / xs.length;
  const summary = [
    `duration: ${(writeSeconds / 60).toFixed(1)} min of writing at ${opts.rate}/s target, ${(written / writeSeconds).toFixed(2)}/s actual (${written} orders, ${writeErrors} write errors, writer lag max ${maxLagOrders} orders)`,
    `status changes: ${crmChanges} from the CRM (write-back), ${bitrixChanges} saved in Bitrix`,
    `CRM stand-in: ${crm.stats.orders} distinct orders, ${crm.stats.accepted} accepted events, ${crm.stats.requests} requests, ${crm.stats.versionRegressions} version regressions`,
    `daemon RSS: start ${fmt(rss.start)}, end ${fmt(rss.last)}, peak ${fmt(rss.peak)}, mean of first 10 % ${fmt(mean(rss.samples.slice(0, tenth)))}, mean of last 10 % ${fmt(mean(rss.samples.slice(n - tenth)))} (${n} samples, 1 s apart)`,
    `state tables at start: ${formatCounts(first)}`,
    `state tables at end:   ${formatCounts(last)}`,
    `daemon exit on SIGTERM: code ${stopped.code}, signal ${stopped.signal}; load at end ${loadAverage()}`,
  ];
  console.log(`\n# cvety-sidecar soak (${new Date().toISOString()}, node ${process.version})\n`);
  for (const line of summary) console.log(`- ${line}`);
  await crm.stop();
  await postgrest.stop();
  if (opts.keep) {
    console.log(`\nkept: ${dir} (config.toml, state/, sidecar.log), database ${db.name}`);
    await db.pool.end();
  } else {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  await server.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
