import { setTimeout as sleep } from "node:timers/promises";
import type { HostSystem } from "../host-system.js";
import { InstallStepError } from "../install-errors.js";
import { UNIT_NAME } from "../install-layout.js";
import type { InstallSettings } from "../install-settings.js";
import { type ChangeTag, commandItem, type PlanItem, type Step } from "../plan/plan-item.js";
import { healthUrl, waitForHealth } from "../wait-for-health.js";

/** Any of these changing means the running daemon is not the installed one any more. */
const RESTART_ON: readonly ChangeTag[] = ["code", "config", "secrets", "unit", "mysql-user", "user", "dirs"];
/** With [http] listen = "off" there is no /healthz: the service must at least stay up this long. */
const SETTLE_MS = 3_000;

/**
 * daemon-reload when the unit changed, enable, (re)start when anything the
 * daemon uses changed or it is not running, then wait until it answers.
 * Under --root nothing of this runs; it is printed when a real host would
 * need it (the unit or the code changed in this run).
 */
export function serviceStep(s: InstallSettings): Step {
  return {
    title: "service",
    async plan({ system, changed }) {
      const items: PlanItem[] = [];
      if (changed.has("unit")) items.push(commandItem(system, ["systemctl", "daemon-reload"]));
      const enabled = system.staged
        ? !changed.has("unit")
        : await succeeds(system, ["systemctl", "is-enabled", "--quiet", UNIT_NAME]);
      if (!enabled) items.push(commandItem(system, ["systemctl", "enable", UNIT_NAME]));
      const active =
        system.staged || (await succeeds(system, ["systemctl", "is-active", "--quiet", UNIT_NAME]));
      const stale = RESTART_ON.some((tag) => changed.has(tag));
      if (active && !stale) {
        const state = system.staged ? "nothing it runs changed" : "enabled, running";
        items.push({ kind: "unchanged", what: `unchanged service ${UNIT_NAME} (${state})` });
        return items;
      }
      items.push(commandItem(system, ["systemctl", "restart", UNIT_NAME]));
      items.push(healthItem(system, s));
      return items;
    },
  };
}

function healthItem(system: HostSystem, s: InstallSettings): PlanItem {
  const journal = async () => {
    const r = await system.query([
      "journalctl",
      "--unit",
      UNIT_NAME,
      "--lines",
      "20",
      "--no-pager",
      "--output",
      "cat",
    ]);
    return `last lines of journalctl -u ${UNIT_NAME}:\n${r.stdout || r.stderr}`;
  };
  if (s.httpListen === "off") {
    return {
      kind: "system",
      command: false,
      describe: `check that ${UNIT_NAME} stays active`,
      run: async () => {
        await sleep(SETTLE_MS);
        if (!(await succeeds(system, ["systemctl", "is-active", "--quiet", UNIT_NAME]))) {
          throw new InstallStepError("E_NOT_RUNNING", `${UNIT_NAME} is not running\n${await journal()}`);
        }
      },
    };
  }
  const url = healthUrl(s.httpListen);
  return {
    kind: "system",
    command: false,
    describe: `wait for ${url} (up to ${Math.round(s.healthTimeoutMs / 1000)} s)`,
    run: async () => {
      await waitForHealth(url, {
        version: s.version,
        timeoutMs: s.healthTimeoutMs,
        describeFailure: journal,
      });
    },
  };
}

async function succeeds(system: HostSystem, argv: readonly string[]): Promise<boolean> {
  return (await system.query(argv)).status === 0;
}

/** Uninstall: stop and disable, when the unit is there and systemd has it enabled or running. */
export function stopServiceStep(opts: { unitExists: boolean }): Step {
  return {
    title: "service",
    async plan({ system }) {
      const absent: PlanItem = { kind: "unchanged", what: `absent service ${UNIT_NAME}` };
      if (!opts.unitExists) return [absent];
      if (!system.staged) {
        const enabled = await succeeds(system, ["systemctl", "is-enabled", "--quiet", UNIT_NAME]);
        const active = await succeeds(system, ["systemctl", "is-active", "--quiet", UNIT_NAME]);
        if (!enabled && !active)
          return [{ kind: "unchanged", what: `unchanged service ${UNIT_NAME} (not enabled, not running)` }];
      }
      return [commandItem(system, ["systemctl", "disable", "--now", UNIT_NAME])];
    },
  };
}
