/**
 * Forward-sync benchmarks (issue 2): capture-to-CRM latency at ~20 orders/s,
 * backfill throughput, idle cost, and the poll query's cost on a big table.
 * The daemon runs as the real binary in its own process; the CRM stand-in
 * runs in this process (it only answers), over real HTTPS.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SQL_POLL_PAGE } from "../../daemon/capture/bitrix-order-queries.js";
import { seedShop } from "../support/bitrix-shop.js";
import { bitrixNow, bulkInsertOrders, createOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { type CrmServer, startCrmServer } from "../support/crm-server.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "../support/mariadb.js";
import { SidecarProcess, writeSidecarConfig } from "../support/sidecar-process.js";
import { createTestPki } from "../support/test-pki.js";
import type { Benchmark } from "./benchmarks.js";

const TOKEN = "bench-token";

interface Setup {
  dir: string;
  db: TestDatabase;
  crm: CrmServer;
  configFile: string;
  logFile: string;
  close(): Promise<void>;
}

async function setup(
  name: string,
  record: boolean,
  sections: Record<string, Record<string, string | number | boolean>>,
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `cvety-bench-${name}-`));
  const pki = await createTestPki(join(dir, "pki"));
  const crm = await startCrmServer({ token: TOKEN, pki, record });
  const db = await createTestDatabase(endpointFromEnv(), { prefix: `bench_${name}` });
  await seedShop(db.pool);
  const configFile = writeSidecarConfig(dir, {
    mysqlUrl: db.url,
    crmUrl: crm.url,
    crmToken: TOKEN,
    caFile: pki.caFile,
    sections: { log: { level: "info" }, ...sections },
  });
  return {
    dir,
    db,
    crm,
    configFile,
    logFile: join(dir, "sidecar.log"),
    close: async () => {
      await crm.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function procUsage(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMb: rssKb / 1024 };
}

const latency: Benchmark = {
  name: "forward-latency",
  description:
    "capture-to-CRM latency, orders written at ~20/s, poll_interval_ms = 500; then idle cost over 60 s",
  async run(progress) {
    const s = await setup("latency", true, { capture: { poll_interval_ms: 500, start_from: "now" } });
    const sidecar = await SidecarProcess.start(s.configFile, s.logFile);
    try {
      const visibleAt = new Map<string, number>();
      const durationS = Number(process.env["BENCH_LATENCY_S"] ?? 30);
      const total = durationS * 20;
      const startedAt = Date.now();
      for (let i = 0; i < total; i++) {
        const id = await createOrder(s.db.pool);
        visibleAt.set(String(id), Date.now()); // the final UPDATE has committed: Bitrix's save is visible
        const due = startedAt + ((i + 1) * 1000) / 20;
        if (due > Date.now()) await sleep(due - Date.now());
        if (i % 100 === 99) progress(`${i + 1}/${total} orders written`);
      }
      await s.crm.waitFor((c) => c.orders.size >= total, 30_000, "all orders");
      const latencies: number[] = [];
      for (const [id, at] of visibleAt) {
        const first = s.crm.requests.find((r) => r.orderId === id && r.accepted);
        if (first) latencies.push(first.receivedAt - at);
      }
      latencies.sort((a, b) => a - b);
      const writeRate = total / ((Date.now() - startedAt) / 1000);

      // Nothing changes from here on; wait until the last orders left the look-back window.
      progress("waiting 65 s for the look-back window to empty, then measuring idle");
      await sleep(Number(process.env["BENCH_IDLE_SETTLE_S"] ?? 65) * 1000);
      const before = procUsage(sidecar.child.pid!);
      const idleS = Number(process.env["BENCH_IDLE_S"] ?? 60);
      await sleep(idleS * 1000);
      const after = procUsage(sidecar.child.pid!);
      const cpuPct = ((after.cpuS - before.cpuS) / idleS) * 100;
      return [
        `orders: ${latencies.length} delivered of ${total} written over ${durationS} s (${writeRate.toFixed(1)}/s actual write rate)`,
        `latency p50: ${percentile(latencies, 50)} ms, p99: ${percentile(latencies, 99)} ms, max: ${latencies.at(-1)} ms (aim p50 <= 350, p99 <= 800)`,
        `idle over ${idleS} s: CPU ${cpuPct.toFixed(2)} % of one core, RSS ${after.rssMb.toFixed(1)} MB (aim <= 1 %, <= 100 MB)`,
      ];
    } finally {
      await sidecar.stop();
      await s.close();
    }
  },
};

const backfill: Benchmark = {
  name: "forward-backfill",
  description: "20,000 existing orders (3 basket lines, 12 properties) delivered with start_from in the past",
  async run(progress) {
    const count = Number(process.env["BENCH_BACKFILL_ORDERS"] ?? 20_000);
    const s = await setup("backfill", false, {
      capture: { poll_interval_ms: 500, start_from: "2020-01-01" },
    });
    try {
      // Spread over 20 hours of DATE_UPDATE, like a real history (not one second for all).
      const chunks = 20;
      const base = shiftBitrixTime(bitrixNow(), -24 * 3600);
      for (let c = 0; c < chunks; c++) {
        await bulkInsertOrders(s.db.pool, count / chunks, {
          dateUpdate: shiftBitrixTime(base, c * 3600),
          basketLines: 3,
          properties: 12,
        });
      }
      progress(`${count} orders inserted`);
      const t0 = Date.now();
      const sidecar = await SidecarProcess.start(s.configFile, s.logFile);
      try {
        // A shared or slow machine may need longer: BENCH_BACKFILL_TIMEOUT_S.
        const timeoutS = Number(process.env["BENCH_BACKFILL_TIMEOUT_S"] ?? 300);
        while (s.crm.stats.orders < count) {
          await sleep(50);
          if (Date.now() - t0 > timeoutS * 1000)
            throw new Error(`only ${s.crm.stats.orders} delivered after ${timeoutS} s`);
        }
        const elapsedS = (Date.now() - t0) / 1000;
        return [
          `${count} orders delivered in ${elapsedS.toFixed(1)} s from process start: ${(count / elapsedS).toFixed(0)} orders/s end to end (aim >= 2000/s)`,
          `CRM saw ${s.crm.stats.requests} requests, ${s.crm.stats.versionRegressions} version regressions`,
        ];
      } finally {
        await sidecar.stop();
      }
    } finally {
      await s.close();
    }
  },
};

const pollCost: Benchmark = {
  name: "forward-poll-cost",
  description: "rows the poll query examines on 1,000 vs 1,000,000 orders (handler counters)",
  async run(progress) {
    const db = await createTestDatabase(endpointFromEnv(), { prefix: "bench_poll" });
    try {
      await seedShop(db.pool);
      const old = shiftBitrixTime(bitrixNow(), -7 * 24 * 3600);
      const measure = async () => {
        // The newest minute holds 20 orders; the cursor sits at the newest change.
        const [[newest]] = (await db.pool.query(
          "SELECT MAX(DATE_UPDATE) AS du FROM b_sale_order",
        )) as unknown as [[{ du: string }]];
        const from = shiftBitrixTime(newest.du, -60);
        const conn = await db.pool.getConnection();
        try {
          await conn.query("FLUSH STATUS");
          const [rows] = (await conn.query(SQL_POLL_PAGE, [from, from, 0, 500])) as unknown as [unknown[]];
          const [status] = (await conn.query("SHOW SESSION STATUS LIKE 'Handler_read%'")) as unknown as [
            { Variable_name: string; Value: string }[],
          ];
          const [explain] = (await conn.query(`EXPLAIN ${SQL_POLL_PAGE}`, [
            from,
            from,
            0,
            500,
          ])) as unknown as [Record<string, unknown>[]];
          const reads = status.reduce((n, r) => n + Number(r.Value), 0);
          return {
            returned: rows.length,
            reads,
            key: explain[0]?.["key"],
            type: explain[0]?.["type"],
            extra: explain[0]?.["Extra"],
          };
        } finally {
          conn.release();
        }
      };
      const recent = () => bulkInsertOrders(db.pool, 20, { dateUpdate: shiftBitrixTime(bitrixNow(), -10) });
      await bulkInsertOrders(db.pool, 980, { dateUpdate: old });
      await recent();
      const small = await measure();
      progress(`1,000 orders: ${JSON.stringify(small)}`);
      const target = Number(process.env["BENCH_POLL_ORDERS"] ?? 1_000_000);
      await bulkInsertOrders(db.pool, target - 1020, { dateUpdate: old, batchSize: 5000 });
      await recent();
      const big = await measure();
      progress(`${target} orders: ${JSON.stringify(big)}`);
      return [
        `1,000 orders: ${small.returned} rows returned, ${small.reads} handler reads, index ${small.key} (${small.type}; ${small.extra})`,
        `${target.toLocaleString("en")} orders: ${big.returned} rows returned, ${big.reads} handler reads, index ${big.key} (${big.type}; ${big.extra})`,
      ];
    } finally {
      await db.drop();
    }
  },
};

export const FORWARD_BENCHMARKS: Benchmark[] = [latency, backfill, pollCost];
