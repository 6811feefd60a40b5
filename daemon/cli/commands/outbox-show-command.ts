import type { Command } from "commander";
import { attemptJson, formatOutboxShow, outboxRowJson } from "../../ops/format-outbox.js";
import { isoOrNull } from "../../ops/format-time.js";
import { parseId } from "../option-values.js";
import { CONFIG_OPTION_HELP, entryNotFound, withOutbox } from "./outbox-command.js";

export function registerOutboxShowCommand(outbox: Command): void {
  outbox
    .command("show")
    .description("show one entry: its state, every delivery attempt and the payload")
    .argument("<id>", "outbox entry id (the ID column of outbox list)", parseId)
    .option("-c, --config <path>", CONFIG_OPTION_HELP)
    .option("--json", "print JSON: {entry, attempts}")
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 no such entry (or no state yet), 2 usage error, 78 bad configuration.

Examples:
  cvety-sidecar outbox show 1517
  cvety-sidecar outbox show 1517 --json | jq .entry.payload.STATUS_ID`,
    )
    .action(async (id: number, opts: { config?: string; json?: boolean }) => {
      await withOutbox(opts.config, false, (q) => {
        const entry = q.get(id);
        if (!entry) throw entryNotFound(id);
        const attempts = q.attempts(id);
        if (!opts.json) {
          process.stdout.write(formatOutboxShow(entry, attempts, Date.now()));
          return;
        }
        let payload: unknown = entry.payload;
        try {
          payload = JSON.parse(entry.payload);
        } catch {
          // kept as text
        }
        const json = {
          entry: {
            ...outboxRowJson(entry),
            idempotencyKey: entry.idempotencyKey,
            snapshotHash: entry.snapshotHash,
            firstErrorAt: isoOrNull(entry.firstErrorAt),
            lastResponse: entry.lastResponse,
            payload,
          },
          attempts: attempts.map(attemptJson),
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      });
    });
}
