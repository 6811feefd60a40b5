/**
 * In-process write-back over real servers: a fresh Bitrix database (schema +
 * shop), a real HTTPS change source (status feed or PostgREST stand-in) with
 * its own CA, a state directory, and the daemon's own WritebackService wired
 * as run-daemon wires it, ticked by the test. `restart()` builds a new
 * service on the same state, as a daemon restart would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { DEFAULT_STATUS_MAP } from "../../daemon/config/config-schema.js";
import { createLogger, type LogHandle } from "../../daemon/log/create-logger.js";
import { createMetrics, type Metrics } from "../../daemon/metrics/metrics.js";
import { createMysqlPool, type MysqlPool } from "../../daemon/mysql/create-mysql-pool.js";
import { openStateDb, type StateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { createChangeSource } from "../../daemon/writeback/create-change-source.js";
import { WritebackService, type WritebackSettings } from "../../daemon/writeback/writeback-service.js";
import { openWritebackStore, type WritebackStore } from "../../daemon/writeback/writeback-store.js";
import { seedShop } from "./bitrix-shop.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "./mariadb.js";
import { type PostgrestServer, startPostgrestServer } from "./postgrest-server.js";
import { type LogLine, readLogLines } from "./sidecar-process.js";
import { type StatusFeedServer, startStatusFeedServer } from "./status-feed-server.js";
import { createTestPki, type TestPki } from "./test-pki.js";

export const TEST_SOURCE_TOKEN = "test-source-key-0123456789";
/** A zone with no DST and far from UTC, so a time-zone mistake cannot pass unnoticed. */
export const TEST_BITRIX_TIMEZONE = "Asia/Tokyo";

export interface WritebackFixture {
  dir: string;
  db: TestDatabase;
  pki: TestPki;
  feed: StatusFeedServer;
  postgrest: PostgrestServer;
  logFile: string;
  metrics: Metrics;
  service: WritebackService;
  outbox: OutboxStore;
  store: WritebackStore;
  stateDb: StateDb;
  /** Rebuilds the service on a pool logged in as this MySQL user (grant tests). */
  connectAs(user: string, password: string): Promise<void>;
  /** One poll; throws what the tick throws. */
  tick(): Promise<void>;
  /** A new service (and state handle) on the same state and settings, optionally changed. */
  restart(settings?: Partial<WritebackSettings>, source?: "feed" | "supabase"): Promise<void>;
  logLines(): LogLine[];
  /** writeback_changes rows, oldest first. */
  outcomes(): Array<Record<string, unknown>>;
  /** Wakes delivery in the daemon; counted here. */
  readonly enqueuedCalls: number;
}

export async function setupWriteback(
  t: TestContext,
  opts: { source?: "feed" | "supabase"; settings?: Partial<WritebackSettings>; prefix?: string } = {},
): Promise<WritebackFixture> {
  const dir = mkdtempSync(join(tmpdir(), "cvety-wb-"));
  const pki = await createTestPki(join(dir, "pki"));
  const feed = await startStatusFeedServer({ pki, token: TEST_SOURCE_TOKEN });
  const postgrest = await startPostgrestServer({ pki, key: TEST_SOURCE_TOKEN });
  const db = await createTestDatabase(endpointFromEnv(), { prefix: opts.prefix ?? "writeback" });
  await seedShop(db.pool);
  const e = db.endpoint;
  const poolAs = (user: string, password: string): MysqlPool =>
    createMysqlPool(
      { host: e.host, port: e.port, user, password, database: db.name, source: "test" },
      { connectTimeoutMs: 5000, poolSize: 4 },
    );
  let mysql = poolAs(e.user, e.password);
  const logFile = join(dir, "writeback.log");
  const logHandle: LogHandle = createLogger({ file: logFile, level: "debug" });
  const metrics = createMetrics();
  let settings: WritebackSettings = {
    batch_size: 100,
    concurrency: 4,
    dry_run: false,
    notify_customer: false,
    employee_id: undefined,
    start_from: "beginning",
    ...opts.settings,
  };
  let sourceKind = opts.source ?? "feed";
  let enqueuedCalls = 0;
  let stateDb: StateDb;
  let service: WritebackService;

  const build = () => {
    stateDb = openStateDb(join(dir, "state"));
    const outbox = new OutboxStore(stateDb);
    const store = openWritebackStore(join(dir, "state"));
    const source = createChangeSource({
      source: sourceKind,
      url: sourceKind === "feed" ? feed.url : postgrest.url,
      token: TEST_SOURCE_TOKEN,
      ca_file: pki.caFile,
      connect_timeout_ms: 2000,
      request_timeout_ms: 5000,
      lookback_s: 10,
    });
    service = new WritebackService({
      settings,
      statusMap: { ...DEFAULT_STATUS_MAP },
      timezone: TEST_BITRIX_TIMEZONE,
      source,
      mysql,
      store,
      outbox,
      log: logHandle.log,
      metrics,
      onEnqueued: () => {
        enqueuedCalls++;
      },
    });
    fixture.service = service;
    fixture.outbox = outbox;
    fixture.store = store;
    fixture.stateDb = stateDb;
  };

  const fixture = {
    dir,
    db,
    pki,
    feed,
    postgrest,
    logFile,
    metrics,
    async tick() {
      await service.tick();
    },
    async connectAs(user: string, password: string) {
      await service.close();
      fixture.store.close();
      stateDb.close();
      await mysql.end();
      mysql = poolAs(user, password);
      build();
    },
    async restart(next: Partial<WritebackSettings> = {}, source?: "feed" | "supabase") {
      await service.close();
      fixture.store.close();
      stateDb.close();
      settings = { ...settings, ...next };
      if (source) sourceKind = source;
      build();
    },
    logLines: () => {
      logHandle.flush();
      return readLogLines(logFile);
    },
    outcomes: () =>
      stateDb.prepare("SELECT * FROM writeback_changes ORDER BY id").all() as Array<Record<string, unknown>>,
    get enqueuedCalls() {
      return enqueuedCalls;
    },
  } as WritebackFixture;
  build();

  t.after(async () => {
    await service.close().catch(() => {});
    fixture.store.close();
    stateDb.close();
    await mysql.end();
    await feed.stop();
    await postgrest.stop();
    await db.drop();
    logHandle.flush();
    rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}
