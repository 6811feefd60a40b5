import { readdir } from "node:fs/promises";
import { dirname } from "node:path";
import { EXIT_OK, EXIT_RUNTIME } from "../daemon/errors.js";
import { type ExistingInstall, mysqlUserInFile, readExistingInstall } from "./existing-install.js";
import { type HostSystem, realHostSystem, stagedHostSystem } from "./host-system.js";
import { PreflightError } from "./install-errors.js";
import { LAYOUT } from "./install-layout.js";
import { restorePhpHookStep } from "./php-hook/php-hook-steps.js";
import { removePath } from "./plan/file-items.js";
import { commandItem, type PlanItem, type Step } from "./plan/plan-item.js";
import { confirmPlan, runSteps, SYMBOLS } from "./plan/run-steps.js";
import { checkLinux, checkRoot } from "./preflight/host-checks.js";
import { stopServiceStep } from "./steps/service-step.js";
import { removeSystemUserStep } from "./steps/system-user-step.js";

/**
 * `cvety-sidecar uninstall`: the install's mirror image, in reverse order.
 * It gives init.php back, stops and disables the service, and removes the
 * code, the unit, the logrotate file and the PATH command. The config, the
 * outbox (state) and the log stay unless --purge: they hold undelivered
 * orders and the history ops may still need.
 */

export interface UninstallRequest {
  purge: boolean;
  force: boolean;
  dryRun: boolean;
  root?: string;
  out: (line: string) => void;
  confirm?: (question: string) => Promise<boolean>;
  system?: HostSystem;
  uid?: number;
}

export async function uninstall(req: UninstallRequest): Promise<number> {
  const system = req.system ?? (req.root === undefined ? realHostSystem() : stagedHostSystem(req.root));
  const out = req.out;
  try {
    out(`${SYMBOLS.done} ${checkLinux(process.platform)}`);
    out(`${SYMBOLS.done} ${checkRoot(req.uid ?? process.getuid?.() ?? -1, system.staged)}`);
  } catch (err) {
    if (!(err instanceof PreflightError)) throw err;
    out(`${SYMBOLS.failed} ${err.message}`);
    out("Nothing was changed.");
    return EXIT_RUNTIME;
  }
  const existing = await readExistingInstall(system);
  const steps = uninstallSteps(existing, { purge: req.purge, force: req.force });
  if (!(await confirmPlan(steps, { system, dryRun: req.dryRun, out, confirm: req.confirm })))
    return EXIT_RUNTIME;
  out(req.dryRun ? "Plan (--dry-run: nothing is changed):" : "Uninstalling:");
  const summary = await runSteps(steps, { system, dryRun: req.dryRun, out });
  if (summary.failure !== undefined) return EXIT_RUNTIME;
  const stateDir = existing.config?.state.dir ?? LAYOUT.stateDir;
  const logFile = existing.config?.log.file ?? LAYOUT.logFile;
  if (req.dryRun) out(`Dry run: nothing was changed (${summary.changes} change(s) planned).`);
  else if (!req.purge) {
    const kept = [
      LAYOUT.configDir,
      `${stateDir} (the outbox)`,
      ...(logFile === "-" ? [] : [dirname(logFile)]),
    ];
    out(`cvety-sidecar is uninstalled. Kept: ${kept.join(", ")}.`);
    out("Remove them too with: cvety-sidecar uninstall --purge");
  } else out("cvety-sidecar is uninstalled and its config, state and log are removed.");
  const user =
    existing.secrets["CVETY_SIDECAR_MYSQL_PASSWORD"] === undefined ? undefined : mysqlUserInFile(existing);
  if (user !== undefined && !req.dryRun) {
    out(`${SYMBOLS.warning} the MySQL user ${user} is kept; drop it with: DROP USER '${user}'@'<host>';`);
  }
  return EXIT_OK;
}

export function uninstallSteps(existing: ExistingInstall, opts: { purge: boolean; force: boolean }): Step[] {
  const stateDir = existing.config?.state.dir ?? LAYOUT.stateDir;
  const logFile = existing.config?.log.file ?? LAYOUT.logFile;
  const remove = (
    title: string,
    paths: string[],
    after?: (changed: boolean, system: HostSystem) => PlanItem[],
  ): Step => ({
    title,
    async plan({ system }) {
      const items: PlanItem[] = [];
      for (const path of paths) items.push(...(await removePath(system, path)));
      const changed = items.some((i) => i.kind === "change");
      return [...items, ...(after?.(changed, system) ?? [])];
    },
  });
  return [
    restorePhpHookStep({ force: opts.force }),
    stopServiceStep({ unitExists: existing.unitExists }),
    remove("systemd unit", [LAYOUT.unitFile, LAYOUT.logrotateFile], (changed, system) =>
      changed ? [commandItem(system, ["systemctl", "daemon-reload"])] : [],
    ),
    remove("code", [LAYOUT.pathCommand, LAYOUT.codeDir]),
    {
      title: "backups",
      async plan({ system }) {
        // Empty once every init.php is restored; --purge removes it anyway.
        const left = await readdir(system.path(LAYOUT.backupDir)).catch(() => undefined);
        if (left === undefined || (left.length > 0 && !opts.purge)) return [];
        return removePath(system, LAYOUT.backupDir);
      },
    },
    ...(opts.purge
      ? [
          removeSystemUserStep(),
          remove("config, state and log", [
            LAYOUT.configDir,
            stateDir,
            ...(logFile === "-" ? [] : [dirname(logFile)]),
          ]),
        ]
      : []),
  ];
}
