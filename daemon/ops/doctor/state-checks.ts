import { constants, existsSync, statSync } from "node:fs";
import { access, statfs } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import type { Config } from "../../config/config-schema.js";
import { STATE_DB_FILE } from "../../outbox/open-state-db.js";
import { type CheckResult, fail, ok, skip, warn } from "./check-result.js";

/** Below this a disk is getting full. */
export const DISK_WARN_BYTES = 1024 ** 3;
/** Below this SQLite and the log may fail to write at any moment. */
export const DISK_FAIL_BYTES = 100 * 1024 ** 2;

/**
 * `PRAGMA integrity_check` on the outbox, opened read-only: safe while the
 * daemon runs (WAL lets a reader look at a consistent snapshot).
 */
export function checkStateIntegrity(config: Config): CheckResult {
  const name = "state integrity";
  const file = join(config.state.dir, STATE_DB_FILE);
  if (!existsSync(file))
    return warn(
      name,
      `${file} does not exist yet`,
      "the daemon creates it on its first start (cvety-sidecar run)",
    );
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    const problems = (db.pragma("integrity_check") as Array<{ integrity_check: string }>).map(
      (r) => r.integrity_check,
    );
    const mb = (statSync(file).size / 1024 ** 2).toFixed(1);
    if (problems.length === 1 && problems[0] === "ok") return ok(name, `${file}: ok (${mb} MB)`);
    return fail(
      name,
      `${file}: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ""}`,
      "stop the daemon, keep a copy of the state dir, then recover with sqlite3 outbox.db '.recover' and report it",
    );
  } catch (err) {
    return fail(
      name,
      `cannot open ${file}: ${(err as Error).message}`,
      "check the file's owner and permissions",
    );
  } finally {
    db?.close();
  }
}

/** Free space where `path` lives (the nearest existing folder when it is not there yet). */
export async function checkDiskSpace(label: string, path: string): Promise<CheckResult> {
  const name = `disk space (${label})`;
  const where = nearestExisting(path);
  try {
    const s = await statfs(where);
    return diskVerdict(name, path, s.bavail * s.bsize);
  } catch (err) {
    return fail(name, `cannot read free space of ${where}: ${(err as Error).message}`, "check the path");
  }
}

/** Pure: warn under 1 GB, fail under 100 MB. */
export function diskVerdict(name: string, path: string, freeBytes: number): CheckResult {
  const found = `${formatBytes(freeBytes)} free for ${path}`;
  if (freeBytes < DISK_FAIL_BYTES)
    return fail(name, found, "free space now: SQLite and the log stop writing when the disk is full");
  if (freeBytes < DISK_WARN_BYTES) return warn(name, found, "free some space soon (below 1 GB)");
  return ok(name, found);
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MB`;
  return `${Math.round(n / 1024)} KB`;
}

/**
 * The log file can be appended to (or created in its folder). Checked as the
 * user running doctor, which the result says: the service's user may differ.
 */
export async function checkLogWritable(config: Config): Promise<CheckResult> {
  const name = "log writable";
  const file = config.log.file;
  if (file === "-") return skip(name, '[log] file = "-": the log goes to stdout');
  const as = `as ${userInfo().username}`;
  const target = existsSync(file) ? file : nearestExisting(dirname(file));
  try {
    await access(target, constants.W_OK);
    return ok(name, target === file ? `${file} writable ${as}` : `${file} can be created in ${target} ${as}`);
  } catch (err) {
    return fail(
      name,
      `${file} is not writable ${as}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      "chown the log folder to the service user (the installer creates /var/log/cvety-sidecar for it)",
    );
  }
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}
