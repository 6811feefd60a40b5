import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { EXIT_RUNTIME, UsageError } from "../../errors.js";
import { errorText } from "../../ops/format-outbox.js";
import { oneLine } from "../../ops/format-time.js";
import type { OutboxRow } from "../../ops/outbox-queries.js";
import { parseId } from "../option-values.js";
import { CONFIG_OPTION_HELP, entryNotFound, withOutbox } from "./outbox-command.js";

export function registerOutboxDropCommand(outbox: Command): void {
  outbox
    .command("drop")
    .description("delete one entry and its attempt history (asks first; --yes without a terminal)")
    .argument("<id>", "outbox entry id", parseId)
    .option("-c, --config <path>", CONFIG_OPTION_HELP)
    .option("-y, --yes", "do not ask (required when stdin is not a terminal)")
    .addHelpText(
      "after",
      `
A dropped entry is never sent. Dropping a pending entry means the CRM does not get
that change of the order until the order changes again (or is re-sent with resync).

Exit codes: 0 dropped, 1 no such entry or the answer was no, 2 usage error (e.g. no
--yes without a terminal), 78 bad configuration.

Examples:
  cvety-sidecar outbox drop 1517
  cvety-sidecar outbox drop 1517 --yes`,
    )
    .action(async (id: number, opts: { config?: string; yes?: boolean }) => {
      const interactive = process.stdin.isTTY === true;
      if (!opts.yes && !interactive)
        throw new UsageError(`outbox drop ${id}: stdin is not a terminal; add --yes to drop without asking`);
      await withOutbox(opts.config, true, async (q) => {
        const entry = q.get(id);
        if (!entry) throw entryNotFound(id);
        if (!opts.yes && !(await confirm(entry))) {
          process.stdout.write("not dropped\n");
          process.exitCode = EXIT_RUNTIME;
          return;
        }
        if (!q.drop(id)) throw entryNotFound(id);
        process.stdout.write(`dropped #${id} (order ${entry.orderId} v${entry.version}, ${entry.state})\n`);
      });
    });
}

async function confirm(e: OutboxRow): Promise<boolean> {
  const err = errorText(e);
  const warning =
    e.state === "pending" ? "\nIt is still pending: the CRM will not get this change of the order." : "";
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Drop outbox entry #${e.id}: order ${e.orderId} v${e.version}, ${e.state}${err ? `, ${oneLine(err, 80)}` : ""}?${warning}\n[y/N] `,
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
