import { readFile, stat } from "node:fs/promises";
import { ConfigError } from "../errors.js";

/**
 * Reads a config-sized text file, refusing anything that could hang or
 * exhaust memory: a FIFO or device would block `readFile` forever, and a
 * huge file is a mistake, not a settings file. Every failure is a
 * ConfigError naming the path and the OS error code.
 */

const CODE_DESCRIPTIONS: Record<string, string> = {
  EACCES: "permission denied; the user running cvety-sidecar needs read access",
  EPERM: "operation not permitted",
  EISDIR: "is a directory, not a file",
  ELOOP: "too many symbolic links",
  EIO: "I/O error",
  EMFILE: "too many open files",
  ENAMETOOLONG: "path too long",
};

export interface ReadSmallFileOptions {
  /** What the file is, for messages: "config file", "Bitrix settings file". */
  what: string;
  maxBytes: number;
}

/** The file's text (UTF-8), or undefined when nothing exists at `path`. */
export async function readSmallTextFile(
  path: string,
  options: ReadSmallFileOptions,
): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (!info.isFile()) {
      throw new ConfigError(`${path}: cannot read ${options.what}: not a regular file`, { file: path });
    }
    if (info.size > options.maxBytes) {
      throw new ConfigError(
        `${path}: ${options.what} is ${info.size} bytes, more than the ${options.maxBytes} allowed: is this the right file?`,
        { file: path },
      );
    }
    const bytes = await readFile(path);
    return new TextDecoder("utf-8").decode(bytes);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = errorCode(err);
    // ENOTDIR: a parent is a file (e.g. bitrix.root points at a file): nothing is there either.
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    const detail = code === undefined ? String(err) : `${code}: ${CODE_DESCRIPTIONS[code] ?? "cannot read"}`;
    throw new ConfigError(`${path}: cannot read ${options.what} (${detail})`, { file: path, cause: err });
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
