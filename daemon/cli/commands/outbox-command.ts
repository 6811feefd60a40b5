import type { Command } from "commander";
import type { Config } from "../../config/config-schema.js";
import { loadConfig } from "../../config/load-config.js";
import { SidecarError } from "../../errors.js";
import { openStateForOps } from "../../ops/open-state-for-ops.js";
import { OutboxQueries } from "../../ops/outbox-queries.js";
import { registerOutboxDropCommand } from "./outbox-drop-command.js";
import { registerOutboxListCommand } from "./outbox-list-command.js";
import { registerOutboxRetryCommand } from "./outbox-retry-command.js";
import { registerOutboxShowCommand } from "./outbox-show-command.js";

export const CONFIG_OPTION_HELP =
  "config file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)";

/** `cvety-sidecar outbox list|show|retry|drop`: read and fix the outbox beside the running daemon. */
export function registerOutboxCommand(program: Command): void {
  const outbox = program
    .command("outbox")
    .description("list, inspect, retry and drop outbox entries (works while the daemon runs)")
    .addHelpText(
      "after",
      `
The outbox is <state.dir>/outbox.db (SQLite, WAL): reads never block the daemon, a
change waits for its write lock. retry wakes the daemon (POST /wake on [http] listen).

Examples:
  cvety-sidecar outbox list --state dead
  cvety-sidecar outbox show 1517
  cvety-sidecar outbox retry --dead
  cvety-sidecar outbox drop 1517 --yes`,
    );
  registerOutboxListCommand(outbox);
  registerOutboxShowCommand(outbox);
  registerOutboxRetryCommand(outbox);
  registerOutboxDropCommand(outbox);
}

/** Loads the config, opens the state for a CLI command and closes it after `fn`. */
export async function withOutbox<T>(
  configPath: string | undefined,
  write: boolean,
  fn: (q: OutboxQueries, config: Config) => T | Promise<T>,
): Promise<T> {
  const config = await loadConfig({ path: configPath });
  const db = openStateForOps(config.state.dir, { write });
  try {
    return await fn(new OutboxQueries(db), config);
  } finally {
    db.close();
  }
}

export function entryNotFound(id: number): SidecarError {
  return new SidecarError(
    "E_NOT_FOUND",
    `no outbox entry #${id} (see cvety-sidecar outbox list; delivered entries may have been pruned)`,
  );
}
