import type { MysqlPool } from "./create-mysql-pool.js";

/**
 * A MySQL pool whose connections can be replaced while the daemon runs (hot
 * reload of the credentials, e.g. after Bitrix's .settings.php changed).
 * Everything holding `pool` keeps holding it; each call goes to the current
 * pool. A replaced pool is ended after RETIRE_AFTER_MS, once the queries and
 * transactions already running on it have finished; `end()` ends all.
 */
export interface SwappablePool {
  readonly pool: MysqlPool;
  replace(next: MysqlPool): void;
}

/** Longer than any capture page or write-back transaction takes. */
export const RETIRE_AFTER_MS = 60_000;

export function swappablePool(initial: MysqlPool): SwappablePool {
  let current = initial;
  const retiring = new Set<MysqlPool>();
  const endAll = async (): Promise<void> => {
    const all = [current, ...retiring];
    retiring.clear();
    await Promise.all(all.map((p) => p.end().catch(() => undefined)));
  };
  const pool = new Proxy({} as MysqlPool, {
    get(_target, prop) {
      if (prop === "end") return endAll;
      const value = Reflect.get(current, prop, current) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
  return {
    pool,
    replace(next) {
      const old = current;
      current = next;
      retiring.add(old);
      setTimeout(() => {
        if (retiring.delete(old)) void old.end().catch(() => undefined);
      }, RETIRE_AFTER_MS).unref();
    },
  };
}
