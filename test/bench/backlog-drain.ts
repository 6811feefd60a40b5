/**
 * `npm run bench -- backlog`: 100,000 orders already in Bitrix (3 basket lines,
 * 12 properties each, spread over 50 hours of DATE_UPDATE), the daemon started
 * with start_from in the past, against the CRM stand-in (in this process, so its
 * memory is not the daemon's). Samples the daemon's RSS every second until the
 * CRM has every order: orders/s and RSS at start, peak and end show whether
 * the backlog is streamed (flat RSS) or loaded (RSS growing with the backlog).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { seedShop } from "../support/bitrix-shop.js";
import { bitrixNow, bulkInsertOrders, shiftBitrixTime } from "../support/bitrix-writer.js";
import { startCrmServer } from "../support/crm-server.js";
import { createTestDatabase, endpointFromEnv } from "../support/mariadb.js";
import { SidecarProcess, writeSidecarConfig } from "../support/sidecar-process.js";
import { createTestPki } from "../support/test-pki.js";
import type { Benchmark } from "./benchmarks.js";
import { cpuSeconds, loadAverage, RssSampler } from "./proc-usage.js";
import { stateTableCounts } from "./state-table-counts.js";

const TOKEN = "bench-backlog-token";
const CHUNKS = 50;

export const backlogDrain: Benchmark = {
  name: "backlog-drain",
  description:
    "100,000 orders waiting in Bitrix (start_from in the past) drained to the CRM; daemon RSS sampled every second",
  async run(progress) {
    const count = Number(process.env["BENCH_BACKLOG_ORDERS"] ?? 100_000);
    const timeoutS = Number(process.env["BENCH_BACKLOG_TIMEOUT_S"] ?? 1800);
    const dir = mkdtempSync(join(tmpdir(), "cvety-bench-backlog-"));
    const pki = await createTestPki(join(dir, "pki"));
    const crm = await startCrmServer({ token: TOKEN, pki, record: false });
    const db = await createTestDatabase(endpointFromEnv(), { prefix: "bench_backlog" });
    try {
      await seedShop(db.pool);
      const base = shiftBitrixTime(bitrixNow(), -3 * 24 * 3600);
      const perChunk = Math.ceil(count / CHUNKS);
      for (let c = 0, left = count; left > 0; c++, left -= perChunk) {
        await bulkInsertOrders(db.pool, Math.min(perChunk, left), {
          dateUpdate: shiftBitrixTime(base, c * 3600),
          basketLines: 3,
          properties: 12,
          batchSize: 1000,
        });
        if (c % 10 === 9) progress(`${Math.min(count, (c + 1) * perChunk)} orders inserted`);
      }
      const configFile = writeSidecarConfig(dir, {
        mysqlUrl: db.url,
        crmUrl: crm.url,
        crmToken: TOKEN,
        caFile: pki.caFile,
        sections: {
          capture: { poll_interval_ms: 500, settle_ms: 2000, start_from: "2020-01-01" },
          delivery: { retry_min_ms: 1000, retry_max_ms: 300_000 },
          log: { level: "info" }, // SidecarProcess.start waits for the "started" info line
        },
      });
      const loadBefore = loadAverage();
      const t0 = Date.now();
      // BENCH_DAEMON_NODE_OPTIONS=--max-old-space-size=64: does the drain fit a small heap?
      const nodeOptions = process.env["BENCH_DAEMON_NODE_OPTIONS"];
      const sidecar = await SidecarProcess.start(
        configFile,
        join(dir, "sidecar.log"),
        nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions },
      );
      const rss = new RssSampler(sidecar.child.pid!, 1000);
      let maxPending = 0;
      let lastReport = 0;
      try {
        while (crm.stats.orders < count) {
          await sleep(1000);
          const elapsed = (Date.now() - t0) / 1000;
          const pending = stateTableCounts(join(dir, "state")).outboxPending;
          maxPending = Math.max(maxPending, pending);
          if (elapsed - lastReport >= 10) {
            lastReport = elapsed;
            progress(
              `${elapsed.toFixed(0)} s: CRM has ${crm.stats.orders}, outbox pending ${pending}, RSS ${rss.last.toFixed(1)} MB (peak ${rss.peak.toFixed(1)}), load ${loadAverage()}`,
            );
          }
          if (elapsed > timeoutS)
            throw new Error(`only ${crm.stats.orders} of ${count} delivered after ${timeoutS} s`);
        }
        const elapsedS = (Date.now() - t0) / 1000;
        const cpuS = cpuSeconds(sidecar.child.pid!);
        rss.sample();
        rss.stop();
        const half = rss.samples.filter((s) => s.atS <= elapsedS / 2);
        return [
          `${count.toLocaleString("en")} orders (3 basket lines, 12 properties) delivered in ${elapsedS.toFixed(1)} s from process start: ${(count / elapsedS).toFixed(0)} orders/s`,
          `daemon RSS: start ${rss.start.toFixed(1)} MB, peak ${rss.peak.toFixed(1)} MB, end ${rss.last.toFixed(1)} MB; peak over the first half ${Math.max(...half.map((s) => s.rssMb)).toFixed(1)} MB (${rss.samples.length} samples, 1 s apart)`,
          `outbox pending at most ${maxPending} (sampled every second): capture runs ahead of delivery into SQLite, not into memory`,
          `daemon CPU: ${cpuS.toFixed(0)} s user+system = ${((cpuS * 1000) / count).toFixed(2)} ms per order (${(count / cpuS).toFixed(0)} orders per CPU-second; the wall-clock rate above is what the shared machine left it)`,
          `CRM saw ${crm.stats.requests} requests, ${crm.stats.versionRegressions} version regressions`,
          `load average before ${loadBefore}, after ${loadAverage()}${nodeOptions === undefined ? "" : `; daemon NODE_OPTIONS ${nodeOptions}`}`,
        ];
      } finally {
        rss.stop();
        await sidecar.stop();
      }
    } finally {
      await crm.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
