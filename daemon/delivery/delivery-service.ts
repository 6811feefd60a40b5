import { compareSnapshots } from "../capture/plan-capture.js";
import type { Logger } from "../log/create-logger.js";
import { redactSecretValues } from "../log/redact-secret-values.js";
import type { Metrics } from "../metrics/metrics.js";
import { probeCrm } from "../ops/probe-crm.js";
import type { AttemptResult, CrmEvent, OutboxEntry, OutboxStore } from "../outbox/outbox-store.js";
import { backoffMs } from "./backoff.js";
import { buildDeliveryRequest, type CrmIdentity } from "./build-request.js";
import { type Classification, classifyError, classifyResponse } from "./classify-response.js";
import type { CrmAnswer } from "./crm-client.js";

export interface DeliverySettings {
  concurrency: number;
  retry_min_ms: number;
  retry_max_ms: number;
  error_retry_min_ms: number;
  error_retry_max_ms: number;
  dead_after_s: number;
  pause_probe_ms: number;
  shutdown_grace_ms: number;
}

/** The part of the CRM client delivery needs (a fake one in unit tests). */
export interface CrmPoster {
  post(headers: Record<string, string>, body: string): Promise<CrmAnswer>;
  close(): Promise<void>;
}

export interface DeliveryDeps {
  settings: DeliverySettings;
  crm: CrmIdentity;
  client: CrmPoster;
  outbox: OutboxStore;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
  random?: () => number;
}

export interface PauseState {
  reason: string;
  sinceMs: number;
  nextProbeAtMs: number;
}

export const PAUSE_RUNTIME_KEY = "delivery_pause";

/** Longest idle wait between ticks; capture and completions wake the loop sooner. */
const IDLE_WAIT_MS = 60_000;

/**
 * Answers are committed in batches: every commit is an fsync (synchronous=FULL)
 * that blocks the event loop, so one per answer would cap throughput. A result
 * not yet committed is only sent again after a crash (at-least-once).
 */
const FLUSH_INTERVAL_MS = 10;
const PREFETCH_ENTRIES = 128;
const FLUSH_MAX_RESULTS = 256;

/** Least time an order waits after a request of it was abandoned mid-way (see `quietUntil`). */
const QUIET_MIN_MS = 5_000;

/** A request sent but not answered (timed out waiting, connection lost): the CRM may still process it. */
function mayStillBeProcessed(r: { httpStatus: number | null; error: string | null }): boolean {
  return (
    r.httpStatus === null &&
    r.error !== null &&
    /HEADERS_TIMEOUT|BODY_TIMEOUT|UND_ERR_SOCKET|ECONNRESET|EPIPE|socket hang up/i.test(r.error)
  );
}

/**
 * Sends due outbox entries to the CRM: up to `concurrency` requests at once,
 * one per order, so per order the newer snapshot always goes after the older
 * one. Results are committed in small batches (one fsync for many answers).
 * An endpoint-level failure pauses everything and probes slowly; entries are
 * never dead-lettered for it (invariant 3).
 */
export class DeliveryService {
  /** Requests on the wire, by order: these count against `concurrency`. */
  private readonly inflight = new Map<number, Promise<void>>();
  /** Orders whose answer is in but not yet committed: their next snapshot waits for the commit. */
  private readonly unsettled = new Set<number>();
  /**
   * Orders whose last request got no answer (a timeout, a dropped connection): the CRM may still be
   * processing it, and since it does not compare versions, a newer snapshot it finished first would be
   * overwritten by that older one. Such an order is not sent again until as long again as the
   * abandoned attempt took has passed (found by the chaos run with answers slower than the timeout).
   */
  private readonly quietUntil = new Map<number, number>();
  private pending: AttemptResult[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /**
   * Due entries read ahead, so a backlog costs one query per PREFETCH_ENTRIES
   * sends instead of one per send. An entry replaced or dropped meanwhile is
   * skipped when sent (its payload is gone).
   */
  private scheduled: OutboxEntry[] = [];
  private closed = false;
  private paused: PauseState | undefined;
  private probing = false;
  private readonly clock: () => number;
  private readonly random: () => number;
  /** Set by the loop that runs tick(): wakes it (capture enqueued, a slot freed). */
  notify: () => void = () => {};

  constructor(private deps: DeliveryDeps) {
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    // A pause belongs to the process that saw it; a restart (say, with a fixed token) tries again.
    deps.outbox.setRuntime(PAUSE_RUNTIME_KEY, undefined);
    deps.metrics.deliveryPaused.set(0);
  }

  get pauseState(): PauseState | undefined {
    return this.paused;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Hot reload: new settings, identity or client (the old client is closed once idle). */
  async update(next: { settings?: DeliverySettings; crm?: CrmIdentity; client?: CrmPoster }): Promise<void> {
    const old = this.deps.client;
    this.deps = { ...this.deps, ...next };
    if (next.client && next.client !== old) {
      if (this.paused) this.paused.nextProbeAtMs = this.clock();
      await Promise.allSettled(this.inflight.values());
      await old.close();
    }
    this.notify();
  }

  async tick(): Promise<{ nextDelayMs: number }> {
    const now = this.clock();
    if (this.paused) return this.tickPaused(now);
    const busy = (orderId: number) =>
      this.inflight.has(orderId) || this.unsettled.has(orderId) || (this.quietUntil.get(orderId) ?? 0) > now;
    while (this.inflight.size < this.deps.settings.concurrency) {
      if (this.scheduled.length === 0)
        this.scheduled = this.deps.outbox.dueEntries(now, PREFETCH_ENTRIES, busy);
      const entry = this.scheduled.shift();
      if (!entry) break;
      // A queued entry whose order got busy meanwhile is read again on a later tick.
      if (!busy(entry.orderId)) this.dispatch(entry);
    }
    if (this.scheduled.length > 0) return { nextDelayMs: IDLE_WAIT_MS };
    const nextDue = this.deps.outbox.nextDueAt();
    // Due entries we could not start wait for a completion, which notifies.
    if (nextDue === undefined || nextDue <= now) return { nextDelayMs: IDLE_WAIT_MS };
    return { nextDelayMs: Math.min(IDLE_WAIT_MS, nextDue - now) };
  }

  /** Waits for deliveries in flight, at most `graceMs`; commits their results. */
  async drain(graceMs: number): Promise<boolean> {
    const all = Promise.allSettled(this.inflight.values()).then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
    const finished = await Promise.race([all, timeout]);
    this.flush();
    return finished;
  }

  /** After drain: answers still arriving are not recorded (their rows stay pending and go again). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    await this.deps.client.close();
  }

  private async tickPaused(now: number): Promise<{ nextDelayMs: number }> {
    const paused = this.paused!;
    if (this.probing || this.inflight.size > 0 || now < paused.nextProbeAtMs) {
      return { nextDelayMs: Math.max(50, paused.nextProbeAtMs - now) };
    }
    this.probing = true;
    try {
      const [entry] = this.deps.outbox.dueEntries(now, 1);
      if (entry) {
        this.dispatch(entry);
        await this.inflight.get(entry.orderId);
      } else {
        await this.ping();
      }
    } finally {
      this.probing = false;
    }
    return { nextDelayMs: this.paused ? Math.max(50, this.paused.nextProbeAtMs - this.clock()) : 0 };
  }

  /** A harmless request when nothing is due (see probe-crm.ts). */
  private async ping(): Promise<void> {
    const { classification: c } = await probeCrm(this.deps.client, this.deps.crm, this.clock());
    if (c.kind === "delivered") this.resume();
    else this.pause(c.reason);
  }

  private dispatch(entry: OutboxEntry): void {
    const p = this.attempt(entry)
      .then((result) => this.queueResult(result))
      .catch((err) => {
        // A bug, not a CRM answer: leave the row pending and let the loop try again later.
        this.deps.log.error(
          { component: "delivery", orderId: entry.orderId, err },
          "delivery attempt crashed",
        );
        this.inflight.delete(entry.orderId);
      });
    this.inflight.set(entry.orderId, p);
  }

  private async attempt(entry: OutboxEntry): Promise<AttemptResult> {
    const { outbox, crm, client, settings } = this.deps;
    const delivered = outbox.deliveredKey(entry.orderId);
    if (delivered && compareSnapshots(entry, delivered) < 0)
      return { kind: "superseded", entry, reason: "older" };
    const payload = outbox.payloadOf(entry.id);
    // Replaced by a newer snapshot (or dropped by ops) since it was scheduled: nothing to send.
    if (payload === undefined) return { kind: "superseded", entry, reason: "gone" };
    const event: CrmEvent = delivered ? "order.update" : "order.create";
    const attemptedAt = this.clock();
    const req = buildDeliveryRequest({
      event,
      payload,
      idempotencyKey: entry.idempotencyKey,
      crm,
      nowMs: attemptedAt,
    });
    let c: Classification;
    let answer: CrmAnswer | undefined;
    try {
      answer = await client.post(req.headers, req.body);
      // A CRM that echoes the request (FastAPI's 422 quotes its input) must not put the token in the log or outbox.
      answer = { ...answer, body: redactSecretValues(answer.body, [crm.token, ...crm.signing_secrets]) };
      c = classifyResponse(answer.status, answer.headers, answer.body, this.clock(), {
        truncated: answer.truncated === true,
      });
    } catch (err) {
      c = classifyError(err);
    }
    const durationMs = this.clock() - attemptedAt;
    const attempt = entry.attempts + 1;
    const base = {
      kind: "attempt" as const,
      entry,
      event,
      attemptedAt,
      durationMs,
      httpStatus: answer?.status ?? null,
      response: answer ? answer.body.slice(0, 4000) : null,
    };
    switch (c.kind) {
      case "delivered":
        return { ...base, outcome: "delivered", dead: false, error: null, response: null };
      case "retry":
        return {
          ...base,
          outcome: "retry",
          dead: false,
          error: c.reason,
          nextAttemptAt:
            attemptedAt +
            (c.retryAfterMs ?? backoffMs(attempt, settings.retry_min_ms, settings.retry_max_ms, this.random)),
        };
      case "crm_error": {
        const firstErrorAt = entry.firstErrorAt ?? attemptedAt;
        const dead = attemptedAt - firstErrorAt >= settings.dead_after_s * 1000;
        return {
          ...base,
          outcome: "crm_error",
          dead,
          error: c.reason,
          nextAttemptAt:
            attemptedAt +
            backoffMs(attempt, settings.error_retry_min_ms, settings.error_retry_max_ms, this.random),
        };
      }
      case "rejected":
        return { ...base, outcome: "rejected", dead: true, error: c.reason };
      case "endpoint":
        return { ...base, outcome: "endpoint", dead: false, error: c.reason, nextAttemptAt: attemptedAt };
    }
  }

  private queueResult(result: AttemptResult): void {
    if (this.closed) return;
    this.report(result);
    this.pending.push(result);
    const orderId = result.entry.orderId;
    this.inflight.delete(orderId);
    this.unsettled.add(orderId);
    if (result.kind === "attempt" && result.outcome === "retry" && mayStillBeProcessed(result)) {
      this.keepQuiet(
        orderId,
        result.attemptedAt + result.durationMs + Math.max(result.durationMs, QUIET_MIN_MS),
      );
    }
    if (this.pending.length >= FLUSH_MAX_RESULTS) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    // The slot is free for another order now; this order waits for the commit.
    this.notify();
  }

  private keepQuiet(orderId: number, untilMs: number): void {
    const now = this.clock();
    if (untilMs <= now) return;
    for (const [id, until] of this.quietUntil) if (until <= now) this.quietUntil.delete(id);
    this.quietUntil.set(orderId, untilMs);
    // Nothing else wakes the loop for it: no completion is coming.
    setTimeout(() => this.notify(), untilMs - now).unref();
  }

  /** Commits queued results in one transaction (one fsync), then frees their orders for the next snapshot. */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.deps.outbox.recordResults(batch);
    } catch (err) {
      // Not recorded: the rows stay pending and are sent again (at-least-once), nothing is lost.
      this.deps.log.error(
        { component: "delivery", err, count: batch.length },
        "could not record delivery results",
      );
    }
    for (const r of batch) this.unsettled.delete(r.entry.orderId);
    this.notify();
  }

  private report(r: AttemptResult): void {
    const { log, metrics } = this.deps;
    const e = r.entry;
    if (r.kind === "superseded") {
      if (r.reason === "gone") return;
      log.info(
        { component: "delivery", orderId: e.orderId, version: e.version, outboxId: e.id },
        "older snapshot dropped, a newer one was delivered",
      );
      return;
    }
    metrics.deliveries.inc({ result: r.outcome });
    metrics.deliveryDuration.observe({ result: r.outcome }, r.durationMs / 1000);
    const fields = {
      component: "delivery",
      orderId: e.orderId,
      version: e.version,
      outboxId: e.id,
      event: r.event,
      attempt: e.attempts + 1,
      status: r.httpStatus,
      durationMs: r.durationMs,
    };
    if (r.outcome === "delivered") {
      log.info(fields, "order delivered");
      if (this.paused) this.resume();
      return;
    }
    if (r.outcome === "endpoint") {
      this.pause(r.error ?? "endpoint failure");
      return;
    }
    if (this.paused) this.resume();
    log[r.dead ? "error" : "warn"](
      {
        ...fields,
        outcome: r.outcome,
        error: r.error,
        dead: r.dead,
        ...(r.nextAttemptAt !== undefined && !r.dead ? { retryInMs: r.nextAttemptAt - r.attemptedAt } : {}),
      },
      "delivery failed",
    );
  }

  private pause(reason: string): void {
    const now = this.clock();
    const nextProbeAtMs = now + this.deps.settings.pause_probe_ms;
    if (this.paused) {
      this.paused.nextProbeAtMs = nextProbeAtMs;
      if (this.paused.reason === reason) return;
      this.paused.reason = reason;
    } else {
      this.paused = { reason, sinceMs: now, nextProbeAtMs };
      this.scheduled = [];
    }
    this.deps.metrics.deliveryPaused.set(1);
    this.deps.outbox.setRuntime(PAUSE_RUNTIME_KEY, { reason, sinceMs: this.paused.sinceMs });
    this.deps.log.error(
      { component: "delivery", reason, probeInMs: this.deps.settings.pause_probe_ms },
      "delivery paused",
    );
  }

  private resume(): void {
    if (!this.paused) return;
    const pausedForMs = this.clock() - this.paused.sinceMs;
    this.paused = undefined;
    this.deps.metrics.deliveryPaused.set(0);
    this.deps.outbox.setRuntime(PAUSE_RUNTIME_KEY, undefined);
    this.deps.log.info({ component: "delivery", pausedForMs }, "delivery resumed");
    this.notify();
  }
}
