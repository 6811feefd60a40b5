import type { Command } from "commander";
import { wallClockNow } from "../../capture/bitrix-datetime.js";
import { loadConfig } from "../../config/load-config.js";
import { describeError, SidecarError } from "../../errors.js";
import { createMysqlPool } from "../../mysql/create-mysql-pool.js";
import { openStateForOps } from "../../ops/open-state-for-ops.js";
import { formatResyncSummary } from "../../ops/resync/format-resync-summary.js";
import { type ResyncSummary, resyncOrders } from "../../ops/resync/resync-orders.js";
import { createResyncProgress } from "../../ops/resync/resync-progress.js";
import { parseResyncTarget } from "../../ops/resync/resync-target.js";
import { wakeDaemon } from "../../ops/wake-daemon.js";
import { OutboxStore } from "../../outbox/outbox-store.js";

interface ResyncOptions {
  config?: string;
  order?: string[];
  since?: string;
  until?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `cvety-sidecar resync`: queue fresh snapshots of orders for the CRM again, beside the running daemon. */
export function registerResyncCommand(program: Command): void {
  program
    .command("resync")
    .description("send orders to the CRM again: fresh snapshots from Bitrix, queued in the outbox")
    .option(
      "-c, --config <path>",
      "config file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)",
    )
    .option("--order <id...>", "these Bitrix order ids (several, or comma separated)")
    .option(
      "--since <when>",
      "orders whose DATE_UPDATE is at or after this Bitrix time (2026-11-27 10:00) or duration back (2h, 1d)",
    )
    .option("--until <when>", "with --since: only orders whose DATE_UPDATE is before this")
    .option("--dry-run", "read Bitrix and print what would be queued; write nothing")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Each order is read the way capture reads it (one consistent read, VERSION checked
again afterwards) and queued with reason "resync", even if the CRM already has
that exact snapshot. An older snapshot is never queued after a newer one. Orders
being saved right now are skipped: capture sends them when the save completes.
Works while the daemon runs (one short state-DB transaction per batch of
[capture] batch_size orders) and wakes it (POST /wake on [http] listen); if it
is not running they go when it starts. Dates are Bitrix's wall clock.

Exit codes: 0 done, 1 an --order id is not in Bitrix (the others are queued) or
MySQL/state failed, 2 usage error (bad date, --until not after --since), 78 bad config.

Examples:
  cvety-sidecar resync --order 122401 122405
  cvety-sidecar resync --since "2026-11-27 09:00" --until "2026-11-27 12:00" --dry-run
  cvety-sidecar resync --since 2h`,
    )
    .action(async (opts: ResyncOptions) => {
      const resolveTarget = parseResyncTarget(opts);
      const config = await loadConfig({ path: opts.config });
      const target = resolveTarget(() => wallClockNow(config.timezone));
      const dryRun = opts.dryRun === true;
      // The daemon owns the state: it must exist already, and is never migrated from here.
      const db = dryRun ? undefined : openStateForOps(config.state.dir, { write: true });
      const mysql = createMysqlPool(config.mysqlTarget, {
        connectTimeoutMs: config.mysql.connect_timeout_ms,
        poolSize: 2,
      });
      const progress = createResyncProgress({
        stream: process.stderr,
        batchSize: config.capture.batch_size,
        dryRun,
      });
      let summary: ResyncSummary;
      try {
        summary = await resyncOrders(target, {
          mysql,
          outbox: db ? new OutboxStore(db) : undefined,
          batchSize: config.capture.batch_size,
          onProgress: (p) => progress.update(p),
        });
      } catch (err) {
        if (err instanceof SidecarError) throw err;
        throw new SidecarError("E_RESYNC", `resync failed: ${describeError(err)}`, { cause: err });
      } finally {
        progress.stop();
        db?.close();
        await mysql.end().catch(() => {});
      }
      const woke = summary.enqueued > 0 ? await wakeDaemon(config.http.listen) : undefined;
      if (opts.json) {
        const { orders, ...counts } = summary;
        const out = { ...counts, target, ...(dryRun ? { orders } : {}), woken: woke ?? false };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else process.stdout.write(formatResyncSummary(summary, target, woke));
      if (summary.missing.length > 0) process.exitCode = 1;
    });
}
