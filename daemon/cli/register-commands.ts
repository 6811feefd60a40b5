import type { Command } from "commander";
import { registerRunCommand } from "./commands/run-command.js";

/** Every subcommand, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerRunCommand(program);
}
