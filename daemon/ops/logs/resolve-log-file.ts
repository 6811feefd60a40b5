import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { loadConfig, MAX_CONFIG_FILE_BYTES, resolveConfigPath } from "../../config/load-config.js";
import { readSmallTextFile } from "../../config/read-small-file.js";
import { ConfigError, SidecarError } from "../../errors.js";

export const DEFAULT_LOG_FILE = "/var/log/cvety-sidecar/sidecar.log";

/**
 * Which file `logs` reads: `--file`, else `[log] file` of the config. The log
 * matters most when the config is broken (a bad key makes the daemon exit 78),
 * so a config that does not validate still yields its `[log] file` when the
 * TOML can be read; the caller says so on stderr.
 */
export async function resolveLogFile(opts: {
  file?: string;
  config?: string;
}): Promise<{ file: string; warning?: string }> {
  if (opts.file !== undefined) return { file: resolve(opts.file) };
  let file: string;
  try {
    file = (await loadConfig({ path: opts.config })).log.file;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const fallback = await logFileFromToml(resolveConfigPath(opts.config));
    if (fallback === undefined) throw err;
    file = fallback;
    const problems = err.message.split("\n").join("; ");
    return checked(file, `the config does not load (${problems}); reading ${file} anyway`);
  }
  return checked(file);
}

function checked(file: string, warning?: string): { file: string; warning?: string } {
  if (file === "-") {
    throw new SidecarError(
      "E_LOG_STDOUT",
      '[log] file = "-": the daemon logs to its standard output; under systemd read it with journalctl -u cvety-sidecar',
    );
  }
  return warning === undefined ? { file } : { file, warning };
}

/** `[log] file` straight from the TOML, resolved like loadConfig does; undefined when unreadable. */
async function logFileFromToml(configPath: string): Promise<string | undefined> {
  try {
    const text = await readSmallTextFile(configPath, {
      what: "config file",
      maxBytes: MAX_CONFIG_FILE_BYTES,
    });
    if (text === undefined) return undefined;
    const doc = parseToml(text) as Record<string, unknown>;
    const log = doc["log"] as Record<string, unknown> | undefined;
    const file = log?.["file"];
    if (file === undefined) return DEFAULT_LOG_FILE;
    if (typeof file !== "string" || file === "") return undefined;
    return file === "-" ? file : resolve(dirname(configPath), file);
  } catch {
    return undefined;
  }
}
