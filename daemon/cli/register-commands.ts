import type { Command } from "commander";
import { registerDemoCommand } from "./commands/demo-command.js";
import { registerInstallCommand } from "./commands/install-command.js";
import { registerOutboxCommand } from "./commands/outbox-command.js";
import { registerRunCommand } from "./commands/run-command.js";
import { registerStatusCommand } from "./commands/status-command.js";
import { registerUninstallCommand } from "./commands/uninstall-command.js";

/** Every subcommand, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerRunCommand(program);
  registerInstallCommand(program);
  registerUninstallCommand(program);
  registerStatusCommand(program);
  registerOutboxCommand(program);
  registerDemoCommand(program);
}
