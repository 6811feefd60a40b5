import type { CaptureService } from "../capture/capture-service.js";
import type { Config } from "../config/config-schema.js";
import type { CrmPoster, DeliveryService } from "../delivery/delivery-service.js";
import type { Logger } from "../log/create-logger.js";
import type { WorkerLoop } from "../loop/worker-loop.js";
import { createMysqlPool } from "../mysql/create-mysql-pool.js";
import type { SwappablePool } from "../mysql/swappable-pool.js";
import type { ChangeSource } from "../writeback/change-source.js";
import type { WritebackService } from "../writeback/writeback-service.js";
import { type ConfigDiff, MYSQL_CREDENTIALS_KEY, touches } from "./config-diff.js";

/**
 * Applies the live part of a config change to the running parts, each part
 * only when a key it uses changed:
 * - capture: settings, poll interval of its loop;
 * - delivery: settings; a new CRM client for a new URL, CA, timeouts or
 *   concurrency; the identity (token, signing secrets, webhook_source);
 * - write-back: settings, status map, poll interval, a new source client for
 *   a new URL, token, CA or timeouts;
 * - MySQL: new pools for new credentials (the old ones end once idle).
 * Keys that need a restart were split off by diffConfig and are not touched.
 */
export interface ReloadTargets {
  log: Logger;
  capture: CaptureService;
  captureLoop: WorkerLoop;
  delivery: DeliveryService;
  crmClientFor: (config: Config) => CrmPoster;
  writeback?: WritebackService | undefined;
  writebackLoop?: WorkerLoop | undefined;
  createChangeSource: (config: Config["writeback"]) => ChangeSource;
  /** The capture pool and, with write-back, its own pool with its own size. */
  mysqlPools: Array<{ swap: SwappablePool; poolSize: number }>;
}

/**
 * Builds what the change needs first (clients read their CA files, pools
 * their settings), so a change that cannot be built changes nothing; then
 * hands each part its new values.
 */
export async function applyReload(
  t: ReloadTargets,
  old: Config,
  next: Config,
  diff: ConfigDiff,
): Promise<void> {
  // Any [crm] change gets a new client: a delivery paused by a 401 then probes at once with the new token.
  const newClient = touches(diff, "crm", "delivery.concurrency");
  const newSource =
    t.writeback !== undefined &&
    touches(
      diff,
      "writeback.url",
      "writeback.token",
      "writeback.ca_file",
      "writeback.connect_timeout_ms",
      "writeback.request_timeout_ms",
      "writeback.lookback_s",
    );
  const client = newClient ? t.crmClientFor(next) : undefined;
  let source: ChangeSource | undefined;
  try {
    source = newSource ? t.createChangeSource(next.writeback) : undefined;
  } catch (err) {
    await client?.close();
    throw err;
  }

  if (touches(diff, "capture")) {
    t.capture.updateSettings(next.capture);
    t.captureLoop.setInterval(next.capture.poll_interval_ms);
  }

  if (touches(diff, MYSQL_CREDENTIALS_KEY)) {
    for (const { swap, poolSize } of t.mysqlPools)
      swap.replace(
        createMysqlPool(next.mysqlTarget, { connectTimeoutMs: old.mysql.connect_timeout_ms, poolSize }),
      );
  }

  if (client || touches(diff, "crm", "delivery")) {
    await t.delivery.update({ settings: next.delivery, crm: next.crm, ...(client ? { client } : {}) });
  }

  if (t.writeback && (source || touches(diff, "writeback"))) {
    await t.writeback.update({
      settings: next.writeback,
      statusMap: next.statusMap,
      ...(source ? { source } : {}),
    });
    if (touches(diff, "writeback.poll_interval_ms"))
      t.writebackLoop?.setInterval(next.writeback.poll_interval_ms);
  }
}
