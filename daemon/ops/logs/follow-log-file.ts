import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readLinesForward } from "./read-log-lines.js";

/**
 * `logs -f`: tail -F semantics over the log path, through both rotations
 * logrotate can do, without losing or repeating a line:
 *
 * - rename + create (our logrotate file; the daemon reopens on SIGHUP): the
 *   path gets a new inode. The old file stays open and is read to its end
 *   until the new one has data: the daemon is the only writer and writes the
 *   old file entirely before the first byte of the new one, so from then on
 *   the old file is complete. The new file is read from its start.
 * - copytruncate: same inode, it shrinks (or was refilled past our offset,
 *   which a fingerprint of the last bytes read catches). The bytes between
 *   our offset and the truncation are read from the copy (`<log>.1`,
 *   `<log>-<date>`), found by the same fingerprint; then the file is read from 0.
 *
 * Polls (one fstat and one stat per interval): inotify misses renames on some
 * file systems and is no cheaper at this rate.
 */

export const FOLLOW_POLL_MS = 200;
/** Bytes before the read offset remembered to recognise the same content elsewhere. */
const FINGERPRINT_BYTES = 128;
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|z|zip)$/i;

export interface FollowOptions {
  path: string;
  /** The file already read up to `pos` (complete lines only); without it the path is read from its start. */
  start?: { file: FileHandle; pos: number };
  onLine: (line: string) => void | Promise<void>;
  /** Things a person should know (waiting for the file, a truncation whose lost part could not be found). */
  onNotice?: (message: string) => void;
  signal: AbortSignal;
  pollMs?: number;
}

interface Tracked {
  file: FileHandle;
  ino: number;
  dev: number;
  /** Offset just after the last complete line read. */
  pos: number;
  /** The FINGERPRINT_BYTES before `pos`. */
  fp: Buffer;
  /** The file's first bytes (up to FINGERPRINT_BYTES), once seen: a truncation changes them. */
  head: Buffer;
}

export async function followLogFile(opts: FollowOptions): Promise<void> {
  const follower = new LogFollower(opts);
  try {
    await follower.run();
  } finally {
    await follower.close();
  }
}

class LogFollower {
  private current: Tracked | undefined;
  /** Rotated-away files, oldest first, still read until a newer file has data. */
  private retired: Tracked[] = [];
  private waitingNoticed = false;

  constructor(private readonly opts: FollowOptions) {}

  async run(): Promise<void> {
    if (this.opts.start) {
      const s = await this.opts.start.file.stat();
      this.current = {
        file: this.opts.start.file,
        ino: s.ino,
        dev: s.dev,
        pos: this.opts.start.pos,
        fp: await fingerprint(this.opts.start.file, this.opts.start.pos),
        head: await headOf(this.opts.start.file),
      };
    }
    while (!this.opts.signal.aborted) {
      await this.poll();
      try {
        await sleep(this.opts.pollMs ?? FOLLOW_POLL_MS, undefined, { signal: this.opts.signal });
      } catch {
        break; // aborted
      }
    }
  }

  async close(): Promise<void> {
    for (const t of [...this.retired, ...(this.current ? [this.current] : [])])
      await t.file.close().catch(() => {});
    this.retired = [];
    this.current = undefined;
  }

  /** One round: notice a new file at the path, finish rotated files, read what is new. */
  async poll(): Promise<void> {
    await this.checkPath();
    const sizes = await Promise.all(
      [...this.retired, ...(this.current ? [this.current] : [])].map(async (t) => {
        const size = (await t.file.stat()).size;
        // Remember how a file begins as soon as it has data, even before it is read: if it is
        // copied and truncated before we get to it, the copy is recognised by these bytes.
        if (t.head.length < FINGERPRINT_BYTES && size > t.head.length) {
          const head = await headOf(t.file);
          // Only a longer view of the same beginning; different bytes mean a truncation, found below.
          if (head.subarray(0, t.head.length).equals(t.head)) t.head = head;
        }
        return size;
      }),
    );
    // A file is complete once any newer file has data: check that BEFORE reading it, or a line the daemon
    // wrote to it between our read and its switch would come out after the newer file's lines.
    const keep: Tracked[] = [];
    for (let i = 0; i < this.retired.length; i++) {
      const t = this.retired[i]!;
      const complete = sizes.slice(i + 1).some((size) => size > 0);
      await this.readNew(t, complete);
      if (complete) await t.file.close().catch(() => {});
      else keep.push(t);
    }
    this.retired = keep;
    // While an older file may still grow, the newer one waits (it is empty anyway, as far as we checked).
    if (this.current && this.retired.length === 0) await this.readNew(this.current, false);
  }

  private async checkPath(): Promise<void> {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(this.opts.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      if (!this.current && !this.waitingNoticed) {
        this.waitingNoticed = true;
        this.opts.onNotice?.(`waiting for ${this.opts.path} to appear`);
      }
      return;
    }
    if (this.current && this.current.ino === s.ino && this.current.dev === s.dev) return;
    let file: FileHandle;
    try {
      file = await open(this.opts.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // moved again meanwhile: next round
      throw err;
    }
    const opened = await file.stat();
    if (this.current) this.retired.push(this.current);
    this.current = {
      file,
      ino: opened.ino,
      dev: opened.dev,
      pos: 0,
      fp: Buffer.alloc(0),
      head: await headOf(file),
    };
  }

  /** Emits the complete lines after `t.pos`; `final`: the file will not grow, emit a last unterminated line too. */
  private async readNew(t: Tracked, final: boolean): Promise<void> {
    const size = (await t.file.stat()).size;
    if (await this.wasTruncated(t, size)) {
      await this.recoverFromCopy(t);
      t.pos = 0;
      t.fp = Buffer.alloc(0);
      t.head = await headOf(t.file);
    }
    const end = (await t.file.stat()).size;
    if (end <= t.pos) return;
    const { next, partial } = await readLinesForward(t.file, t.pos, end, this.opts.onLine);
    if (final && partial.length > 0) await this.opts.onLine(partial.toString("utf8"));
    if (next !== t.pos) {
      t.pos = next;
      t.fp = await fingerprint(t.file, next);
    }
  }

  /** Shrunk below our offset, or its first bytes or those before our offset are no longer the ones seen. */
  private async wasTruncated(t: Tracked, size: number): Promise<boolean> {
    if (size < t.pos || size < t.head.length) return true;
    if (t.head.length > 0 && !(await bytesAt(t.file, 0, t.head.length)).equals(t.head)) return true;
    if (t.fp.length === 0) return false;
    return !(await bytesAt(t.file, t.pos - t.fp.length, t.fp.length)).equals(t.fp);
  }

  /**
   * copytruncate copied the file, then truncated it: what was written after our last read is in the copy.
   * Finds the uncompressed sibling holding the same bytes before our offset and reads the rest from it.
   */
  private async recoverFromCopy(t: Tracked): Promise<void> {
    if (t.head.length === 0) return; // never saw a byte of it: nothing to recognise a copy by
    const dir = dirname(this.opts.path);
    const base = basename(this.opts.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      names = [];
    }
    const candidates: Array<{ name: string; mtimeMs: number }> = [];
    for (const name of names) {
      if (name === base || !name.startsWith(base) || !/^[.\-_]/.test(name.slice(base.length))) continue;
      if (COMPRESSED.test(name)) continue;
      try {
        const s = await stat(join(dir, name));
        if (s.isFile() && s.size >= t.pos && !(s.ino === t.ino && s.dev === t.dev))
          candidates.push({ name, mtimeMs: s.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const c of candidates) {
      const copy = await open(join(dir, c.name), "r").catch(() => undefined);
      if (!copy) continue;
      try {
        if (!(await bytesAt(copy, 0, t.head.length)).equals(t.head)) continue;
        if (!(await fingerprint(copy, t.pos)).equals(t.fp)) continue;
        const end = (await copy.stat()).size;
        const { partial } = await readLinesForward(copy, t.pos, end, this.opts.onLine);
        if (partial.length > 0) await this.opts.onLine(partial.toString("utf8"));
        return;
      } finally {
        await copy.close();
      }
    }
    this.opts.onNotice?.(
      `${this.opts.path} was truncated and no copy of it was found: lines written just before the truncation may be missing`,
    );
  }
}

/** The FINGERPRINT_BYTES before `pos`. */
function fingerprint(file: FileHandle, pos: number): Promise<Buffer> {
  const len = Math.min(FINGERPRINT_BYTES, pos);
  return bytesAt(file, pos - len, len);
}

/** The first FINGERPRINT_BYTES of the file (fewer if it is shorter). */
function headOf(file: FileHandle): Promise<Buffer> {
  return bytesAt(file, 0, FINGERPRINT_BYTES);
}

async function bytesAt(file: FileHandle, pos: number, len: number): Promise<Buffer> {
  if (len <= 0) return Buffer.alloc(0);
  const buf = Buffer.alloc(len);
  const { bytesRead } = await file.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}
