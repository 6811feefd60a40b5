/**
 * Write-back benchmarks, on the real daemon (capture, delivery and write-back
 * all running) against the local MariaDB, a PostgREST stand-in (the
 * `supabase` source) and the CRM stand-in, all over real HTTPS:
 * - latency: from a CRM status change becoming visible in the source to the
 *   Bitrix row changing, with [writeback] poll_interval_ms = 1000;
 * - throughput: applying 5,000 changes queued in the source at start.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { bitrixNow, bulkInsertOrders, createOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { type PostgrestServer, startPostgrestServer } from "../support/postgrest-server.js";
import type { SidecarProcess } from "../support/sidecar-process.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";
import type { Benchmark } from "./benchmarks.js";

const SOURCE_KEY = "bench-supabase-key-0123456789";
const LATENCY_CHANGES = 100;
const THROUGHPUT_CHANGES = 5000;
const WRITEBACK_POLL_MS = 1000;

interface Scope {
  after(fn: () => unknown): void;
}

/** setupSync expects a node:test context only for its clean-up; the bench runs them itself. */
async function withDaemon<T>(
  writeback: Record<string, string | number | boolean>,
  run: (f: SyncFixture, postgrest: PostgrestServer, start: () => Promise<SidecarProcess>) => Promise<T>,
): Promise<T> {
  const cleanups: Array<() => unknown> = [];
  const scope: Scope = { after: (fn) => cleanups.push(fn) };
  try {
    const f = await setupSync(scope as Parameters<typeof setupSync>[0], { prefix: "bench_wb" });
    const postgrest = await startPostgrestServer({ pki: f.pki, key: SOURCE_KEY });
    cleanups.push(() => postgrest.stop());
    f.writeConfig({
      sections: {
        // Production-like capture; write-back from Supabase at the interval under test.
        capture: { poll_interval_ms: 500, start_from: "now" },
        log: { level: "info" },
        writeback: {
          enabled: true,
          source: "supabase",
          url: postgrest.url,
          token: SOURCE_KEY,
          ca_file: f.pki.caFile,
          start_from: "beginning",
          ...writeback,
        },
      },
    });
    return await run(f, postgrest, () => f.startSidecar());
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

/** Orders saved an hour ago: older than capture's look-back, so only write-back's own rows are new to it. */
function anHourAgo(): string {
  return shiftBitrixTime(bitrixNow(), -3600);
}

/**
 * Capture's start_from = "now" starts at the newest DATE_UPDATE in Bitrix: one order saved now
 * puts the bulk orders outside its look-back, as on a shop whose orders the CRM already has.
 */
async function freshCaptureStart(f: SyncFixture): Promise<void> {
  await createOrder(f.db.pool);
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

async function statusOf(f: SyncFixture, id: number): Promise<string | undefined> {
  const [row] = await f.db.query<{ STATUS_ID: string }>("SELECT STATUS_ID FROM b_sale_order WHERE ID = ?", [
    id,
  ]);
  return row?.STATUS_ID;
}

const latency: Benchmark = {
  name: "writeback-latency",
  description: `CRM change visible in Supabase -> Bitrix row changed, ${LATENCY_CHANGES} changes, poll_interval_ms = ${WRITEBACK_POLL_MS}`,
  run: (progress) =>
    withDaemon({ poll_interval_ms: WRITEBACK_POLL_MS }, async (f, postgrest, start) => {
      const { firstId } = await bulkInsertOrders(f.db.pool, LATENCY_CHANGES, { dateUpdate: anHourAgo() });
      await freshCaptureStart(f);
      const sidecar = await start();
      const samples: number[] = [];
      for (let i = 0; i < LATENCY_CHANGES; i++) {
        const id = firstId + i;
        // Land at a random phase of the poll, as real changes do.
        await sleep(Math.random() * WRITEBACK_POLL_MS);
        const visibleAt = performance.now();
        postgrest.setStatus(id, "in_transit");
        while ((await statusOf(f, id)) !== "DE") await sleep(5);
        samples.push(performance.now() - visibleAt);
        if ((i + 1) % 25 === 0) progress(`${i + 1}/${LATENCY_CHANGES} changes applied`);
      }
      await sidecar.stop();
      samples.sort((a, b) => a - b);
      return [
        `changes: ${samples.length} (one at a time, random phase against the poll)`,
        `p50 latency: ${percentile(samples, 50).toFixed(0)} ms`,
        `p99 latency: ${percentile(samples, 99).toFixed(0)} ms (aim <= 1500 ms)`,
        `max latency: ${samples.at(-1)!.toFixed(0)} ms`,
        "measured by polling b_sale_order every 5 ms (adds up to ~5 ms)",
      ];
    }),
};

const throughput: Benchmark = {
  name: "writeback-throughput",
  description: `${THROUGHPUT_CHANGES} changes queued in Supabase, applied by the running daemon`,
  run: (progress) =>
    withDaemon({ poll_interval_ms: WRITEBACK_POLL_MS }, async (f, postgrest, start) => {
      const { firstId } = await bulkInsertOrders(f.db.pool, THROUGHPUT_CHANGES, { dateUpdate: anHourAgo() });
      await freshCaptureStart(f);
      const statuses = ["in_transit", "assembled", "completed", "AP"];
      for (let i = 0; i < THROUGHPUT_CHANGES; i++)
        postgrest.setStatus(firstId + i, statuses[i % statuses.length]!);
      progress(`${THROUGHPUT_CHANGES} orders in Bitrix, ${THROUGHPUT_CHANGES} changes in the source`);
      const startedAt = performance.now();
      const sidecar = await start();
      let done = 0;
      while (done < THROUGHPUT_CHANGES) {
        await sleep(100);
        const [row] = await f.db.query<{ n: number }>(
          "SELECT COUNT(*) AS n FROM b_sale_order_change WHERE TYPE = 'ORDER_STATUS_CHANGED'",
        );
        done = Number(row!.n);
      }
      const totalMs = performance.now() - startedAt;
      // Let capture look at the 5,000 rows write-back produced: none may go to the CRM.
      await sleep(3000);
      const written = (r: { orderId: string | undefined }) =>
        Number(r.orderId) >= firstId && Number(r.orderId) < firstId + THROUGHPUT_CHANGES;
      const echoes = f.crm.requests.filter(written).length;
      await sidecar.stop(); // flushes the (buffered) log
      const applied = sidecar.logLines().filter((l) => l.msg === "status applied");
      const first = Date.parse(applied[0]!.time);
      const last = Date.parse(applied.at(-1)!.time);
      return [
        `changes applied: ${applied.length}`,
        `first to last applied: ${(last - first).toFixed(0)} ms = ${((applied.length - 1) / ((last - first) / 1000)).toFixed(0)} changes/s (aim >= 500)`,
        `daemon start to all rows written: ${totalMs.toFixed(0)} ms = ${(THROUGHPUT_CHANGES / (totalMs / 1000)).toFixed(0)} changes/s`,
        `requests to the CRM caused by the write-back's own rows (echo): ${echoes}`,
      ];
    }),
};

export const WRITEBACK_BENCHMARKS: Benchmark[] = [latency, throughput];
