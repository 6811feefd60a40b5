import { type Command, InvalidArgumentError } from "commander";

const MIN_DURATION_S = 5;
const MAX_DURATION_S = 3600;

function parseDuration(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < MIN_DURATION_S || seconds > MAX_DURATION_S) {
    throw new InvalidArgumentError(`expected whole seconds from ${MIN_DURATION_S} to ${MAX_DURATION_S}`);
  }
  return seconds;
}

/** `cvety-sidecar demo`: see daemon/demo/run-demo.ts. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "show the whole sync on this machine: a throwaway MariaDB shop, a CRM stand-in and the real daemon, both directions",
    )
    .option("--duration <seconds>", "how long orders and status changes keep coming", parseDuration, 60)
    .option("--keep", "keep the temp folder (config, outbox, log) to inspect it afterwards")
    .option("--quiet", "no live view: the setup, a summary line every few seconds and the result")
    .addHelpText(
      "after",
      `
What it needs: Node.js, openssl, and a MariaDB: root with an empty password on 127.0.0.1:3306,
or CVETY_TEST_MYSQL_URL=mysql://user:pass@host:port, or mariadbd installed (a private one is
started in a temp folder). It creates the database cvety_demo_<pid> and drops it at the end.
Meant for a laptop or a test machine, not the shop's host: it uses whatever MariaDB answers there.

On a terminal the live view is redrawn in place; piped, it prints plain lines.
Ctrl-C stops early and still cleans up (a second Ctrl-C stops at once).

Exit codes: 0 both directions seen (Bitrix → CRM and CRM → Bitrix), 1 not (it says what was missing), 2 usage error.

Examples:
  npm run demo
  cvety-sidecar demo --duration 30
  cvety-sidecar demo --keep && cvety-sidecar outbox list --config /tmp/cvety-demo-XXXX/config.toml`,
    )
    .action(async (opts: { duration: number; keep?: boolean; quiet?: boolean }) => {
      // Loaded here: the demo pulls in the test harness, which `run` never needs.
      const { runDemo } = await import("../../demo/run-demo.js");
      process.exitCode = await runDemo({
        durationS: opts.duration,
        keep: opts.keep === true,
        quiet: opts.quiet === true,
        out: process.stdout,
      });
    });
}
