import type { Command } from "commander";
import { EXIT_RUNTIME, SidecarError, UsageError } from "../../errors.js";
import { outboxRowJson } from "../../ops/format-outbox.js";
import type { OutboxQueries, OutboxRow, RetryResult } from "../../ops/outbox-queries.js";
import { wakeDaemon } from "../../ops/wake-daemon.js";
import { parseId } from "../option-values.js";
import { CONFIG_OPTION_HELP, entryNotFound, withOutbox } from "./outbox-command.js";

interface RetryOptions {
  config?: string;
  order?: number;
  dead?: boolean;
  json?: boolean;
}

export function registerOutboxRetryCommand(outbox: Command): void {
  outbox
    .command("retry")
    .description("make entries pending and due now (one ID, an order's entries, or every dead letter)")
    .argument("[id]", "outbox entry id", parseId)
    .option("-c, --config <path>", CONFIG_OPTION_HELP)
    .option("--order <id>", "the pending and dead entries of this Bitrix order ID", parseId)
    .option("--dead", "every dead letter")
    .option("--json", "print JSON: {results: [...], woken}")
    .addHelpText(
      "after",
      `
A dead or delivered entry goes back to pending, due now (a delivered one is sent
again, with the same Idempotency-Key). The outbox rules still hold: an order has
at most one pending entry, so a retried entry replaces an older pending one of the
order; and an order never gets an older snapshot after a newer one, so an entry
older than the order's pending entry, or than what the CRM already has, is not
sent again (drop it, or send the order's current state with resync). The daemon is
woken (POST /wake); if it is not running, the entries go when it starts.

Exit codes: 0 every selected entry is due now; 1 some were not re-sent (shown, with
why), or no such entry; 2 usage error; 78 bad configuration.

Examples:
  cvety-sidecar outbox retry 1517
  cvety-sidecar outbox retry --order 122401
  cvety-sidecar outbox retry --dead`,
    )
    .action(async (id: number | undefined, opts: RetryOptions) => {
      const selectors = [id !== undefined, opts.order !== undefined, opts.dead === true].filter(
        Boolean,
      ).length;
      if (selectors !== 1)
        throw new UsageError("outbox retry: give exactly one of ID, --order <id> or --dead");
      const { results, listen } = await withOutbox(opts.config, true, (q, config) => ({
        results: q.retry(() => select(q, id, opts)),
        listen: config.http.listen,
      }));
      // Nothing became due when every entry was older than what the CRM has: no one to wake.
      const madeDue = results.some((r) => r.plan.kind !== "superseded_by_delivered");
      const woken = madeDue ? await wakeDaemon(listen) : false;
      if (opts.json) {
        const json = results.map((r) => {
          const { kind, ...details } = r.plan;
          return { action: kind, ...details, entry: outboxRowJson(r.entry) };
        });
        process.stdout.write(`${JSON.stringify({ results: json, woken }, null, 2)}\n`);
      } else {
        if (results.length === 0) process.stdout.write("no dead letters\n");
        for (const r of results) process.stdout.write(`${describe(r)}\n`);
        if (madeDue)
          process.stdout.write(
            woken
              ? "daemon woken: it delivers now\n"
              : "the daemon did not answer (not running?): the entries go when it runs\n",
          );
      }
      if (results.some((r) => r.plan.kind.startsWith("superseded"))) process.exitCode = EXIT_RUNTIME;
    });
}

function select(q: OutboxQueries, id: number | undefined, opts: RetryOptions): OutboxRow[] {
  if (id !== undefined) {
    const entry = q.get(id);
    if (!entry) throw entryNotFound(id);
    return [entry];
  }
  if (opts.order !== undefined) {
    const entries = q.retryableOfOrder(opts.order);
    if (entries.length > 0) return entries;
    const newest = q.newestOfOrder(opts.order);
    throw new SidecarError(
      "E_NOT_FOUND",
      newest
        ? `order ${opts.order} has no pending or dead entry (its newest, #${newest.id}, is ${newest.state}); to send it again: cvety-sidecar outbox retry ${newest.id}`
        : `no outbox entry for order ${opts.order}`,
    );
  }
  return q.deadLetters();
}

function describe(r: RetryResult): string {
  const e = r.entry;
  const head = `#${e.id} order ${e.orderId} v${e.version}`;
  switch (r.plan.kind) {
    case "due":
      return `${head}: pending, due now`;
    case "requeue":
      return r.plan.replacesId === undefined
        ? `${head}: pending again, due now`
        : `${head}: pending again, due now (replaces the older pending entry #${r.plan.replacesId})`;
    case "superseded_by_pending":
      return `${head}: NOT re-sent, the order's newer entry #${r.plan.pendingId} is pending (due now) and carries its current state; to remove this one: cvety-sidecar outbox drop ${e.id}`;
    case "superseded_by_delivered":
      return `${head}: NOT re-sent, the CRM already has v${r.plan.delivered.version} of the order (never an older snapshot after a newer one); to remove this one: cvety-sidecar outbox drop ${e.id}`;
  }
}
