import { CaptureService } from "../capture/capture-service.js";
import type { Config } from "../config/config-schema.js";
import { loadConfig } from "../config/load-config.js";
import { CrmClient } from "../delivery/crm-client.js";
import { DeliveryService } from "../delivery/delivery-service.js";
import { describeError, SidecarError } from "../errors.js";
import { startHousekeeping } from "../housekeeping/start-housekeeping.js";
import { type RunningHttpServer, startHttpServer } from "../http/http-server.js";
import { createLogger, type LogHandle } from "../log/create-logger.js";
import { WorkerLoop } from "../loop/worker-loop.js";
import { createMetrics } from "../metrics/metrics.js";
import { createMysqlPool, selectStrings } from "../mysql/create-mysql-pool.js";
import { swappablePool } from "../mysql/swappable-pool.js";
import { openStateDb } from "../outbox/open-state-db.js";
import { OutboxStore } from "../outbox/outbox-store.js";
import { VERSION } from "../version.js";
import { createChangeSource } from "../writeback/create-change-source.js";
import { WritebackService } from "../writeback/writeback-service.js";
import { openWritebackStore } from "../writeback/writeback-store.js";
import { applyReload } from "./apply-reload.js";
import { ConfigReloader, type ReloadResult } from "./config-reloader.js";
import { acquireStateLock } from "./state-lock.js";

export interface RunningDaemon {
  /** Graceful stop: loops end, deliveries in flight finish (bounded), pools close. */
  stop(): Promise<void>;
  /** Reopen the log file (SIGHUP after logrotate). */
  reopenLog(): void;
  /** Re-read the config and apply what can change live (SIGHUP; file changes do it on their own). */
  reload(reason: string): Promise<ReloadResult>;
  logHandle: LogHandle;
  httpAddress: string | undefined;
}

/** Longest wait between capture retries while MySQL is down. */
const MAX_CAPTURE_BACKOFF_MS = 30_000;
/** Longest wait between write-back retries while paused (MySQL, grant, CRM source). */
const MAX_WRITEBACK_BACKOFF_MS = 30_000;

export function crmClientFor(config: Config): CrmClient {
  return new CrmClient({
    url: config.crm.url,
    caFile: config.crm.ca_file,
    connectTimeoutMs: config.crm.connect_timeout_ms,
    headersTimeoutMs: config.crm.headers_timeout_ms,
    bodyTimeoutMs: config.crm.body_timeout_ms,
    connections: config.delivery.concurrency,
  });
}

/**
 * The composition root: builds every part from the config and wires them.
 * No logic lives here.
 */
export async function runDaemon(config: Config): Promise<RunningDaemon> {
  const logHandle = createLogger({ file: config.log.file, level: config.log.level });
  const log = logHandle.log;
  const lock = acquireStateLock(config.state.dir);
  const db = openStateDb(config.state.dir);
  const outbox = new OutboxStore(db);
  const metrics = createMetrics();
  // Swappable: a hot reload with new credentials replaces the connections under every holder.
  const mysqlSwap = swappablePool(
    createMysqlPool(config.mysqlTarget, {
      connectTimeoutMs: config.mysql.connect_timeout_ms,
      poolSize: config.mysql.pool_size,
    }),
  );
  const mysql = mysqlSwap.pool;
  const startedAt = Date.now();
  let stopping = false;

  const delivery = new DeliveryService({
    settings: config.delivery,
    crm: config.crm,
    client: crmClientFor(config),
    outbox,
    log,
    metrics,
  });
  const deliveryLoop = new WorkerLoop({
    name: "delivery",
    intervalMs: 1_000,
    tick: () => delivery.tick(),
    onError: (err) => {
      log.error({ component: "delivery", err: describeError(err) }, "delivery loop failed");
      return 1_000;
    },
  });
  delivery.notify = () => deliveryLoop.notify();

  const capture = new CaptureService({
    settings: config.capture,
    timezone: config.timezone,
    mysql,
    outbox,
    log,
    metrics,
    onEnqueued: () => deliveryLoop.notify(),
    isStopping: () => stopping,
  });
  const captureLoop = new WorkerLoop({
    name: "capture",
    intervalMs: config.capture.poll_interval_ms,
    tick: () => capture.tick(),
    // The failure itself is logged once by capture; here only the wait grows.
    onError: (_err, failures) =>
      Math.min(MAX_CAPTURE_BACKOFF_MS, config.capture.poll_interval_ms * 2 ** Math.min(failures, 10)),
  });

  // Write-back is off until configured ([writeback] enabled = true, url, token). It has its own
  // connections (one per order written at once, one for reads), so a burst of CRM changes never
  // makes capture wait for a connection.
  const writebackStore = config.writeback.enabled ? openWritebackStore(config.state.dir) : undefined;
  const writebackPoolSize = config.writeback.concurrency + 1;
  const writebackMysqlSwap = writebackStore
    ? swappablePool(
        createMysqlPool(config.mysqlTarget, {
          connectTimeoutMs: config.mysql.connect_timeout_ms,
          poolSize: writebackPoolSize,
        }),
      )
    : undefined;
  const writebackMysql = writebackMysqlSwap?.pool;
  const writeback =
    writebackStore && writebackMysql
      ? new WritebackService({
          settings: config.writeback,
          statusMap: config.statusMap,
          timezone: config.timezone,
          source: createChangeSource(config.writeback),
          mysql: writebackMysql,
          store: writebackStore,
          outbox,
          log,
          metrics,
          onEnqueued: () => deliveryLoop.notify(),
          isStopping: () => stopping,
        })
      : undefined;
  const writebackLoop =
    writeback &&
    new WorkerLoop({
      name: "writeback",
      intervalMs: config.writeback.poll_interval_ms,
      tick: () => writeback.tick(),
      // The failure itself is logged once by write-back; here only the wait grows.
      onError: (_err, failures) =>
        Math.min(MAX_WRITEBACK_BACKOFF_MS, config.writeback.poll_interval_ms * 2 ** Math.min(failures, 10)),
    });

  let http: RunningHttpServer | undefined;
  if (config.http.listen !== "off") {
    try {
      http = await startHttpServer(config.http.listen, {
        registry: metrics.registry,
        wake: () => deliveryLoop.notify(),
        health: () => ({
          version: VERSION,
          pid: process.pid,
          uptimeS: Math.round((Date.now() - startedAt) / 1000),
          capture: {
            cursor: capture.currentCursor ?? null,
            lastPollAt: capture.lastPollAt ? new Date(capture.lastPollAt).toISOString() : null,
            newestDateUpdate: capture.newestDateUpdate ?? null,
            failure: capture.failure
              ? { reason: capture.failure.reason, sinceMs: capture.failure.since }
              : null,
          },
          delivery: { paused: delivery.pauseState ?? null, inflight: delivery.inflightCount },
          writeback:
            writeback && writebackStore
              ? {
                  source: config.writeback.source,
                  dryRun: config.writeback.dry_run,
                  lastPollAt: writeback.lastPollAt ? new Date(writeback.lastPollAt).toISOString() : null,
                  ...writebackStore.summary(),
                }
              : { enabled: false },
        }),
        ready: async () => {
          let mysqlOk = true;
          let mysqlError: string | undefined;
          try {
            await selectStrings(mysql, "SELECT 1 AS ok");
          } catch (err) {
            mysqlOk = false;
            mysqlError = describeError(err);
          }
          const paused = delivery.pauseState;
          const writebackPause = writebackStore?.getPause();
          const captureFailure = capture.failure;
          return {
            ready: mysqlOk && !paused && !writebackPause && !captureFailure,
            checks: {
              mysql: mysqlOk ? "ok" : mysqlError,
              capture: captureFailure ? `failing: ${captureFailure.reason}` : "ok",
              delivery: paused ? `paused: ${paused.reason}` : "ok",
              writeback: writeback ? (writebackPause ? `paused: ${writebackPause.reason}` : "ok") : "off",
            },
          };
        },
        beforeMetrics: () => {
          const counts = outbox.countsByState();
          for (const [state, n] of Object.entries(counts)) metrics.outboxEntries.set({ state }, n);
          const oldest = outbox.oldestPendingCreatedAt();
          metrics.outboxOldestPendingAge.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
        },
      });
    } catch (err) {
      lock.release();
      db.close();
      await mysql.end();
      await delivery.close();
      await writeback?.close();
      await writebackMysql?.end();
      writebackStore?.close();
      throw new SidecarError(
        "E_HTTP_LISTEN",
        `cannot listen on ${config.http.listen} ([http] listen): ${describeError(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  captureLoop.start();
  deliveryLoop.start();
  writebackLoop?.start();
  // Housekeeping ([housekeeping] schedules, node-cron): sweeps, prune, checkpoint, daily summary.
  const housekeeping = startHousekeeping({
    settings: config.housekeeping,
    capture: config.capture,
    mysql,
    outbox,
    log,
    onEnqueued: () => deliveryLoop.notify(),
  });

  // Hot reload: the config file (and Bitrix's .settings.php when the credentials come from it), or SIGHUP.
  const reloader = new ConfigReloader({
    initial: config,
    log,
    load: () => loadConfig({ path: config.file }),
    apply: (running, next, diff) =>
      applyReload(
        {
          log,
          capture,
          captureLoop,
          delivery,
          crmClientFor,
          writeback,
          writebackLoop,
          createChangeSource,
          mysqlPools: [
            { swap: mysqlSwap, poolSize: config.mysql.pool_size },
            ...(writebackMysqlSwap ? [{ swap: writebackMysqlSwap, poolSize: writebackPoolSize }] : []),
          ],
        },
        running,
        next,
        diff,
      ),
    onResult: (result) => metrics.configReloads.inc({ result }),
  });
  await reloader.watch();
  log.info(
    {
      version: VERSION,
      config: config.file,
      stateDir: config.state.dir,
      mysql: {
        host: config.mysqlTarget.host,
        port: config.mysqlTarget.port,
        database: config.mysqlTarget.database,
        source: config.mysqlTarget.source,
      },
      crm: new URL(config.crm.url).origin,
      writeback:
        config.writeback.enabled && config.writeback.url
          ? {
              source: config.writeback.source,
              url: new URL(config.writeback.url).origin,
              dryRun: config.writeback.dry_run,
            }
          : "off",
      http: http?.address ?? "off",
    },
    "cvety-sidecar started",
  );

  return {
    logHandle,
    httpAddress: http?.address,
    reopenLog: () => {
      logHandle.reopen();
      log.info("log file reopened");
    },
    reload: (reason) => reloader.reload(reason),
    stop: async () => {
      if (stopping) return;
      stopping = true;
      log.info({ inflight: delivery.inflightCount }, "stopping");
      await reloader.close();
      await Promise.all([
        captureLoop.stop(),
        deliveryLoop.stop(),
        writebackLoop?.stop(),
        housekeeping.stop(config.delivery.shutdown_grace_ms),
      ]);
      const drained = await delivery.drain(config.delivery.shutdown_grace_ms);
      if (!drained)
        log.warn(
          { graceMs: config.delivery.shutdown_grace_ms },
          "deliveries still in flight at shutdown; they will be sent again",
        );
      await delivery.close();
      await writeback?.close();
      await writebackMysql?.end().catch(() => {});
      await mysql.end().catch(() => {});
      await http?.close();
      writebackStore?.close();
      db.close();
      lock.release();
      log.info("stopped");
      logHandle.flush();
    },
  };
}
