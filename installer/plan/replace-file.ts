import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces a file atomically: a temp file in the same folder, written and
 * fsynced, given its mode and owner, then renamed over the old one. A crash
 * leaves the old file or the new one, never half of one; a reader (PHP
 * including init.php mid-request) sees one or the other. `beforeRename`
 * sees the finished temp file (`php -l` runs there).
 */
export async function replaceFileAtomically(
  host: string,
  bytes: Buffer,
  opts: {
    mode: number;
    owner?: { uid: number; gid: number };
    beforeRename?: (tempPath: string) => Promise<void>;
  },
): Promise<void> {
  await mkdir(dirname(host), { recursive: true, mode: 0o755 });
  const temp = join(dirname(host), `.${basename(host)}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", opts.mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temp, opts.mode);
    if (opts.owner !== undefined) {
      const made = await stat(temp);
      if (made.uid !== opts.owner.uid || made.gid !== opts.owner.gid)
        await chown(temp, opts.owner.uid, opts.owner.gid);
    }
    await opts.beforeRename?.(temp);
    await rename(temp, host);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
