import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LAYOUT } from "../install-layout.js";
import type { InstallSettings } from "../install-settings.js";
import { ensureFile, ROOT_OWNER, removePath } from "../plan/file-items.js";
import type { PlanItem, Step } from "../plan/plan-item.js";
import { renderLogrotate, renderUnit } from "../render/render-unit.js";

export const UNIT_TEMPLATE = join("systemd", "cvety-sidecar.service");
export const LOGROTATE_TEMPLATE = join("systemd", "cvety-sidecar.logrotate");

/** What the daemon reads at run time besides its code and config: Bitrix's .settings.php only without a MySQL URL. */
export function pathsTheDaemonReads(s: InstallSettings): string[] {
  const usesBitrixSettings = s.mysql.configUrl === undefined && s.mysql.secretUrl === undefined;
  return [s.nodePath, ...(usesBitrixSettings ? [s.bitrixRoot] : [])];
}

export function pathsTheDaemonWrites(s: InstallSettings): string[] {
  return [s.stateDir, ...(s.logFile === "-" ? [] : [dirname(s.logFile)])];
}

export function unitText(s: InstallSettings, template: string): string {
  return renderUnit(template, {
    version: s.version,
    nodePath: s.nodePath,
    binJs: LAYOUT.binJs,
    configFile: LAYOUT.configFile,
    secretsFile: LAYOUT.secretsFile,
    writablePaths: pathsTheDaemonWrites(s),
    readPaths: pathsTheDaemonReads(s),
  });
}

/** /etc/systemd/system/cvety-sidecar.service and /etc/logrotate.d/cvety-sidecar. */
export function systemdFilesStep(s: InstallSettings): Step {
  return {
    title: "systemd unit",
    async plan({ system }) {
      const template = await readFile(join(s.packageDir, UNIT_TEMPLATE), "utf8");
      const items: PlanItem[] = await ensureFile(system, LAYOUT.unitFile, unitText(s, template), {
        mode: 0o644,
        owner: ROOT_OWNER,
        tags: ["unit"],
      });
      if (s.logFile === "-") {
        items.push(...(await removePath(system, LAYOUT.logrotateFile)));
      } else {
        const rotate = await readFile(join(s.packageDir, LOGROTATE_TEMPLATE), "utf8");
        items.push(
          ...(await ensureFile(
            system,
            LAYOUT.logrotateFile,
            renderLogrotate(rotate, { version: s.version, logFile: s.logFile }),
            {
              mode: 0o644,
              owner: ROOT_OWNER,
              tags: ["logrotate"],
            },
          )),
        );
      }
      return items;
    },
  };
}
