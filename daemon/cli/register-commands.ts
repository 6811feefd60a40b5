import type { Command } from "commander";
import { registerDemoCommand } from "./commands/demo-command.js";
import { registerDoctorCommand } from "./commands/doctor-command.js";
import { registerInstallCommand } from "./commands/install-command.js";
import { registerLogsCommand } from "./commands/logs-command.js";
import { registerOutboxCommand } from "./commands/outbox-command.js";
import { registerResyncCommand } from "./commands/resync-command.js";
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
  registerLogsCommand(program);
  registerResyncCommand(program);
  registerDoctorCommand(program);
  registerDemoCommand(program);
}
