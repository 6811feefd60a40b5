import type { Command } from "commander";
import { createTerminalPrompt, isInteractive } from "../../../installer/terminal-prompt.js";
import { uninstall } from "../../../installer/uninstall.js";

/** `cvety-sidecar uninstall`: see installer/uninstall.ts. */
export function registerUninstallCommand(program: Command): void {
  program
    .command("uninstall")
    .description("stop and remove the service and its code; config, outbox and log stay unless --purge")
    .option(
      "--purge",
      "also remove /etc/cvety-sidecar, the state folder (the outbox!), the log folder and the system user",
    )
    .option("--force", "restore init.php even if it changed since the install commented out the PHP hook")
    .option("--dry-run", "print the plan, change nothing")
    .option("-y, --yes", "never ask")
    .option("--root <dir>", "work on a staged install under <dir> (see install --root)")
    .addHelpText(
      "after",
      `
What it does, in order (each line printed as it runs):
  PHP hook  puts back the exact original init.php the install changed (--disable-php-hook)
  service   systemctl disable --now cvety-sidecar
  systemd   removes the unit and /etc/logrotate.d/cvety-sidecar, daemon-reload
  code      removes /opt/cvety-sidecar and /usr/local/bin/cvety-sidecar
  --purge   removes /etc/cvety-sidecar, /var/lib/cvety-sidecar, /var/log/cvety-sidecar, the user
A MySQL user made by install --create-mysql-user is kept; the command to drop it is printed.

Exit codes: 0 done, 1 a step failed (e.g. init.php changed since the install), 2 usage error.

Examples:
  sudo cvety-sidecar uninstall
  sudo cvety-sidecar uninstall --purge --yes`,
    )
    .action(
      async (opts: { purge?: boolean; force?: boolean; dryRun?: boolean; yes?: boolean; root?: string }) => {
        const terminal = isInteractive(opts.yes) ? createTerminalPrompt() : undefined;
        try {
          process.exitCode = await uninstall({
            purge: opts.purge === true,
            force: opts.force === true,
            dryRun: opts.dryRun === true,
            ...(opts.root === undefined ? {} : { root: opts.root }),
            out: (line) => process.stdout.write(`${line}\n`),
            ...(terminal === undefined ? {} : { confirm: terminal.confirm.bind(terminal) }),
          });
        } finally {
          terminal?.close();
        }
      },
    );
}
