import type { Command } from "commander";
import { doctorExitCode, formatJson, formatReport } from "../../ops/doctor/format-checks.js";
import { runDoctor } from "../../ops/doctor/run-doctor.js";

/** `cvety-sidecar doctor`: checks everything the daemon depends on, one line each. */
export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check config, MySQL (grants, tables, clock), the CRM, write-back source, state, disk and log",
    )
    .option(
      "-c, --config <path>",
      "config file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)",
    )
    .option("--json", "print the checks as JSON")
    .addHelpText(
      "after",
      `
Each check prints one line: ✔ passed, ! warning, ✖ failed (with what to do
below it), - skipped because an earlier check failed. Safe while the daemon
runs: it reads MySQL, sends the CRM a harmless ping, opens the state read-only.

Checks: config valid; MySQL reachable; grants for capture (and write-back when
enabled); Bitrix tables and columns; MySQL clock and zone vs this host's clock
in [bitrix] timezone; newest DATE_UPDATE not in the future; CRM reachable and
token accepted; write-back source reachable; state integrity; free disk for
state and log (warn < 1 GB, fail < 100 MB); log file writable.

Exit codes: 0 all passed (warnings allowed), 1 a check failed, 78 the config is invalid.

Examples:
  sudo cvety-sidecar doctor
  cvety-sidecar doctor --config ./config.toml --json`,
    )
    .action(async (opts: { config?: string; json?: boolean }) => {
      const run = await runDoctor({ ...(opts.config === undefined ? {} : { configPath: opts.config }) });
      const out = opts.json
        ? formatJson(run.results)
        : formatReport(run.results, { colour: process.stdout.isTTY === true && !process.env["NO_COLOR"] });
      process.stdout.write(out);
      process.exitCode = doctorExitCode(run.results, run.configFailed);
    });
}
