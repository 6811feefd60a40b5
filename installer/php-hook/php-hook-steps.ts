import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { execCommand, type HostSystem } from "../host-system.js";
import { InstallStepError } from "../install-errors.js";
import { LAYOUT } from "../install-layout.js";
import { lstatOrUndefined } from "../plan/file-items.js";
import type { PlanItem, Step } from "../plan/plan-item.js";
import { replaceFileAtomically } from "../plan/replace-file.js";
import { commentOutLines, findPhpHook, type HookFinding } from "./find-php-hook.js";
import {
  backupFileName,
  type HookBackupEntry,
  readHookManifest,
  readOriginal,
  removeOriginal,
  saveOriginal,
  sha256,
  writeHookManifest,
} from "./php-hook-backup.js";

/**
 * Taking over from the old PHP hook (--disable-php-hook) and giving it back
 * (uninstall). Bitrix includes local/php_interface/init.php instead of
 * bitrix/php_interface/init.php when the local one exists, and the CRM
 * team's docs disagree on which one holds the hook: both are looked at.
 */

export const INIT_PHP_FILES = ["local/php_interface/init.php", "bitrix/php_interface/init.php"] as const;

export interface FoundHook {
  /** System path of the init.php. */
  path: string;
  finding: HookFinding;
}

/** The init.php files that still carry an active webhook (for the preflight warning). */
export async function detectPhpHooks(system: HostSystem, bitrixRoot: string): Promise<FoundHook[]> {
  const found: FoundHook[] = [];
  for (const relative of INIT_PHP_FILES) {
    const path = join(bitrixRoot, relative);
    const bytes = await readIfExists(system.path(path));
    if (bytes === undefined) continue;
    const finding = findPhpHook(bytes.toString("utf8"), path);
    if (finding.lines.length > 0) found.push({ path, finding });
  }
  return found;
}

export function disablePhpHookStep(bitrixRoot: string): Step {
  return {
    title: "PHP hook",
    async plan({ system }) {
      const manifest = await readHookManifest(system);
      const items: PlanItem[] = [];
      for (const relative of INIT_PHP_FILES) {
        const path = join(bitrixRoot, relative);
        const host = system.path(path);
        const original = await readIfExists(host);
        if (original === undefined) continue;
        const finding = findPhpHook(original.toString("utf8"), path);
        const known = manifest.files.find((f) => f.path === path);
        if (finding.lines.length === 0) {
          items.push({
            kind: "unchanged",
            what: known ? `unchanged ${path} (webhook already commented out)` : `no PHP webhook in ${path}`,
          });
          continue;
        }
        const modified = Buffer.from(commentOutLines(original.toString("utf8"), finding.lines), "utf8");
        const lines = `${finding.lines.length} line(s): ${finding.reasons.join("; ")}`;
        items.push({
          kind: "change",
          done: `commented out the PHP webhook in ${path}, ${lines}; original kept in ${LAYOUT.backupDir}`,
          planned: `comment out the PHP webhook in ${path}, ${lines}`,
          apply: async () => {
            const entry: HookBackupEntry = known
              ? { ...known, modifiedSha256: sha256(modified), lines: finding.lines }
              : {
                  path,
                  backup: backupFileName(path),
                  originalSha256: sha256(original),
                  modifiedSha256: sha256(modified),
                  lines: finding.lines,
                };
            // A second takeover keeps the first, pristine backup.
            if (!known) await saveOriginal(system, entry, original);
            const now = await readHookManifest(system);
            await writeHookManifest(system, { files: [...now.files.filter((f) => f.path !== path), entry] });
            const info = await stat(host);
            await replaceFileAtomically(host, modified, {
              mode: info.mode & 0o7777,
              owner: { uid: info.uid, gid: info.gid },
              beforeRename: (temp) => phpLint(temp, path),
            });
          },
        });
      }
      if (items.length === 0) {
        return [
          { kind: "unchanged", what: `no init.php under ${bitrixRoot} (${INIT_PHP_FILES.join(", ")})` },
        ];
      }
      if (items.some((i) => i.kind === "change")) {
        if ((await execCommand(["php", "-v"], { timeoutMs: 30_000 })).status === 127) {
          items.unshift({
            kind: "note",
            warning: true,
            text: "php not found: the edited init.php cannot be syntax-checked",
          });
        }
        items.push({
          kind: "note",
          text: "PHP picks this up on its next request; with opcache.validate_timestamps=0, reload PHP-FPM.",
        });
      }
      return items;
    },
  };
}

/** Uninstall: puts back the exact bytes of every init.php the installer changed. */
export function restorePhpHookStep(opts: { force: boolean }): Step {
  return {
    title: "PHP hook",
    async plan({ system }) {
      const manifest = await readHookManifest(system);
      if (manifest.files.length === 0) return [{ kind: "unchanged", what: "no init.php to restore" }];
      const items: PlanItem[] = [];
      for (const entry of manifest.files) {
        const host = system.path(entry.path);
        const current = await readIfExists(host);
        const currentSha = current === undefined ? undefined : sha256(current);
        const forget = async () => {
          await removeOriginal(system, entry);
          const now = await readHookManifest(system);
          await writeHookManifest(system, { files: now.files.filter((f) => f.path !== entry.path) });
        };
        if (currentSha === entry.originalSha256) {
          items.push({
            kind: "change",
            done: `${entry.path} is already the original; dropped its backup`,
            planned: `drop the backup of ${entry.path} (the file is already the original)`,
            apply: forget,
          });
          continue;
        }
        if (currentSha !== entry.modifiedSha256 && !opts.force) {
          throw new InstallStepError(
            "E_PHP_HOOK_CHANGED",
            `${entry.path} was changed after the installer commented out the webhook; the original is kept in ${LAYOUT.backupDir}/${entry.backup}: compare and restore it by hand, or run uninstall with --force to put it back anyway`,
          );
        }
        items.push({
          kind: "change",
          done: `restored the original ${entry.path} (PHP webhook active again)`,
          planned: `restore the original ${entry.path} (PHP webhook active again)`,
          apply: async () => {
            const original = await readOriginal(system, entry);
            if (sha256(original) !== entry.originalSha256) {
              throw new InstallStepError(
                "E_BACKUP_CORRUPT",
                `the backup of ${entry.path} does not match its checksum`,
              );
            }
            const info = await lstatOrUndefined(host);
            await replaceFileAtomically(host, original, {
              mode: info === undefined ? 0o644 : info.mode & 0o7777,
              ...(info === undefined ? {} : { owner: { uid: info.uid, gid: info.gid } }),
            });
            await forget();
          },
        });
      }
      return items;
    },
  };
}

/** `php -l` on the finished file before it replaces init.php; skipped (not failed) without PHP. */
async function phpLint(tempPath: string, path: string): Promise<void> {
  const result = await execCommand(["php", "-l", tempPath], { timeoutMs: 30_000 });
  if (result.status === 127) return;
  if (result.status !== 0) {
    const said = `${result.stdout}\n${result.stderr}`
      .split("\n")
      .filter((l) => /error/i.test(l))
      .map((l) => l.replaceAll(tempPath, path).trim());
    throw new InstallStepError(
      "E_PHP_LINT",
      `php -l rejects the edited ${path}, which was left as it was: ${[...new Set(said)].join("; ")}`,
    );
  }
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}
