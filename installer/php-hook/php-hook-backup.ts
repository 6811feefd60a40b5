import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { HostSystem } from "../host-system.js";
import { LAYOUT } from "../install-layout.js";
import { replaceFileAtomically } from "../plan/replace-file.js";

/**
 * What the installer changed in Bitrix's init.php files, so that uninstall
 * can put back the exact original bytes. Kept in /var/backups/cvety-sidecar
 * (root-only, outside the web root): an init.php may hold the old hook's token.
 */

export interface HookBackupEntry {
  /** System path of the init.php. */
  path: string;
  /** File name of the original's copy in LAYOUT.backupDir. */
  backup: string;
  originalSha256: string;
  /** The file as the installer left it: restoring is safe only while it still is. */
  modifiedSha256: string;
  lines: number[];
}

export interface HookBackupManifest {
  files: HookBackupEntry[];
}

const MANIFEST_FILE = "php-hook.json";

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function backupFileName(path: string): string {
  return `${path.replace(/^\/+/, "").replace(/[^A-Za-z0-9._-]+/g, "_")}.orig`;
}

export async function readHookManifest(system: HostSystem): Promise<HookBackupManifest> {
  try {
    const text = await readFile(join(system.path(LAYOUT.backupDir), MANIFEST_FILE), "utf8");
    return JSON.parse(text) as HookBackupManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { files: [] };
    throw err;
  }
}

export async function writeHookManifest(system: HostSystem, manifest: HookBackupManifest): Promise<void> {
  const dir = system.path(LAYOUT.backupDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if (manifest.files.length === 0) {
    await rm(join(dir, MANIFEST_FILE), { force: true });
    return;
  }
  await replaceFileAtomically(
    join(dir, MANIFEST_FILE),
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    {
      mode: 0o600,
    },
  );
}

/** Keeps the original bytes of `path` (a system path) in the backup folder. */
export async function saveOriginal(
  system: HostSystem,
  entry: HookBackupEntry,
  original: Buffer,
): Promise<void> {
  const dir = system.path(LAYOUT.backupDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await replaceFileAtomically(join(dir, entry.backup), original, { mode: 0o600 });
}

export async function readOriginal(system: HostSystem, entry: HookBackupEntry): Promise<Buffer> {
  return readFile(join(system.path(LAYOUT.backupDir), entry.backup));
}

export async function removeOriginal(system: HostSystem, entry: HookBackupEntry): Promise<void> {
  await rm(join(system.path(LAYOUT.backupDir), entry.backup), { force: true });
}
