import { wallClockDiffSeconds, wallClockNow } from "../capture/bitrix-datetime.js";
import type { Config } from "../config/config-schema.js";
import type { AttemptOutcome, OutboxState } from "../outbox/outbox-store.js";
import { runningDaemonPid } from "../run/state-lock.js";
import { VERSION } from "../version.js";
import type { WritebackOutcome } from "../writeback/writeback-store.js";
import { type DaemonHealth, fetchHealth, type HealthAnswer } from "./fetch-health.js";
import { isoOrNull } from "./format-time.js";
import { NoStateError, openStateForOps, stateDbPath } from "./open-state-for-ops.js";
import { type LastAttempt, StatusQueries } from "./status-queries.js";

/**
 * Everything `status` shows, gathered from the daemon's /healthz when it
 * answers and from the state database (read-only) always, so the counts are
 * there with the daemon stopped too. This object is also `status --json`:
 * keep its field names stable.
 */
export interface StatusReport {
  checkedAt: string;
  config: string;
  cliVersion: string;
  daemon: {
    running: boolean;
    /** /healthz answered. */
    answering: boolean;
    pid: number | null;
    version: string | null;
    uptimeS: number | null;
    /** The /healthz URL asked, or null when `[http] listen = "off"`. */
    healthUrl: string | null;
    healthError: string | null;
  };
  state: { file: string; exists: boolean };
  capture: {
    cursor: { dateUpdate: string; orderId: number } | null;
    newestDateUpdate: string | null;
    /** Seconds from the newest captured DATE_UPDATE to now on Bitrix's clock ([bitrix] timezone). */
    lagS: number | null;
    lastPollAt: string | null;
    timezone: string;
    /** Why the daemon's last poll failed, as /healthz says; null while capture works or nobody answers. */
    failure: string | null;
  };
  outbox: (Record<OutboxState, number> & { oldestPendingAgeS: number | null }) | null;
  deliveries: {
    lastHour: Record<AttemptOutcome, number>;
    lastSuccess: AttemptSummary | null;
    lastFailure: AttemptSummary | null;
  } | null;
  delivery: {
    paused: boolean;
    reason: string | null;
    pausedSince: string | null;
    /** The pause was read from the state of a daemon that is not running now. */
    fromLastRun: boolean;
  };
  writeback:
    | { enabled: false }
    | {
        enabled: true;
        source: string;
        dryRun: boolean;
        cursor: unknown;
        cursorUpdatedAt: string | null;
        outcomes: Record<WritebackOutcome, number> | null;
        dryRunOutcomes: Record<WritebackOutcome, number> | null;
        lastChangeAt: string | null;
        lastPollAt: string | null;
        paused: boolean;
        pauseReason: string | null;
        pausedSince: string | null;
      };
}

export interface AttemptSummary {
  at: string;
  outboxId: number;
  orderId: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

export async function readStatus(
  config: Config,
  opts: { nowMs?: number; health?: HealthAnswer } = {},
): Promise<StatusReport> {
  const nowMs = opts.nowMs ?? Date.now();
  const answer = opts.health ?? (await fetchHealth(config.http.listen));
  const health: DaemonHealth | undefined = answer.kind === "up" ? answer.health : undefined;
  const pid = health?.pid ?? runningDaemonPid(config.state.dir) ?? null;
  const running = health !== undefined || pid !== null;
  const file = stateDbPath(config.state.dir);

  const report: StatusReport = {
    checkedAt: new Date(nowMs).toISOString(),
    config: config.file,
    cliVersion: VERSION,
    daemon: {
      running,
      answering: health !== undefined,
      pid,
      version: health?.version ?? null,
      uptimeS: health?.uptimeS ?? null,
      healthUrl: answer.kind === "off" ? null : answer.url,
      healthError: answer.kind === "down" ? answer.error : null,
    },
    state: { file, exists: false },
    capture: {
      cursor: health?.capture?.cursor ?? null,
      newestDateUpdate: health?.capture?.newestDateUpdate ?? null,
      lagS: null,
      lastPollAt: health?.capture?.lastPollAt ?? null,
      timezone: config.timezone,
      failure: health?.capture?.failure?.reason ?? null,
    },
    outbox: null,
    deliveries: null,
    delivery: {
      paused: Boolean(health?.delivery?.paused),
      reason: health?.delivery?.paused?.reason ?? null,
      pausedSince: isoOrNull(health?.delivery?.paused?.sinceMs),
      fromLastRun: false,
    },
    writeback: config.writeback.enabled
      ? {
          enabled: true,
          source: config.writeback.source,
          dryRun: config.writeback.dry_run,
          cursor: null,
          cursorUpdatedAt: null,
          outcomes: null,
          dryRunOutcomes: null,
          lastChangeAt: null,
          lastPollAt: health?.writeback?.lastPollAt ?? null,
          paused: false,
          pauseReason: null,
          pausedSince: null,
        }
      : { enabled: false },
  };

  let db: ReturnType<typeof openStateForOps> | undefined;
  try {
    db = openStateForOps(config.state.dir, { write: false });
  } catch (err) {
    if (!(err instanceof NoStateError)) throw err;
  }
  if (db) {
    try {
      readFromState(report, new StatusQueries(db), nowMs, health);
    } finally {
      db.close();
    }
  }
  const newest = report.capture.newestDateUpdate;
  if (newest !== null) {
    report.capture.lagS = Math.max(0, wallClockDiffSeconds(newest, wallClockNow(config.timezone, nowMs)));
  }
  return report;
}

function readFromState(
  report: StatusReport,
  q: StatusQueries,
  nowMs: number,
  health: DaemonHealth | undefined,
): void {
  report.state.exists = true;
  const counts = q.countsByState();
  const oldest = q.oldestPendingCreatedAt();
  report.outbox = {
    ...counts,
    oldestPendingAgeS: oldest === undefined ? null : Math.max(0, Math.round((nowMs - oldest) / 1000)),
  };
  report.deliveries = {
    lastHour: q.attemptsSince(nowMs - 3600_000),
    lastSuccess: summarize(q.lastSuccess()),
    lastFailure: summarize(q.lastFailure()),
  };
  const stored = q.captureCursor();
  report.capture.cursor ??= stored?.cursor ?? null;
  // The daemon only knows what it saw since it started; the state knows everything captured.
  const captured = q.newestCapturedDateUpdate();
  const seen = report.capture.newestDateUpdate;
  if (captured !== undefined && (seen === null || captured > seen))
    report.capture.newestDateUpdate = captured;

  if (!health) {
    // Without a daemon to ask, its last persisted pause is all there is (it clears it on start).
    const pause = q.deliveryPause();
    if (pause) {
      report.delivery = {
        paused: true,
        reason: pause.reason,
        pausedSince: isoOrNull(pause.sinceMs),
        fromLastRun: !report.daemon.running,
      };
    }
  }
  if (report.writeback.enabled) {
    const s = q.writebackSummary();
    report.writeback = {
      ...report.writeback,
      cursor: s.cursor?.value ?? null,
      cursorUpdatedAt: isoOrNull(s.cursor?.updatedAt),
      outcomes: s.outcomes,
      dryRunOutcomes: s.dryRunOutcomes,
      lastChangeAt: isoOrNull(s.lastRecordedAt),
      paused: s.pause !== undefined,
      pauseReason: s.pause?.reason ?? null,
      pausedSince: isoOrNull(s.pause?.sinceMs),
    };
  }
}

function summarize(a: LastAttempt | undefined): AttemptSummary | null {
  if (!a) return null;
  return {
    at: new Date(a.attemptedAt).toISOString(),
    outboxId: a.outboxId,
    orderId: a.orderId,
    httpStatus: a.httpStatus,
    outcome: a.outcome,
    error: a.error,
  };
}
