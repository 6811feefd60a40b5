import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import {
  type LogFilter,
  parseLevelOption,
  parseOrderOption,
  parseSinceOption,
} from "../../ops/logs/log-filter.js";
import { resolveLogFile } from "../../ops/logs/resolve-log-file.js";
import { showLog } from "../../ops/logs/show-log.js";
import { stdoutWriter, useColor } from "../write-stdout.js";

interface LogsOptions {
  config?: string;
  file?: string;
  follow?: boolean;
  level?: string;
  order?: string;
  since?: string;
  lines?: string;
  json?: boolean;
}

/** Lines shown before following when -n is not given. */
const DEFAULT_FOLLOW_LINES = 50;

/** `cvety-sidecar logs`: the JSON log for people, filtered, optionally followed across logrotate. */
export function registerLogsCommand(program: Command): void {
  program
    .command("logs")
    .description("print the daemon's log as readable lines; -f follows it, across logrotate")
    .option(
      "-c, --config <path>",
      "config file, for [log] file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)",
    )
    .option("--file <path>", "read this log file instead of [log] file")
    .option("-f, --follow", "keep printing new lines as they are written (Ctrl-C stops)")
    .option("--level <level>", "only lines at this level or above: trace, debug, info, warn, error, fatal")
    .option("--order <id>", "only lines about this Bitrix order id")
    .option(
      "--since <when>",
      "only lines from then on: a local date and time (2026-11-27 10:00) or a duration back from now (15m, 2h, 1d)",
    )
    .option(
      "-n, --lines <n>",
      `only the last <n> matching lines (default: all; ${DEFAULT_FOLLOW_LINES} with --follow)`,
    )
    .option("--json", "print the matching lines as they are in the file (JSON), for jq")
    .addHelpText(
      "after",
      `
Each line: local time, level, message, then its fields (order=, v= version, status=, duration):
  2026-11-27 10:01:02 INFO  order delivered  order=122401 v=3 event=order.update status=200 41ms outbox=17
Colours only on a terminal (NO_COLOR turns them off). Lines that are not JSON are printed as they are
when nothing is filtered. Following survives logrotate (rename + SIGHUP, and copytruncate).

Exit codes: 0 ok (also when stopped with Ctrl-C), 1 the log cannot be read, 2 usage error, 78 the config file cannot be read (use --file).

Examples:
  cvety-sidecar logs -f
  cvety-sidecar logs --order 122401
  cvety-sidecar logs --level warn --since 2h
  cvety-sidecar logs --since "2026-11-27 10:00" --json | jq .msg`,
    )
    .action(async (opts: LogsOptions) => {
      const filter: LogFilter = {};
      if (opts.level !== undefined) filter.minLevel = parseLevelOption(opts.level);
      if (opts.order !== undefined) filter.orderId = parseOrderOption(opts.order);
      if (opts.since !== undefined) filter.sinceMs = parseSinceOption(opts.since, Date.now());
      const lines = parseLines(opts.lines, opts.follow === true && opts.since === undefined);
      const { file, warning } = await resolveLogFile({ file: opts.file, config: opts.config });
      if (warning) process.stderr.write(`cvety-sidecar: ${warning}\n`);

      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        await showLog({
          file,
          filter,
          follow: opts.follow === true,
          lines,
          json: opts.json === true,
          color: opts.json !== true && useColor(),
          write: stdoutWriter(),
          notice: (m) => process.stderr.write(`cvety-sidecar: ${m}\n`),
          signal: abort.signal,
        });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
}

function parseLines(value: string | undefined, followDefault: boolean): number | undefined {
  if (value === undefined) return followDefault ? DEFAULT_FOLLOW_LINES : undefined;
  if (!/^\d+$/.test(value.trim()))
    throw new UsageError(`--lines: expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value.trim());
}
