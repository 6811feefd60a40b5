import { existsSync } from "node:fs";
import { LAYOUT, SERVICE_USER } from "../install-layout.js";
import { lstatOrUndefined } from "../plan/file-items.js";
import { commandItem, type Step } from "../plan/plan-item.js";

/**
 * The system user the service runs as: no login shell, no home of its own
 * (its home is the state folder, which the directories step creates).
 * Under --root the user database cannot be asked; the stage counts as a
 * fresh host until its state folder exists, so a second staged run prints
 * nothing here, as a second real run would.
 */
export function systemUserStep(opts: { stateDir: string }): Step {
  return {
    title: "system user",
    async plan({ system }) {
      const exists = system.staged
        ? (await lstatOrUndefined(system.path(opts.stateDir))) !== undefined
        : (await system.userId(SERVICE_USER)) !== undefined;
      if (exists) return [{ kind: "unchanged", what: `unchanged user ${SERVICE_USER}` }];
      return [
        commandItem(
          system,
          [
            "useradd",
            "--system",
            "--user-group",
            "--home-dir",
            opts.stateDir,
            "--no-create-home",
            "--shell",
            noLoginShell(),
            "--comment",
            "cvety-sidecar daemon",
            SERVICE_USER,
          ],
          ["user"],
        ),
      ];
    },
  };
}

/** Removed by `uninstall --purge` only: files it owned elsewhere would be left with a bare uid. */
export function removeSystemUserStep(): Step {
  return {
    title: "system user",
    async plan({ system }) {
      const exists = system.staged
        ? (await lstatOrUndefined(system.path(LAYOUT.configDir))) !== undefined
        : (await system.userId(SERVICE_USER)) !== undefined;
      if (!exists) return [{ kind: "unchanged", what: `absent user ${SERVICE_USER}` }];
      return [commandItem(system, ["userdel", SERVICE_USER])];
    },
  };
}

function noLoginShell(): string {
  return ["/usr/sbin/nologin", "/sbin/nologin"].find((p) => existsSync(p)) ?? "/bin/false";
}
