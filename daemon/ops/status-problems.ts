import { formatAge } from "./format-time.js";
import type { StatusReport } from "./read-status.js";

/**
 * What in a status report needs a person, decided from values. Any problem
 * makes `status` exit 1 (a cron alert); the codes are stable for `--json`.
 */

export type ProblemCode =
  | "no_state"
  | "daemon_not_running"
  | "daemon_not_answering"
  | "delivery_paused"
  | "writeback_paused"
  | "capture_failing"
  | "dead_letters"
  | "capture_lag"
  | "pending_age";

export interface Problem {
  code: ProblemCode;
  /** One line: what is wrong. */
  message: string;
  /** One line: what to do. */
  hint: string;
}

export interface StatusThresholds {
  /** Capture lag (s) above which status fails. */
  maxLagS: number;
  /** Age (s) of the oldest pending entry above which status fails. */
  maxPendingAgeS: number;
}

export const DEFAULT_THRESHOLDS: StatusThresholds = { maxLagS: 300, maxPendingAgeS: 600 };

export function findProblems(r: StatusReport, t: StatusThresholds): Problem[] {
  const out: Problem[] = [];
  if (!r.state.exists) {
    out.push({
      code: "no_state",
      message: `no state yet: ${r.state.file} does not exist`,
      hint: "start the daemon once (systemctl start cvety-sidecar), or check [state] dir in the config",
    });
  }
  if (!r.daemon.running) {
    out.push({
      code: "daemon_not_running",
      message: "the daemon is not running",
      hint: "systemctl start cvety-sidecar; then see why it stopped: cvety-sidecar logs --level warn",
    });
  } else if (!r.daemon.answering && r.daemon.healthUrl !== null) {
    out.push({
      code: "daemon_not_answering",
      message: `the daemon (pid ${r.daemon.pid}) does not answer ${r.daemon.healthUrl}: ${r.daemon.healthError}`,
      hint: "check [http] listen; if it hangs, systemctl restart cvety-sidecar",
    });
  }
  if (r.delivery.paused) {
    const since = r.delivery.pausedSince ? ` for ${ageOf(r.delivery.pausedSince, r.checkedAt)}` : "";
    out.push({
      code: "delivery_paused",
      message: `delivery ${r.delivery.fromLastRun ? "was paused when the daemon stopped" : `paused${since}`}: ${r.delivery.reason}`,
      hint: "check [crm] url and token (cvety-sidecar doctor); it resumes by itself once the CRM accepts",
    });
  }
  if (r.capture.failure !== null) {
    out.push({
      code: "capture_failing",
      message: `capture failing: ${r.capture.failure}`,
      hint: "fix what the reason names (a MySQL grant, the Bitrix schema); capture retries by itself",
    });
  }
  if (r.writeback.enabled && r.writeback.paused) {
    out.push({
      code: "writeback_paused",
      message: `write-back paused: ${r.writeback.pauseReason}`,
      hint: "fix what the reason names (MySQL grant, MySQL, the CRM source); it resumes by itself",
    });
  }
  if (r.outbox && r.outbox.dead > 0) {
    out.push({
      code: "dead_letters",
      message: `${r.outbox.dead} dead letter${r.outbox.dead === 1 ? "" : "s"} (the CRM rejected the payload)`,
      hint: "cvety-sidecar outbox list --state dead; then outbox show ID, and outbox retry --dead once fixed",
    });
  }
  if (r.capture.lagS !== null && r.capture.lagS > t.maxLagS) {
    out.push({
      code: "capture_lag",
      message: `capture lag ${formatAge(r.capture.lagS)} (newest DATE_UPDATE ${r.capture.newestDateUpdate}) is above ${t.maxLagS}s`,
      hint: "a quiet shop has no new changes (raise --max-lag at night); else check MySQL: cvety-sidecar logs --level warn",
    });
  }
  if (r.outbox?.oldestPendingAgeS != null && r.outbox.oldestPendingAgeS > t.maxPendingAgeS) {
    out.push({
      code: "pending_age",
      message: `the oldest pending entry waits for ${formatAge(r.outbox.oldestPendingAgeS)} (above ${t.maxPendingAgeS}s)`,
      hint: "cvety-sidecar outbox list --state pending; the last failure above says why",
    });
  }
  return out;
}

function ageOf(iso: string, nowIso: string): string {
  return formatAge((Date.parse(nowIso) - Date.parse(iso)) / 1000);
}
