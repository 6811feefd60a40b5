/** Small, stable renderings of times and ages for the ops commands' human output. */

/** `4s`, `3m 12s`, `2h 13m`, `3d 4h`; negative ages read as 0s. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** `2026-11-27 07:41:03` in the host's time zone (what `date` shows the ops person). */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `2026-11-27 07:41:03 (3m 12s ago)`. */
export function formatWhen(ms: number, nowMs: number): string {
  return `${formatLocalTime(ms)} (${formatAge((nowMs - ms) / 1000)} ago)`;
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** One line, at most `max` characters (errors and answers can be long and multi-line). */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
