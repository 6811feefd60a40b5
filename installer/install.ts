import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EXIT_OK, EXIT_RUNTIME } from "../daemon/errors.js";
import { readExistingInstall } from "./existing-install.js";
import { type HostSystem, realHostSystem, stagedHostSystem } from "./host-system.js";
import { PreflightError } from "./install-errors.js";
import { LAYOUT, UNIT_NAME } from "./install-layout.js";
import type { InstallSettings } from "./install-settings.js";
import { mysqlUserStep } from "./mysql/mysql-user-step.js";
import { disablePhpHookStep } from "./php-hook/php-hook-steps.js";
import type { Step } from "./plan/plan-item.js";
import { confirmPlan, type RunSummary, runSteps, SYMBOLS } from "./plan/run-steps.js";
import { type HostFacts, type PreflightResult, runPreflight } from "./preflight/run-preflight.js";
import { type InstallFlags, type Prompt, resolveSettings } from "./resolve-settings.js";
import { codeStep } from "./steps/code-step.js";
import { configStep } from "./steps/config-step.js";
import { directoriesStep } from "./steps/directories-step.js";
import { serviceStep } from "./steps/service-step.js";
import { systemUserStep } from "./steps/system-user-step.js";
import { systemdFilesStep } from "./steps/systemd-files-step.js";
import { healthUrl } from "./wait-for-health.js";

/**
 * `cvety-sidecar install`: resolve the inputs, check everything (nothing is
 * written before every check passed), then run the steps in order. Returns
 * the exit code; usage and config errors are thrown for the CLI to report.
 */

export interface InstallRequest {
  flags: InstallFlags;
  dryRun: boolean;
  /** --root DIR: stage every path below DIR; print instead of run what needs a real system. */
  root?: string;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  /** Asks for a missing input; absent without a terminal or with --yes. */
  prompt?: Prompt;
  /** Asks before changing anything; absent without a terminal or with --yes. */
  confirm?: (question: string) => Promise<boolean>;
  /** The package to install (the running one by default). */
  packageDir: string;
  /** Test seams: the host and what it runs on. */
  system?: HostSystem;
  host?: Partial<HostFacts>;
  nodePath?: string;
}

export async function install(req: InstallRequest): Promise<number> {
  const system = req.system ?? (req.root === undefined ? realHostSystem() : stagedHostSystem(req.root));
  const manifest = JSON.parse(await readFile(join(req.packageDir, "package.json"), "utf8")) as {
    version: string;
    engines?: { node?: string };
  };
  const existing = await readExistingInstall(system);
  const settings = await resolveSettings({
    flags: req.flags,
    env: req.env,
    existing,
    system,
    prompt: req.prompt,
    packageDir: req.packageDir,
    version: manifest.version,
    nodePath: req.nodePath ?? process.execPath,
  });
  const out = req.out;
  out(
    `Installing cvety-sidecar ${settings.version}${req.root === undefined ? "" : ` under ${req.root} (staged)`}.`,
  );
  out("Checking the host; nothing is changed until every check passes:");
  let preflight: PreflightResult;
  try {
    preflight = await runPreflight(
      settings,
      system,
      {
        platform: process.platform,
        uid: process.getuid?.() ?? -1,
        nodeVersion: process.version,
        engines: manifest.engines?.node,
        ...req.host,
      },
      out,
    );
  } catch (err) {
    if (!(err instanceof PreflightError)) throw err;
    out(`${SYMBOLS.failed} ${err.message}`);
    out("Nothing was changed.");
    return EXIT_RUNTIME;
  }

  const steps = installSteps(settings, preflight);
  if (!(await confirmPlan(steps, { system, dryRun: req.dryRun, out, confirm: req.confirm })))
    return EXIT_RUNTIME;
  out(req.dryRun ? "Plan (--dry-run: nothing is changed):" : "Installing:");
  const summary = await runSteps(steps, { system, dryRun: req.dryRun, out });
  if (summary.failure !== undefined) {
    out("Fix the problem above and run the same command again: what is already done is checked and kept.");
    return EXIT_RUNTIME;
  }
  for (const line of closingLines(settings, summary, { dryRun: req.dryRun, root: req.root })) out(line);
  return EXIT_OK;
}

export function installSteps(s: InstallSettings, preflight: PreflightResult): Step[] {
  return [
    ...(s.mysql.createUser === undefined
      ? []
      : [mysqlUserStep({ admin: preflight.mysqlTarget, name: s.mysql.createUser.name, mysql: s.mysql })]),
    systemUserStep({ stateDir: s.stateDir }),
    directoriesStep({ stateDir: s.stateDir, logFile: s.logFile }),
    configStep(s),
    codeStep({ packageDir: s.packageDir, nodePath: s.nodePath }),
    systemdFilesStep(s),
    serviceStep(s),
    // Last: the hook goes only once the sidecar is up, so no order falls between the two.
    ...(s.disablePhpHook ? [disablePhpHookStep(s.bitrixRoot)] : []),
  ];
}

function closingLines(
  s: InstallSettings,
  summary: RunSummary,
  run: { dryRun: boolean; root?: string },
): string[] {
  const count = `${summary.changes} change(s), ${summary.unchanged} unchanged`;
  if (run.dryRun) return [`Dry run: nothing was changed (${count} planned).`];
  const head =
    run.root === undefined
      ? summary.changes === 0
        ? `Nothing to change: cvety-sidecar ${s.version} is installed and running.`
        : `cvety-sidecar ${s.version} is installed and running (${count}).`
      : summary.changes === 0
        ? `Nothing to change under ${run.root}.`
        : `Staged under ${run.root} (${count}); the ${summary.printed} command(s) marked ${SYMBOLS.printed} were not run.`;
  const log = s.logFile === "-" ? "journalctl -u cvety-sidecar" : `${s.logFile}   (cvety-sidecar logs -f)`;
  return [
    head,
    `  config   ${LAYOUT.configFile}   (secrets: ${LAYOUT.secretsFile})`,
    `  log      ${log}`,
    `  outbox   ${join(s.stateDir, "outbox.db")}   (cvety-sidecar outbox list)`,
    `  service  systemctl status ${UNIT_NAME}; journalctl -u ${UNIT_NAME}`,
    ...(s.httpListen === "off" ? [] : [`  health   curl ${healthUrl(s.httpListen)}`]),
  ];
}
