import type { FileHandle } from "node:fs/promises";

/**
 * Streaming line readers over an open log file: forward from an offset, and
 * backwards from the end for `-n`. Both work in fixed chunks, so a 1 GB log
 * costs memory for one chunk and the lines kept, never the file. Lines are
 * split on the byte 0x0A, which never occurs inside a UTF-8 sequence.
 */

export const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Calls `onLine` for each complete line in [start, end), in order.
 * Returns the offset just after the last complete line and the bytes of a
 * trailing line without its newline (a write in progress), if any.
 */
export async function readLinesForward(
  file: FileHandle,
  start: number,
  end: number,
  onLine: (line: string) => void | Promise<void>,
): Promise<{ next: number; partial: Buffer }> {
  let pos = start;
  let carry: Buffer = Buffer.alloc(0);
  let lineStart = start;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  while (pos < end) {
    const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK_BYTES, end - pos), pos);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    let from = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, i);
      const line = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      carry = Buffer.alloc(0);
      lineStart = pos + i + 1;
      await onLine(line.toString("utf8"));
      from = i + 1;
    }
    if (from < chunk.length) carry = Buffer.concat([carry, chunk.subarray(from)]);
    pos += bytesRead;
  }
  return { next: lineStart, partial: carry };
}

/**
 * The last `n` lines in [0, end) that `keep` accepts, oldest first, read
 * backwards chunk by chunk. `keep` may answer "stop" to end the search early
 * (e.g. a line older than --since: everything before it is older too).
 * A trailing line without newline is included only with `includePartial`.
 * Returns the lines and the offset after the last complete line.
 */
export async function readLastLines(
  file: FileHandle,
  end: number,
  n: number,
  keep: (line: string) => boolean | "stop",
  opts: { includePartial?: boolean } = {},
): Promise<{ lines: string[]; next: number }> {
  const kept: string[] = [];
  let pos = end;
  let carry: Buffer = Buffer.alloc(0);
  let next: number | undefined;
  let stopped = false;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const consider = (bytes: Buffer): void => {
    if (stopped || kept.length >= n) return;
    const line = bytes.toString("utf8");
    const verdict = keep(line);
    if (verdict === "stop") stopped = true;
    else if (verdict) kept.push(line);
  };
  // Done once enough lines are kept AND the last newline was found (the follower starts there, also for n = 0).
  const done = () => next !== undefined && (stopped || kept.length >= n);
  while (pos > 0 && !done()) {
    const size = Math.min(CHUNK_BYTES, pos);
    pos -= size;
    const { bytesRead } = await file.read(buf, 0, size, pos);
    const chunk = Buffer.from(buf.subarray(0, bytesRead));
    let to = chunk.length;
    for (
      let i = chunk.lastIndexOf(NEWLINE, to - 1);
      i !== -1;
      i = to > 0 ? chunk.lastIndexOf(NEWLINE, to - 1) : -1
    ) {
      const piece = chunk.subarray(i + 1, to);
      const line = carry.length > 0 ? Buffer.concat([piece, carry]) : piece;
      carry = Buffer.alloc(0);
      if (next === undefined) {
        next = pos + i + 1;
        // The bytes after the last newline are a line still being written: kept only on request.
        if (line.length > 0 && opts.includePartial) consider(line);
      } else if (line.length > 0) consider(line);
      to = i;
      if (done()) break;
    }
    if (to > 0 && !done()) carry = Buffer.concat([chunk.subarray(0, to), carry]);
  }
  if (pos === 0 && carry.length > 0 && !done()) {
    // The first line of the file (or the only, unterminated one).
    if (next === undefined) {
      if (opts.includePartial) consider(carry);
    } else consider(carry);
  }
  return { lines: kept.reverse(), next: next ?? 0 };
}
