/**
 * The plan of a chaos run, decided up front from the options and the seed (a
 * pure function, so a run's plan can be printed and repeated). Times are ms
 * from the start of the run. Windows overlap on purpose: the 500 storm meets
 * a MySQL cut, kills land inside the outage and the slow stretch.
 */
import type { ChaosOptions } from "./chaos-options.js";
import type { Random } from "./seeded-random.js";

export type FaultKind = "crm-500" | "crm-outage" | "crm-slow" | "mysql-cut";

export interface FaultWindow {
  kind: FaultKind;
  startMs: number;
  endMs: number;
}

export interface PlannedKill {
  atMs: number;
  /** How long the daemon stays dead before it is started again. */
  downMs: number;
}

export interface FaultPlan {
  windows: FaultWindow[];
  kills: PlannedKill[];
}

/** Share of requests answered 500 during the storm. */
export const CRM_500_SHARE = 0.3;
/** Share of requests answered late during the slow stretch, and how late, relative to the daemon's timeout. */
export const CRM_SLOW_SHARE = 0.5;

const MIN_DOWN_MS = 200;
const MAX_DOWN_MS = 3000;
/** A kill needs the previous start to have finished; keep kills at least this far apart. */
const MIN_KILL_SPACING_MS = 1500;

export function planFaults(o: ChaosOptions, random: Random): FaultPlan {
  const d = o.durationS * 1000;
  const at = (share: number) => Math.round(d * share);
  const windows: FaultWindow[] = [
    { kind: "crm-500", startMs: at(0.08), endMs: at(0.3) },
    { kind: "crm-outage", startMs: at(0.38), endMs: at(0.38) + o.crmOutageS * 1000 },
    { kind: "crm-slow", startMs: at(0.62), endMs: at(0.62) + Math.max(5000, at(0.1)) },
  ];
  // The first cut overlaps the 500 storm; a second one (long run) lands among kills late in the run.
  const cutStarts = [0.22, 0.76, 0.5];
  for (let i = 0; i < o.mysqlCuts; i++) {
    const startMs = at(cutStarts[i % cutStarts.length]!);
    windows.push({ kind: "mysql-cut", startMs, endMs: startMs + o.mysqlCutS * 1000 });
  }
  // Every fault is over before the writer stops, so the drain measures recovery, not a fault.
  for (const w of windows) w.endMs = Math.min(w.endMs, at(0.95));

  const from = at(0.04);
  const to = at(0.92);
  const times = Array.from({ length: o.kills }, () => from + Math.floor(random.next() * (to - from))).sort(
    (a, b) => a - b,
  );
  const kills: PlannedKill[] = [];
  let previous = -Infinity;
  for (const t of times) {
    const atMs = Math.max(t, previous + MIN_KILL_SPACING_MS + MAX_DOWN_MS);
    kills.push({ atMs, downMs: random.int(MIN_DOWN_MS, MAX_DOWN_MS) });
    previous = atMs;
  }
  return { windows: windows.sort((a, b) => a.startMs - b.startMs), kills };
}

export function describePlan(plan: FaultPlan): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  return [
    ...plan.windows.map((w) => `${w.kind.padEnd(10)} ${s(w.startMs)} – ${s(w.endMs)}`),
    `kill -9 ×${plan.kills.length} at ${plan.kills.map((k) => s(k.atMs)).join(", ")}`,
  ];
}
