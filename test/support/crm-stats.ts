/**
 * Counters the fake CRM keeps even when it records nothing else (long benchmark
 * runs): answers by status, accepted order events, distinct orders, and how often
 * an accepted snapshot carried a lower VERSION than one accepted before for the
 * same order: the ordering the sidecar must never break (the live CRM upserts
 * blindly, so an older snapshot would overwrite a newer one).
 */

export interface CrmStats {
  requests: number;
  /** HTTP status answered -> count; "none" for dropped connections (outage mode). */
  byStatus: Record<string, number>;
  accepted: number;
  /** Distinct Bitrix orders with at least one accepted event. */
  orders: number;
  versionRegressions: number;
  /** Highest accepted VERSION per order (not serialised). */
  readonly highestVersion: Map<string, number>;
  toJSON(): Omit<CrmStats, "highestVersion" | "toJSON">;
}

export function createCrmStats(): CrmStats {
  const stats: CrmStats = {
    requests: 0,
    byStatus: {},
    accepted: 0,
    orders: 0,
    versionRegressions: 0,
    highestVersion: new Map(),
    toJSON() {
      const { requests, byStatus, accepted, orders, versionRegressions } = stats;
      return { requests, byStatus, accepted, orders, versionRegressions };
    },
  };
  return stats;
}

export function recordAnswerInStats(
  stats: CrmStats,
  request: { status: number; accepted: boolean; orderId: string | undefined; body: unknown },
): void {
  stats.requests += 1;
  const key = request.status === 0 ? "none" : String(request.status);
  stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
  if (!request.accepted || request.orderId === undefined) return;

  stats.accepted += 1;
  const version = Number((request.body as { data?: { VERSION?: unknown } }).data?.VERSION);
  const highest = stats.highestVersion.get(request.orderId);
  if (highest === undefined) stats.orders += 1;
  if (Number.isFinite(version)) {
    if (highest !== undefined && version < highest) stats.versionRegressions += 1;
    if (highest === undefined || version > highest) stats.highestVersion.set(request.orderId, version);
  } else if (highest === undefined) {
    stats.highestVersion.set(request.orderId, Number.NEGATIVE_INFINITY);
  }
}
