import type { FileHandle } from "node:fs/promises";
import { parseLogLine } from "./format-log-line.js";

/** Longest line looked at when probing: a probe that finds no newline in this many bytes gives up. */
const PROBE_BYTES = 256 * 1024;

/**
 * Where `--since` starts reading: the offset of a line at or before the first
 * line whose time is >= sinceMs, found by bisecting the file (the log is
 * written in time order), so `--since 15m` on a 1 GB log reads a few
 * kilobytes before it reaches the lines it prints. Lines are still filtered
 * one by one after it, so a line a little out of order costs nothing but is
 * never shown too early. Returns 0 when unsure.
 */
export async function findSinceOffset(file: FileHandle, size: number, sinceMs: number): Promise<number> {
  let lo = 0; // a line start known to be at or before the answer
  let hi = size;
  const buf = Buffer.allocUnsafe(PROBE_BYTES);
  for (let rounds = 0; rounds < 64 && hi - lo > PROBE_BYTES; rounds++) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const probe = await firstTimedLineAfter(file, buf, mid, hi);
    if (!probe) {
      hi = mid;
      continue;
    }
    if (probe.timeMs < sinceMs) lo = probe.start;
    else hi = mid;
  }
  return lo;
}

/** The first line starting after `from` (and before `limit`) that has a time, with its start offset. */
async function firstTimedLineAfter(
  file: FileHandle,
  buf: Buffer,
  from: number,
  limit: number,
): Promise<{ start: number; timeMs: number } | undefined> {
  const { bytesRead } = await file.read(buf, 0, Math.min(PROBE_BYTES, limit - from), from);
  const chunk = buf.subarray(0, bytesRead);
  let nl = chunk.indexOf(0x0a);
  while (nl !== -1) {
    const start = nl + 1;
    const end = chunk.indexOf(0x0a, start);
    if (end === -1) return undefined;
    const parsed = parseLogLine(chunk.subarray(start, end).toString("utf8"));
    if (parsed.kind === "json" && parsed.record.timeMs !== undefined)
      return { start: from + start, timeMs: parsed.record.timeMs };
    nl = end;
  }
  return undefined;
}
