/**
 * Runs tasks with at most `concurrency` in flight, where tasks sharing a key
 * (one order's changes) run one after another in their given order. Reports,
 * as tasks finish, how long the finished prefix of the list is: the write-back
 * cursor may only move past a prefix whose every row is settled.
 *
 * After the first failure no task starts; those in flight finish (and are
 * reported), then the failure is thrown. Returns false when `stop()` cut the
 * list short.
 */
export async function runKeyedInOrder<T>(
  items: readonly T[],
  opts: {
    concurrency: number;
    keyOf: (item: T) => string | number | undefined;
    run: (item: T, index: number) => Promise<void>;
    /** Synchronously after item `index` finished; `prefix` items from the start are all finished. */
    settled: (index: number, prefix: number) => void;
    stop?: () => boolean;
  },
): Promise<boolean> {
  const done = new Array<boolean>(items.length).fill(false);
  const inflight = new Set<Promise<void>>();
  const lastOfKey = new Map<string | number, Promise<void>>();
  let prefix = 0;
  let failed = false;
  let failure: unknown;

  for (const [index, item] of items.entries()) {
    while (inflight.size >= Math.max(1, opts.concurrency)) await Promise.race(inflight);
    if (failed) break;
    if (opts.stop?.()) {
      await Promise.allSettled(inflight);
      if (failed) throw failure;
      return false;
    }
    const key = opts.keyOf(item);
    const before = key === undefined ? undefined : lastOfKey.get(key);
    const task = (async () => {
      // The same order's earlier change first; if it failed, this one must not run.
      if (before) await before.catch(() => {});
      if (failed) return;
      await opts.run(item, index);
      done[index] = true;
      while (prefix < items.length && done[prefix]) prefix++;
      opts.settled(index, prefix);
    })().catch((err: unknown) => {
      if (!failed) {
        failed = true;
        failure = err;
      }
    });
    const tracked = task.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (key !== undefined) lastOfKey.set(key, tracked);
  }
  await Promise.allSettled(inflight);
  if (failed) throw failure;
  return true;
}
