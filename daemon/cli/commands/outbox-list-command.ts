import type { Command } from "commander";
import { formatOutboxList, outboxRowJson } from "../../ops/format-outbox.js";
import { OUTBOX_STATES } from "../../ops/outbox-queries.js";
import type { OutboxState } from "../../outbox/outbox-store.js";
import { outboxStateParser, parseId, parseLimit, parseSince } from "../option-values.js";
import { CONFIG_OPTION_HELP, withOutbox } from "./outbox-command.js";

export function registerOutboxListCommand(outbox: Command): void {
  outbox
    .command("list")
    .description("list outbox entries, newest first")
    .option("-c, --config <path>", CONFIG_OPTION_HELP)
    .option(
      "--state <state>",
      `only entries in this state: ${OUTBOX_STATES.join(", ")}`,
      outboxStateParser(OUTBOX_STATES),
    )
    .option("--order <id>", "only entries of this Bitrix order ID", parseId)
    .option(
      "--since <date>",
      "only entries created since: 2026-11-27, '2026-11-27 08:30' (host time), 2h, 7d",
      (v) => parseSince(v),
    )
    .option("--limit <n>", "at most this many entries", parseLimit, 50)
    .option("--json", "print JSON: {total, entries: [...]}")
    .addHelpText(
      "after",
      `
Exit codes: 0 ok (also when nothing matches), 1 runtime failure (e.g. no state yet),
2 usage error, 78 bad configuration.

Examples:
  cvety-sidecar outbox list --state dead
  cvety-sidecar outbox list --order 122401
  cvety-sidecar outbox list --state pending --since 2h --json`,
    )
    .action(
      async (opts: {
        config?: string;
        state?: OutboxState;
        order?: number;
        since?: number;
        limit: number;
        json?: boolean;
      }) => {
        await withOutbox(opts.config, false, (q) => {
          const { rows, total } = q.list({
            state: opts.state,
            orderId: opts.order,
            sinceMs: opts.since,
            limit: opts.limit,
          });
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ total, entries: rows.map(outboxRowJson) }, null, 2)}\n`
              : formatOutboxList(rows, total, Date.now()),
          );
        });
      },
    );
}
