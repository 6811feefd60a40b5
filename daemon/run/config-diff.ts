import type { Config, MysqlTarget } from "../config/config-schema.js";

/**
 * Pure: which config keys differ between the running config and a newly
 * loaded one, and which of them the daemon can apply without a restart.
 * Keys are dotted TOML names (`capture.poll_interval_ms`,
 * `writeback.status_map.paid`); only names are ever reported, never values
 * (several are secrets). `mysql credentials` stands for the resolved MySQL
 * target, which may come from Bitrix's .settings.php instead of the file.
 */

export const MYSQL_CREDENTIALS_KEY = "mysql credentials";

/** What a running daemon cannot change: they are logged as "needs a restart". */
export const RESTART_KEYS: readonly string[] = [
  "state.dir",
  "http.listen",
  "log.file",
  "mysql.pool_size",
  "mysql.connect_timeout_ms",
  "bitrix.timezone",
  "writeback.enabled",
  "writeback.source",
  "writeback.concurrency",
  "writeback.dry_run",
];

/** Whole sections a running daemon cannot change (their jobs are scheduled at start). */
export const RESTART_SECTIONS: readonly string[] = ["housekeeping"];

/** Fields of Config that are not TOML sections (resolved at load, compared on their own). */
const RESOLVED_FIELDS = new Set(["file", "mysqlTarget", "statusMap", "timezone"]);

export interface ConfigDiff {
  /** Every key that differs, sorted. */
  changed: string[];
  /** The subset applied live. */
  live: string[];
  /** The subset that waits for a restart. */
  needsRestart: string[];
}

export function diffConfig(old: Config, next: Config): ConfigDiff {
  const changed = new Set<string>();
  const sections = new Set(
    [...Object.keys(old), ...Object.keys(next)].filter((k) => !RESOLVED_FIELDS.has(k)),
  );
  for (const section of sections) {
    const a = sectionOf(old, section);
    const b = sectionOf(next, section);
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (section === "writeback" && key === "status_map") continue;
      if (!sameValue(a[key], b[key])) changed.add(`${section}.${key}`);
    }
  }
  for (const name of new Set([...Object.keys(old.statusMap), ...Object.keys(next.statusMap)]))
    if (old.statusMap[name] !== next.statusMap[name]) changed.add(`writeback.status_map.${name}`);
  if (!sameTarget(old.mysqlTarget, next.mysqlTarget)) changed.add(MYSQL_CREDENTIALS_KEY);
  if (old.timezone !== next.timezone) changed.add("bitrix.timezone");
  const all = [...changed].sort();
  const restart = (k: string) =>
    RESTART_KEYS.includes(k) || RESTART_SECTIONS.some((s) => k.startsWith(`${s}.`));
  return { changed: all, live: all.filter((k) => !restart(k)), needsRestart: all.filter(restart) };
}

/** True when any of `keys` (or a key under one of them) changed. */
export function touches(diff: ConfigDiff, ...keys: string[]): boolean {
  return diff.live.some((k) => keys.some((p) => k === p || k.startsWith(`${p}.`)));
}

function sectionOf(config: Config, section: string): Record<string, unknown> {
  const value = (config as unknown as Record<string, unknown>)[section];
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

function sameTarget(a: MysqlTarget, b: MysqlTarget): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.user === b.user &&
    a.password === b.password &&
    a.database === b.database &&
    a.socketPath === b.socketPath
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The config the daemon actually runs after a reload: `next`, except that
 * keys needing a restart keep their running values (so a later reload still
 * reports them, and nothing applies them half-way).
 */
export function keepRestartKeys(running: Config, next: Config): Config {
  const kept = structuredClone(next);
  for (const dotted of RESTART_KEYS) {
    const [section, key] = dotted.split(".") as [keyof Config, string];
    (kept[section] as Record<string, unknown>)[key] = (running[section] as Record<string, unknown>)[key];
  }
  for (const section of RESTART_SECTIONS) {
    const value = (running as unknown as Record<string, unknown>)[section];
    if (value !== undefined) (kept as unknown as Record<string, unknown>)[section] = structuredClone(value);
  }
  kept.timezone = running.timezone;
  return kept;
}
