import { describeError, SidecarError } from "../../daemon/errors.js";
import type { HostSystem } from "../host-system.js";
import type { ChangeTag, PlanItem, Step } from "./plan-item.js";

/**
 * Runs the steps in order: plan one step, print and apply its items, then
 * plan the next (a step may depend on what the previous one did). Every item
 * prints one line as it runs:
 *   ✔ wrote /etc/systemd/system/cvety-sidecar.service (0644 root:root)
 *   · unchanged /etc/cvety-sidecar/config.toml
 *   $ systemctl daemon-reload   (not run: --root)
 *   ✖ systemd unit: ...
 * --dry-run prints "→ would ..." for every change and applies nothing. The
 * first failure stops the run: what was done stays, and running again
 * continues from there because every step checks before it changes.
 */

export const SYMBOLS = { done: "✔", unchanged: "·", printed: "$", planned: "→", failed: "✖", warning: "!" };

export interface RunStepsOptions {
  system: HostSystem;
  dryRun: boolean;
  out: (line: string) => void;
}

export interface RunSummary {
  /** Changes applied (or, in a dry run, planned), commands run included. */
  changes: number;
  unchanged: number;
  /** System commands printed instead of run (--root). */
  printed: number;
  changed: ReadonlySet<ChangeTag>;
  failure?: { step: string; error: unknown };
}

export async function runSteps(steps: readonly Step[], opts: RunStepsOptions): Promise<RunSummary> {
  const { system, dryRun, out } = opts;
  const changed = new Set<ChangeTag>();
  const summary = { changes: 0, unchanged: 0, printed: 0 };
  for (const step of steps) {
    try {
      const items = await step.plan({ system, dryRun, changed });
      for (const item of items) await runItem(item);
    } catch (error) {
      // Our own errors say what they are; for others (fs, network) the code helps.
      const message = error instanceof SidecarError ? error.message : describeError(error);
      out(`${SYMBOLS.failed} ${step.title}: ${message}`);
      return { ...summary, changed, failure: { step: step.title, error } };
    }
  }
  return { ...summary, changed };

  async function runItem(item: PlanItem): Promise<void> {
    switch (item.kind) {
      case "unchanged":
        summary.unchanged++;
        out(`${SYMBOLS.unchanged} ${item.what}`);
        return;
      case "note":
        out(item.warning ? `${SYMBOLS.warning} ${item.text}` : `  ${item.text}`);
        return;
      case "change":
        if (!dryRun) await item.apply();
        summary.changes++;
        for (const tag of item.tags ?? []) changed.add(tag);
        out(dryRun ? `${SYMBOLS.planned} would ${item.planned}` : `${SYMBOLS.done} ${item.done}`);
        return;
      case "system":
        for (const tag of item.tags ?? []) changed.add(tag);
        if (dryRun) {
          summary.changes++;
          out(`${SYMBOLS.planned} would ${item.command ? "run " : ""}${item.describe}`);
        } else if (system.staged) {
          summary.printed++;
          out(
            item.command
              ? `${SYMBOLS.printed} ${item.describe}   (not run: --root)`
              : `${SYMBOLS.unchanged} ${item.describe}   (not done: --root)`,
          );
        } else {
          await item.run();
          summary.changes++;
          out(`${SYMBOLS.done} ${item.describe}`);
        }
        return;
    }
  }
}

/**
 * On a terminal without --yes: print the plan (a dry run of the same steps)
 * and ask. True when the run may go ahead.
 */
export async function confirmPlan(
  steps: readonly Step[],
  opts: RunStepsOptions & { confirm: ((question: string) => Promise<boolean>) | undefined },
): Promise<boolean> {
  if (opts.confirm === undefined || opts.dryRun) return true;
  opts.out("Plan:");
  await runSteps(steps, { system: opts.system, dryRun: true, out: opts.out });
  if (await opts.confirm("Apply these changes? [y/N] ")) return true;
  opts.out("Nothing was changed.");
  return false;
}
