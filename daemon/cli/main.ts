import { Command, CommanderError } from "commander";
import { ConfigError, EXIT_RUNTIME, EXIT_USAGE, SidecarError } from "../errors.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./register-commands.js";

/**
 * The one binary. Each subcommand lives in cli/commands/<name>.ts; this file
 * only turns errors into a message on stderr and an exit code
 * (0 ok, 1 runtime failure, 2 usage error, 78 bad configuration).
 */
export function buildProgram(): Command {
  const program = new Command("cvety-sidecar")
    .description(
      "Keeps a 1C-Bitrix store and the CRM in sync: captures order changes from MySQL into a SQLite outbox, delivers them over HTTPS, writes CRM status changes back.",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  registerCommands(program);
  program.addHelpText(
    "after",
    `
Environment:
  CVETY_SIDECAR_CONFIG              config file (default /etc/cvety-sidecar/config.toml)
  CVETY_SIDECAR_CRM_TOKEN           [crm] token
  CVETY_SIDECAR_CRM_SIGNING_SECRETS [crm] signing_secrets, comma separated
  CVETY_SIDECAR_MYSQL_URL           [mysql] url
  CVETY_SIDECAR_MYSQL_PASSWORD      MySQL password (overrides the one found)
  CVETY_SIDECAR_WRITEBACK_TOKEN     [writeback] token

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 78 bad configuration.

Examples:
  cvety-sidecar run --config /etc/cvety-sidecar/config.toml
  cvety-sidecar status
  cvety-sidecar outbox list --state dead
  cvety-sidecar logs -f`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version exit 0; a parse error was already printed by commander.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`cvety-sidecar: configuration error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof SidecarError) {
    process.stderr.write(`cvety-sidecar: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`cvety-sidecar: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_RUNTIME;
}
