/**
 * What a chaos run is asked to do: `npm run chaos -- --duration 600 --kills 25`
 * (the long run) or `--short` (about two minutes, what CI runs).
 */
import { Command, InvalidArgumentError } from "commander";

export interface ChaosOptions {
  /** How long the writer writes and faults happen, seconds (the drain comes after). */
  durationS: number;
  /** kill -9 of the daemon, spread over the run. */
  kills: number;
  /** The CRM answers nothing (sockets dropped) this long, seconds. */
  crmOutageS: number;
  /** Each MySQL cut (the daemon's connection, through a TCP proxy) lasts this long, seconds. */
  mysqlCutS: number;
  /** How many MySQL cuts. */
  mysqlCuts: number;
  /** How long to wait for the backlog to drain once the writer stopped and faults are off, seconds. */
  drainTimeoutS: number;
  seed: number;
  /** Keep the temp folder (config, state, daemon log) for a post-mortem. */
  keep: boolean;
  short: boolean;
}

export const LONG_DEFAULTS = {
  durationS: 600,
  kills: 25,
  crmOutageS: 60,
  mysqlCutS: 20,
  mysqlCuts: 2,
  drainTimeoutS: 300,
};

export const SHORT_DEFAULTS = {
  durationS: 120,
  kills: 6,
  crmOutageS: 15,
  mysqlCutS: 8,
  mysqlCuts: 1,
  // Generous: a slow shared 2-core CI machine must not fail the run by timing.
  drainTimeoutS: 180,
};

function positiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number ≥ 0`);
    return n;
  };
}

/** Parses argv (without node and the script); throws commander's error on bad usage. */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  const program = new Command("chaos")
    .description(
      "Runs the daemon against MariaDB, the HTTPS CRM stand-in and a status feed while a Bitrix-like writer saves " +
        "orders, kills the daemon with SIGKILL, breaks the CRM and cuts MySQL; then checks that nothing was lost, " +
        "nothing arrived out of order, and every CRM status change was applied exactly once.",
    )
    .option("--short", "the CI variant: about 2 minutes, 6 kills, a 15 s CRM outage, one 8 s MySQL cut")
    .option(
      "--duration <s>",
      "seconds of writing and faults (long: 600, short: 120)",
      positiveInt("--duration"),
    )
    .option("--kills <n>", "kill -9 of the daemon (long: 25, short: 6)", positiveInt("--kills"))
    .option(
      "--crm-outage <s>",
      "CRM outage length in seconds (long: 60, short: 15)",
      positiveInt("--crm-outage"),
    )
    .option(
      "--drain-timeout <s>",
      "seconds to wait for the backlog to drain at the end",
      positiveInt("--drain-timeout"),
    )
    .option("--seed <n>", "random seed (printed by every run, to repeat its plan)", positiveInt("--seed"))
    .option("--keep", "keep the temp folder with config, state and the daemon's log")
    .addHelpText(
      "after",
      "\nExamples:\n  npm run chaos -- --short\n  npm run chaos -- --duration 600 --kills 25\n  npm run chaos -- --short --seed 12345 --keep\n" +
        "\nEnvironment:\n  CVETY_TEST_MYSQL_URL  the MariaDB to use (else root@127.0.0.1:3306, else a private mariadbd)\n" +
        "\nExit codes: 0 every invariant held, 1 a violation (listed), 2 usage error.",
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse([...argv], { from: "user" });
  const o = program.opts<{
    short?: boolean;
    duration?: number;
    kills?: number;
    crmOutage?: number;
    drainTimeout?: number;
    seed?: number;
    keep?: boolean;
  }>();
  const base = o.short ? SHORT_DEFAULTS : LONG_DEFAULTS;
  const durationS = o.duration ?? base.durationS;
  return {
    ...base,
    durationS,
    kills: o.kills ?? base.kills,
    crmOutageS: Math.min(o.crmOutage ?? base.crmOutageS, Math.floor(durationS / 4)),
    mysqlCutS: Math.min(base.mysqlCutS, Math.max(1, Math.floor(durationS / 10))),
    drainTimeoutS: o.drainTimeout ?? base.drainTimeoutS,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 31),
    keep: o.keep ?? false,
    short: o.short ?? false,
  };
}
