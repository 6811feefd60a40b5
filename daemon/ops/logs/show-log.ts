import { type FileHandle, open } from "node:fs/promises";
import { SidecarError } from "../../errors.js";
import { findSinceOffset } from "./find-since-offset.js";
import { followLogFile } from "./follow-log-file.js";
import { formatLogRecord, LEVEL_VALUES, type LogLevelName, parseLogLine } from "./format-log-line.js";
import { type LogFilter, matchesLogFilter } from "./log-filter.js";
import { readLastLines, readLinesForward } from "./read-log-lines.js";

export interface ShowLogOptions {
  file: string;
  filter: LogFilter;
  follow: boolean;
  /** Last N matching lines first; undefined = all. */
  lines: number | undefined;
  /** Pass the matching JSON lines through unchanged. */
  json: boolean;
  color: boolean;
  /** Writes one output line (with its newline); resolves when the output can take more. */
  write: (text: string) => Promise<void> | void;
  notice: (message: string) => void;
  signal: AbortSignal;
  pollMs?: number;
}

/** The text to print for one log line, or undefined when the filter leaves it out. */
export function renderLogLine(
  line: string,
  o: Pick<ShowLogOptions, "filter" | "json" | "color">,
): string | undefined {
  if (line === "" || cannotMatch(line, o.filter)) return undefined;
  const parsed = parseLogLine(line);
  if (!matchesLogFilter(parsed, o.filter)) return undefined;
  if (parsed.kind === "text") return o.json ? undefined : parsed.text;
  return o.json ? parsed.record.raw : formatLogRecord(parsed.record, { color: o.color });
}

const PINO_LEVEL_PREFIX = /^\{"level":"([a-z]+)"/;

/**
 * Cheap rejections before JSON.parse, which is most of the cost of scanning a
 * large log: a line about order 122401 contains "122401"; pino writes the
 * level first. Never rejects a line the full filter would keep.
 */
function cannotMatch(line: string, f: LogFilter): boolean {
  if (f.orderId !== undefined && !line.includes(f.orderId)) return true;
  if (f.minLevel !== undefined) {
    const label = PINO_LEVEL_PREFIX.exec(line)?.[1];
    const value = label === undefined ? undefined : LEVEL_VALUES[label as LogLevelName];
    if (value !== undefined && value < f.minLevel) return true;
  }
  return false;
}

/**
 * `cvety-sidecar logs`: the lines already in the file (all, or the last N
 * matching, read backwards), then with `follow` whatever is appended, across
 * rotations. Streams: memory holds one chunk plus the N lines kept.
 */
export async function showLog(o: ShowLogOptions): Promise<void> {
  const emit = async (line: string) => {
    const text = renderLogLine(line, o);
    if (text !== undefined) await o.write(`${text}\n`);
  };
  let file: FileHandle | undefined;
  try {
    file = await open(o.file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && o.follow) {
      return followLogFile({ path: o.file, onLine: emit, onNotice: o.notice, signal: o.signal, ...poll(o) });
    }
    throw new SidecarError(
      "E_LOG_READ",
      code === "ENOENT"
        ? `log file ${o.file} does not exist (is [log] file right? has the daemon run yet?)`
        : code === "EACCES"
          ? `cannot read log file ${o.file}: permission denied (run as root, or as a member of the service's group)`
          : `cannot read log file ${o.file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let handedOver = false;
  try {
    const size = (await file.stat()).size;
    let next: number;
    if (o.lines !== undefined) {
      const sinceMs = o.filter.sinceMs;
      const found = await readLastLines(
        file,
        size,
        o.lines,
        (line) => {
          const parsed = parseLogLine(line);
          // The log is in time order: past a line older than --since, every line is older.
          if (sinceMs !== undefined && parsed.kind === "json" && (parsed.record.timeMs ?? sinceMs) < sinceMs)
            return "stop";
          return renderLogLine(line, o) !== undefined;
        },
        { includePartial: !o.follow },
      );
      for (const line of found.lines) await emit(line);
      next = found.next;
    } else {
      const start = o.filter.sinceMs === undefined ? 0 : await findSinceOffset(file, size, o.filter.sinceMs);
      const read = await readLinesForward(file, start, size, emit);
      if (!o.follow && read.partial.length > 0) await emit(read.partial.toString("utf8"));
      next = read.next;
    }
    if (!o.follow) return;
    handedOver = true;
    await followLogFile({
      path: o.file,
      start: { file, pos: next },
      onLine: emit,
      onNotice: o.notice,
      signal: o.signal,
      ...poll(o),
    });
  } finally {
    if (!handedOver) await file.close();
  }
}

function poll(o: ShowLogOptions): { pollMs?: number } {
  return o.pollMs === undefined ? {} : { pollMs: o.pollMs };
}
