import { dirname, isAbsolute } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Config } from "../config/config-schema.js";
import { ConfigError, describeError } from "../errors.js";
import type { Logger } from "../log/create-logger.js";
import { type ConfigDiff, diffConfig, keepRestartKeys } from "./config-diff.js";

/**
 * Hot reload: re-reads the config (on a file change or SIGHUP), diffs it
 * with the running one and applies the live part. An invalid file is logged
 * with its key and file and ignored: the running config stays. Watches the
 * config file and, when the MySQL credentials come from Bitrix's
 * .settings.php, that file too. File events are debounced (editors write
 * twice, or write a temp file and rename it); reloads never overlap.
 */

/** Editors write a file in several steps within a few milliseconds. */
export const RELOAD_DEBOUNCE_MS = 300;

/** The watcher scans two small folders; this is only a bound, never expected. */
const WATCH_READY_TIMEOUT_MS = 5_000;

export type ReloadResult = "applied" | "unchanged" | "refused" | "failed";

export interface ConfigReloaderOptions {
  initial: Config;
  log: Logger;
  /** Reads and validates the file again (loadConfig with the running path). */
  load: () => Promise<Config>;
  /** Applies the live part; throws when the change cannot be built (nothing applied then). */
  apply: (running: Config, next: Config, diff: ConfigDiff) => Promise<void>;
  onResult?: (result: ReloadResult) => void;
  debounceMs?: number;
}

export class ConfigReloader {
  private running: Config;
  private watcher: FSWatcher | undefined;
  private watched = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: ConfigReloaderOptions) {
    this.running = opts.initial;
  }

  get config(): Config {
    return this.running;
  }

  /**
   * Starts watching the config file (and Bitrix's settings file when the
   * credentials come from it); resolves once the watcher is ready, so a
   * change made after the daemon said it started is never missed.
   */
  watch(): Promise<void> {
    const files = () => this.filesToWatch();
    this.watcher = watch([...new Set(files().map((f) => dirname(f)))], {
      ignoreInitial: true,
      depth: 0,
      // Only the folders themselves and the files we read: Bitrix's folder holds much else.
      ignored: (path) => {
        const wanted = files();
        return !wanted.includes(path) && !wanted.some((f) => dirname(f) === path);
      },
    });
    this.watched = new Set(files());
    const onEvent = (path: string) => {
      if (this.watched.has(path)) this.schedule(`file changed: ${path}`);
    };
    this.watcher.on("add", onEvent).on("change", onEvent).on("unlink", onEvent);
    this.watcher.on("error", (err) =>
      this.opts.log.warn({ component: "config", err: describeError(err) }, "config watch failed"),
    );
    const watcher = this.watcher;
    // Never hold the start back for long: a slow scan only delays noticing changes, SIGHUP still works.
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, WATCH_READY_TIMEOUT_MS).unref();
      watcher.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Re-reads now (SIGHUP); waits for a reload in progress first. */
  reload(reason: string): Promise<ReloadResult> {
    const run = this.chain.then(() => this.reloadOnce(reason));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.chain;
  }

  private schedule(reason: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.closed) void this.reload(reason);
    }, this.opts.debounceMs ?? RELOAD_DEBOUNCE_MS);
  }

  private filesToWatch(): string[] {
    const files = [this.running.file];
    // `source` is "config", "env", or the absolute path of the Bitrix file the credentials came from.
    const source = this.running.mysqlTarget.source;
    if (isAbsolute(source)) files.push(source);
    return files;
  }

  private async reloadOnce(reason: string): Promise<ReloadResult> {
    if (this.closed) return "unchanged";
    const { log } = this.opts;
    let result: ReloadResult;
    try {
      result = await this.tryReload(reason);
      if (result === "applied") this.rewatch();
    } catch (err) {
      // A reload is never worth the daemon: whatever went wrong, the running config stays.
      log.error({ component: "config", reason, err: describeError(err) }, "config reload failed");
      result = "failed";
    }
    this.opts.onResult?.(result);
    if (result === "failed")
      log.warn({ component: "config" }, "config reload failed, keeping the running config");
    return result;
  }

  private async tryReload(reason: string): Promise<ReloadResult> {
    const { log } = this.opts;
    let next: Config;
    try {
      next = await this.opts.load();
    } catch (err) {
      if (!(err instanceof ConfigError)) {
        log.error({ component: "config", reason, err: describeError(err) }, "config reload failed");
        return "failed";
      }
      // The message names the file and key, never a secret value (config-issues.ts).
      log.error(
        { component: "config", reason, file: err.file ?? this.running.file, key: err.key, err: err.message },
        "config reload refused, keeping the running config",
      );
      return "refused";
    }
    const diff = diffConfig(this.running, next);
    if (diff.changed.length === 0) {
      log.info({ component: "config", reason }, "config unchanged");
      return "unchanged";
    }
    const kept = keepRestartKeys(this.running, next);
    if (diff.live.length > 0) {
      try {
        await this.opts.apply(this.running, kept, diff);
      } catch (err) {
        log.error(
          { component: "config", reason, changed: diff.live, err: describeError(err) },
          "config reload refused, keeping the running config",
        );
        return "refused";
      }
    }
    this.running = kept;
    if (diff.needsRestart.length > 0)
      log.warn({ component: "config", keys: diff.needsRestart }, "config change needs a restart");
    log.info(
      { component: "config", reason, changed: diff.live, needsRestart: diff.needsRestart },
      "config reloaded",
    );
    // Last, so that "config reloaded" is written even when the new level hides info lines.
    if (diff.live.includes("log.level")) log.level = kept.log.level;
    return "applied";
  }

  /** bitrix.root or the credentials' source may have moved: watch what the running config reads now. */
  private rewatch(): void {
    if (!this.watcher) return;
    const now = new Set(this.filesToWatch());
    const add = [...now].filter((f) => !this.watched.has(f));
    const gone = [...this.watched].filter((f) => !now.has(f));
    this.watched = now;
    if (add.length > 0) this.watcher.add(add.map((f) => dirname(f)));
    if (gone.length > 0) {
      const keepDirs = new Set([...now].map((f) => dirname(f)));
      const drop = gone.map((f) => dirname(f)).filter((d) => !keepDirs.has(d));
      if (drop.length > 0) this.watcher.unwatch(drop);
    }
  }
}
