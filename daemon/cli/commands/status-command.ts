import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { EXIT_RUNTIME } from "../../errors.js";
import { formatStatus } from "../../ops/format-status.js";
import { readStatus } from "../../ops/read-status.js";
import { DEFAULT_THRESHOLDS, findProblems } from "../../ops/status-problems.js";
import { parseSeconds } from "../option-values.js";

/** `cvety-sidecar status`: is it working, what is stuck, why. Exit 1 when something needs a person. */
export function registerStatusCommand(program: Command): void {
  program
    .command("status")
    .description("show whether the daemon runs, capture lag, the outbox, deliveries, pauses and write-back")
    .option(
      "-c, --config <path>",
      "config file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)",
    )
    .option("--json", "print one JSON object (stable field names) instead of the table")
    .option(
      "--max-lag <seconds>",
      "fail when the newest captured DATE_UPDATE is older than this",
      parseSeconds,
      DEFAULT_THRESHOLDS.maxLagS,
    )
    .option(
      "--max-pending-age <seconds>",
      "fail when the oldest pending entry waits longer than this",
      parseSeconds,
      DEFAULT_THRESHOLDS.maxPendingAgeS,
    )
    .addHelpText(
      "after",
      `
Reads the daemon's /healthz on [http] listen and the state database read-only
(<state.dir>/outbox.db); safe while the daemon runs, and shows the counts from
the state when it does not.

Exit codes:
  0   fine
  1   something needs a person, listed under NEEDS ATTENTION (--json: "problems"):
      the daemon is not running (or not answering), delivery paused, write-back
      paused, dead letters in the outbox, capture lag above --max-lag, the oldest
      pending entry older than --max-pending-age, no state yet
  2   usage error
  78  bad configuration

Examples:
  cvety-sidecar status
  cvety-sidecar status --json | jq .outbox
  */5 * * * * cvety-sidecar status --max-lag 900 >/dev/null || <alert>`,
    )
    .action(async (opts: { config?: string; json?: boolean; maxLag: number; maxPendingAge: number }) => {
      const config = await loadConfig({ path: opts.config });
      const report = await readStatus(config);
      const thresholds = { maxLagS: opts.maxLag, maxPendingAgeS: opts.maxPendingAge };
      const problems = findProblems(report, thresholds);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ok: problems.length === 0, problems, thresholds, ...report }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(formatStatus(report, problems));
      }
      if (problems.length > 0) process.exitCode = EXIT_RUNTIME;
    });
}
