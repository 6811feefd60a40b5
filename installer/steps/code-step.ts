import { randomBytes } from "node:crypto";
import { readdir, readFile, readlink, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyFiles, fingerprintFiles, listPackageContents } from "../code/package-files.js";
import { LAYOUT } from "../install-layout.js";
import { ensureFile, ensureSymlink, lstatOrUndefined, ROOT_OWNER, removePath } from "../plan/file-items.js";
import type { PlanItem, Step } from "../plan/plan-item.js";
import { renderPathCommand } from "../render/render-unit.js";

/**
 * The npx cache is temporary, so the code is copied to
 * /opt/cvety-sidecar/<version> with its production dependencies, and
 * /opt/cvety-sidecar/current points at it (the unit runs current/...). An
 * upgrade keeps the version it replaces as /opt/cvety-sidecar/previous for
 * a rollback; older ones are removed. A version folder appears only once
 * complete (copied under a temp name, then renamed), and a fingerprint in it
 * tells a re-run that the same build is already there.
 */

export const FINGERPRINT_FILE = ".cvety-sidecar-fingerprint";
export const PREVIOUS_LINK = `${LAYOUT.codeDir}/previous`;

export function codeStep(opts: { packageDir: string; nodePath: string }): Step {
  return {
    title: "code",
    async plan({ system }) {
      const contents = await listPackageContents(opts.packageDir);
      const version = contents.version;
      const versionDir = `${LAYOUT.codeDir}/${version}`;
      const codeHost = system.path(LAYOUT.codeDir);
      const versionHost = system.path(versionDir);
      const fingerprint = await fingerprintFiles(contents.files);
      const installed = await readFile(join(versionHost, FINGERPRINT_FILE), "utf8").catch(() => undefined);
      const items: PlanItem[] = [];

      if (installed?.trim() === fingerprint) {
        items.push({ kind: "unchanged", what: `unchanged ${versionDir} (cvety-sidecar ${version})` });
      } else {
        const verb =
          installed === undefined && (await lstatOrUndefined(versionHost)) === undefined ? "" : "re";
        const what = `cvety-sidecar ${version} into ${versionDir} (${contents.files.length} files)`;
        items.push({
          kind: "change",
          done: `${verb}installed ${what}`,
          planned: `${verb}install ${what}`,
          tags: ["code"],
          apply: async () => {
            const suffix = randomBytes(4).toString("hex");
            const temp = join(codeHost, `.${version}.tmp-${suffix}`);
            const old = join(codeHost, `.${version}.old-${suffix}`);
            await copyFiles(contents.files, temp);
            await writeFile(join(temp, FINGERPRINT_FILE), `${fingerprint}\n`, { mode: 0o644 });
            const replacing = (await lstatOrUndefined(versionHost)) !== undefined;
            if (replacing) await rename(versionHost, old);
            await rename(temp, versionHost);
            if (replacing) await rm(old, { recursive: true, force: true });
          },
        });
      }

      // Relative targets, so the links also work inside a --root stage.
      const currentTarget = await readlink(system.path(LAYOUT.currentLink)).catch(() => undefined);
      const previousTarget = await readlink(system.path(PREVIOUS_LINK)).catch(() => undefined);
      items.push(...(await ensureSymlink(system, LAYOUT.currentLink, version, ["code"])));
      const keepPrevious =
        currentTarget !== undefined && currentTarget !== version ? currentTarget : previousTarget;
      if (keepPrevious !== undefined && keepPrevious !== version) {
        items.push(...(await ensureSymlink(system, PREVIOUS_LINK, keepPrevious)));
      }
      items.push(...(await pruneOldVersions(system.path, new Set([version, keepPrevious ?? version]))));
      items.push(
        ...(await ensureFile(
          system,
          LAYOUT.pathCommand,
          renderPathCommand({
            nodePath: opts.nodePath,
            binJs: LAYOUT.binJs,
            secretsFile: LAYOUT.secretsFile,
            version,
          }),
          { mode: 0o755, owner: ROOT_OWNER },
        )),
      );
      return items;

      async function pruneOldVersions(
        toHost: (p: string) => string,
        keep: ReadonlySet<string>,
      ): Promise<PlanItem[]> {
        const entries = await readdir(toHost(LAYOUT.codeDir), { withFileTypes: true }).catch(() => []);
        const out: PlanItem[] = [];
        for (const entry of entries) {
          // Version folders, and temp folders a crash left behind; not the links.
          if (!entry.isDirectory() || keep.has(entry.name)) continue;
          const path = `${LAYOUT.codeDir}/${entry.name}`;
          const why = entry.name.startsWith(".")
            ? "left by an interrupted install"
            : "older than the previous version";
          for (const item of await removePath(system, path)) {
            out.push(item.kind === "change" ? { ...item, done: `${item.done} (${why})` } : item);
          }
        }
        return out;
      }
    },
  };
}
