import { readFile } from "node:fs/promises";
import { LAYOUT } from "../install-layout.js";
import { type InstallSettings, secretsFor } from "../install-settings.js";
import { ensureFile, lstatOrUndefined, ROOT_OWNER, writeFileAtomically } from "../plan/file-items.js";
import type { PlanItem, Step } from "../plan/plan-item.js";
import { renderConfig } from "../render/render-config.js";
import { renderSecretsEnv } from "../render/secrets-env-file.js";
import { CONFIG_OWNER } from "./directories-step.js";

/**
 * config.toml (kept when it exists, unless --force; then the old one is
 * saved as config.toml.<time>.bak first), secrets.env (0600 root:root: the
 * token and MySQL secrets, for systemd's EnvironmentFile=) and the copy of
 * the CRM's CA file.
 */
export function configStep(settings: InstallSettings, now: () => Date = () => new Date()): Step {
  return {
    title: "config",
    async plan({ system }) {
      const items: PlanItem[] = [];
      if (settings.crm.caSource !== undefined) {
        const ca = await readFile(settings.crm.caSource);
        items.push(
          ...(await ensureFile(system, LAYOUT.crmCaFile, ca, {
            mode: 0o644,
            owner: ROOT_OWNER,
            tags: ["config"],
          })),
        );
      }
      if (settings.keepConfig) {
        items.push({ kind: "unchanged", what: `kept ${LAYOUT.configFile} (it exists; --force replaces it)` });
      } else {
        const text = renderConfig(settings);
        const planned = await ensureFile(system, LAYOUT.configFile, text, {
          mode: 0o640,
          owner: CONFIG_OWNER,
          tags: ["config"],
        });
        const host = system.path(LAYOUT.configFile);
        if (planned.some((i) => i.kind === "change") && (await lstatOrUndefined(host)) !== undefined) {
          const backup = `${LAYOUT.configFile}.${now().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}.bak`;
          items.push({
            kind: "change",
            done: `saved the old config as ${backup}`,
            planned: `save the old config as ${backup}`,
            apply: async () => {
              await writeFileAtomically(system, system.path(backup), await readFile(host), {
                mode: 0o600,
                owner: ROOT_OWNER,
              });
            },
          });
        }
        items.push(...planned);
      }
      const secrets = renderSecretsEnv(secretsFor(settings));
      items.push(
        ...(await ensureFile(system, LAYOUT.secretsFile, secrets, {
          mode: 0o600,
          owner: ROOT_OWNER,
          tags: ["secrets"],
        })),
      );
      return items;
    },
  };
}
