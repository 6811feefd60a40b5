import { daemonUrl } from "./daemon-address.js";

/** What the daemon's /healthz answers (run-daemon.ts); every field optional to a reader. */
export interface DaemonHealth {
  version?: string;
  pid?: number;
  uptimeS?: number;
  capture?: {
    cursor?: { dateUpdate: string; orderId: number } | null;
    lastPollAt?: string | null;
    newestDateUpdate?: string | null;
    /** Why capture's last poll failed (a missing grant, a query error); null while it works. */
    failure?: { reason: string; sinceMs: number } | null;
  };
  delivery?: {
    paused?: { reason: string; sinceMs: number; nextProbeAtMs?: number } | null;
    inflight?: number;
  };
  writeback?: { enabled?: false; lastPollAt?: string | null; source?: string; dryRun?: boolean };
}

export type HealthAnswer =
  | { kind: "up"; url: string; health: DaemonHealth }
  | { kind: "down"; url: string; error: string }
  | { kind: "off" };

const HEALTH_TIMEOUT_MS = 2_000;

/** GET /healthz on `[http] listen`. Never throws: an unreachable daemon is an answer, not an error. */
export async function fetchHealth(
  listen: string,
  timeoutMs: number = HEALTH_TIMEOUT_MS,
): Promise<HealthAnswer> {
  const url = daemonUrl(listen, "/healthz");
  if (url === undefined) return { kind: "off" };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { kind: "down", url, error: `HTTP ${res.status}` };
    return { kind: "up", url, health: JSON.parse(text) as DaemonHealth };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const reason =
      cause?.code ?? ((err as Error).name === "TimeoutError" ? "no answer in time" : (err as Error).message);
    return { kind: "down", url, error: reason };
  }
}
