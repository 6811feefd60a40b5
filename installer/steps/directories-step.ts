import { dirname } from "node:path";
import { LAYOUT, SERVICE_USER } from "../install-layout.js";
import { ensureDirectory, type Owner, ROOT_OWNER } from "../plan/file-items.js";
import type { Step } from "../plan/plan-item.js";

export const SERVICE_OWNER: Owner = Object.freeze({ user: SERVICE_USER, group: SERVICE_USER });
/** root writes the config, the service (group) may only read it. */
export const CONFIG_OWNER: Owner = Object.freeze({ user: "root", group: SERVICE_USER });

/** /etc/cvety-sidecar, the state and log folders the service writes, and /opt/cvety-sidecar. */
export function directoriesStep(opts: { stateDir: string; logFile: string }): Step {
  return {
    title: "directories",
    async plan({ system }) {
      const dirs: Array<[string, number, Owner]> = [
        [LAYOUT.configDir, 0o750, CONFIG_OWNER],
        [opts.stateDir, 0o750, SERVICE_OWNER],
        ...(opts.logFile === "-"
          ? []
          : ([[dirname(opts.logFile), 0o750, SERVICE_OWNER]] as Array<[string, number, Owner]>)),
        [LAYOUT.codeDir, 0o755, ROOT_OWNER],
      ];
      const items = [];
      for (const [path, mode, owner] of dirs) {
        items.push(...(await ensureDirectory(system, path, { mode, owner, tags: ["dirs"] })));
      }
      return items;
    },
  };
}
