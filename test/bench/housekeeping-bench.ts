/**
 * Cost of the nightly full sweep: N orders (BENCH_SWEEP_ORDERS, default
 * 20,000; 3 basket lines and 12 properties each) are swept twice on a real
 * MariaDB. The first pass finds every order new and queues it (as a
 * backfill would); after marking them delivered, the second pass is the
 * steady nightly run: read, hash, compare, nothing to send.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { runFullSweep } from "../../daemon/housekeeping/full-sweep.js";
import { HousekeepingStore, SWEEP_FLOOR_KEY } from "../../daemon/housekeeping/housekeeping-store.js";
import { createMysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { seedShop } from "../support/bitrix-shop.js";
import { bitrixNow, bulkInsertOrders, shiftBitrixTime } from "../support/bitrix-writer.js";
import { createTestDatabase, endpointFromEnv } from "../support/mariadb.js";
import type { Benchmark } from "./benchmarks.js";

export const HOUSEKEEPING_BENCHMARKS: Benchmark[] = [
  {
    name: "full-sweep",
    description: "nightly full sweep: time per 500-order chunk (read snapshots, hash, compare)",
    run: async (progress) => {
      const count = Number(process.env["BENCH_SWEEP_ORDERS"] ?? 20_000);
      const db = await createTestDatabase(endpointFromEnv(), { prefix: "bench_sweep" });
      const dir = mkdtempSync(join(tmpdir(), "cvety-bench-sweep-"));
      const e = db.endpoint;
      const pool = createMysqlPool(
        {
          host: e.host,
          port: e.port,
          user: e.user,
          password: e.password,
          database: db.name,
          source: "bench",
        },
        { connectTimeoutMs: 5000, poolSize: 2 },
      );
      const state = openStateDb(dir);
      try {
        await seedShop(db.pool);
        await bulkInsertOrders(db.pool, count, {
          dateUpdate: shiftBitrixTime(bitrixNow(), -7 * 86_400),
          basketLines: 3,
          properties: 12,
        });
        progress(`${count} orders inserted`);
        const outbox = new OutboxStore(state);
        outbox.setCursor("capture", { dateUpdate: bitrixNow(), orderId: 0 });
        // Every order counts as "after the floor": the first pass queues them all.
        outbox.setRuntime(SWEEP_FLOOR_KEY, "1970-01-01 00:00:00");
        const deps = {
          mysql: pool,
          outbox,
          store: new HousekeepingStore(state),
          log: pino({ level: "silent" }),
          captureLookbackS: 60,
          settleMs: 2000,
          onEnqueued: () => {},
        };
        const settings = { chunkSize: 500, pauseMs: 0 };
        const signal = new AbortController().signal;
        const first = await runFullSweep(deps, settings, signal);
        progress(`first pass: ${JSON.stringify(first.fields["queued"])} queued`);
        state.exec(
          `INSERT INTO delivered_orders (order_id, version, date_update, snapshot_hash, delivered_at)
             SELECT order_id, version, date_update, snapshot_hash, 0 FROM outbox WHERE state = 'pending';
           UPDATE outbox SET state = 'delivered', delivered_at = 0 WHERE state = 'pending';`,
        );
        const t0 = Date.now();
        const second = await runFullSweep(deps, settings, signal);
        const ms = Date.now() - t0;
        const f = second.fields;
        const perChunk = Number(f["chunkMsAvg"]);
        return [
          `orders: ${count} (3 basket lines, 12 properties each), chunk 500, no pause`,
          `first pass (all new, queued): chunk avg ${first.fields["chunkMsAvg"]} ms, max ${first.fields["chunkMsMax"]} ms`,
          `nightly pass (all same): ${ms} ms total, ${f["chunks"]} chunks, chunk avg ${perChunk} ms, max ${f["chunkMsMax"]} ms, queued ${f["queued"]}`,
          `throughput: ${Math.round((count / ms) * 1000)} orders/s`,
          `1,000,000 orders at this rate: ~${Math.round((perChunk * 2000) / 60_000)} min of chunks plus 2,000 × full_sweep_pause_ms (100 ms default = 3.3 min)`,
        ];
      } finally {
        state.close();
        await pool.end();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
