/**
 * Exponential backoff with "equal jitter": attempt n waits between half and
 * all of min(max, min * 2^(n-1)), so retries of many orders spread out
 * instead of hammering a recovering CRM together.
 *
 * Defaults (config [delivery]): transient failures 1 s doubling to 5 min;
 * 200 `status: "error"` 60 s doubling to 1 h, dead after 24 h.
 */
export function backoffMs(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
