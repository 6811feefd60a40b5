import { wallClockNow } from "../capture/bitrix-datetime.js";
import type { ConfigFile } from "../config/config-schema.js";
import type { Logger } from "../log/create-logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import { poolDatabase } from "../mysql/missing-grant.js";
import type { OutboxStore } from "../outbox/outbox-store.js";
import { applyStatusChange } from "./apply-status.js";
import { type BitrixWriteTarget, readOrderStatuses, readWriteTarget } from "./bitrix-write-target.js";
import type { ChangeSource, SourcePage, WritebackCursor } from "./change-source.js";
import { toBitrixWallClock } from "./crm-timestamp.js";
import { mapCrmStatus, type OrderStatusInfo } from "./map-status.js";
import { recordOf, type Settled } from "./outcome-record.js";
import { queueBitrixStateForCrm } from "./queue-bitrix-state.js";
import { runKeyedInOrder } from "./run-keyed-in-order.js";
import type { ValidatedRow } from "./validate-change.js";
import { describeWritebackFailure } from "./writeback-failure.js";
import {
  type OwnWrite,
  WRITEBACK_CURSOR,
  WRITEBACK_DRY_RUN_CURSOR,
  type WritebackStore,
} from "./writeback-store.js";

export type WritebackSettings = Pick<
  ConfigFile["writeback"],
  "batch_size" | "concurrency" | "dry_run" | "notify_customer" | "employee_id" | "start_from"
>;

export interface WritebackDeps {
  settings: WritebackSettings;
  /** DEFAULT_STATUS_MAP merged with [writeback.status_map]. */
  statusMap: Readonly<Record<string, string>>;
  /** Bitrix's time zone: DATE_STATUS / DATE_UPDATE are written and compared in it. */
  timezone: string;
  source: ChangeSource;
  mysql: MysqlPool;
  store: WritebackStore;
  outbox: OutboxStore;
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
  /** A conflict queued a forward delivery: wake delivery. */
  onEnqueued: () => void;
  /** True while the daemon is stopping: finish the change in hand, start no other. */
  isStopping?: () => boolean;
}

/** Log lines carry at most this much of any CRM-supplied text. */
const LOG_TEXT_CHARS = 120;

/**
 * One tick = page through the source after the cursor; validate, map and
 * apply each change (several orders at once, one order's changes in order);
 * record each outcome, moving the cursor in the same SQLite transaction past
 * the rows settled so far. A failure that is not the row's fault (MySQL
 * gone, a missing grant, the source down) stops the tick before that row:
 * the cursor stays, write-back is paused with the reason, and the loop
 * retries with backoff.
 */
export class WritebackService {
  private readonly clock: () => number;
  private target: BitrixWriteTarget | undefined;
  private failureKey: string | undefined;
  private readonly refusedLogged = new Set<string>();
  lastPollAt: number | undefined;

  private retiredSources: ChangeSource[] = [];

  constructor(private deps: WritebackDeps) {
    this.clock = deps.clock ?? Date.now;
    // A pause belongs to the process that saw it; a restart (say, with the grant fixed) tries again.
    deps.store.setPause(undefined);
    deps.metrics.writebackPaused.set(0);
  }

  private get cursorName(): string {
    return this.deps.settings.dry_run ? WRITEBACK_DRY_RUN_CURSOR : WRITEBACK_CURSOR;
  }

  async tick(): Promise<{ nextDelayMs?: number }> {
    await this.closeRetiredSources();
    try {
      await this.poll();
    } catch (err) {
      this.reportFailure(err);
      throw err;
    }
    if (this.failureKey !== undefined) {
      this.failureKey = undefined;
      this.deps.store.setPause(undefined);
      this.deps.metrics.writebackPaused.set(0);
      this.deps.log.info({ component: "writeback" }, "write-back resumed");
    }
    return {};
  }

  async close(): Promise<void> {
    await this.closeRetiredSources();
    await this.deps.source.close();
  }

  /**
   * Hot reload: new settings, status map or source. A replaced source is
   * closed at the next tick (ticks never overlap, so nothing uses it then).
   */
  async update(next: Partial<Pick<WritebackDeps, "settings" | "statusMap" | "source">>): Promise<void> {
    if (next.source && next.source !== this.deps.source) this.retiredSources.push(this.deps.source);
    this.deps = { ...this.deps, ...next };
  }

  private async closeRetiredSources(): Promise<void> {
    const retired = this.retiredSources;
    this.retiredSources = [];
    await Promise.all(retired.map((s) => s.close().catch(() => undefined)));
  }

  private async poll(): Promise<void> {
    const { settings, source, mysql } = this.deps;
    this.target ??= await readWriteTarget(mysql);
    const statuses = await readOrderStatuses(mysql);
    const cursor = await this.currentCursor();
    for await (const page of source.pages(cursor, settings.batch_size)) {
      const complete = await this.settlePage(page, statuses);
      if (!complete || this.deps.isStopping?.()) break;
    }
    // Old outcomes and own-write keys are pruned by housekeeping ([housekeeping] keep_writeback_*).
    this.lastPollAt = this.clock();
  }

  /**
   * Settles a page's rows, several orders at once (`concurrency`), each
   * order's changes in their order. Every outcome is recorded as it comes;
   * the cursor moves, in the same SQLite transaction, only past the longest
   * run of settled rows from the page's start. Returns false if stopped early.
   */
  private async settlePage(
    page: SourcePage,
    statuses: ReadonlyMap<string, OrderStatusInfo>,
  ): Promise<boolean> {
    const { settings, source, store } = this.deps;
    const rows = page.rows.map((row) => {
      const validated = source.validate(row.raw);
      const changeKey = validated.ok ? validated.change.changeKey : validated.changeKey;
      // Seen before (look-back, or a page re-read after a failure): never applied twice.
      const settled = store.isSettled(source.kind, settings.dry_run, changeKey);
      return { ...row, validated, settled, outcome: undefined as Settled | undefined };
    });
    if (rows.length === 0) {
      if (page.cursorAtEnd) store.setCursor(this.cursorName, page.cursorAtEnd);
      return true;
    }
    let cursorPrefix = 0;
    return runKeyedInOrder(rows, {
      concurrency: settings.concurrency,
      keyOf: (r) => (r.settled || !r.validated.ok ? undefined : r.validated.change.orderId),
      stop: () => this.deps.isStopping?.() ?? false,
      run: async (r) => {
        if (!r.settled) r.outcome = await this.settle(r.validated, r.raw, statuses);
      },
      settled: (index, prefix) => {
        let next: WritebackCursor | undefined;
        for (; cursorPrefix < prefix; cursorPrefix++) next = rows[cursorPrefix]!.cursorAfter ?? next;
        if (prefix === rows.length) next = page.cursorAtEnd ?? next;
        const cursor = next && { name: this.cursorName, value: next };
        const outcome = rows[index]!.outcome;
        if (outcome) {
          store.record(outcome.record, cursor);
          this.report(outcome);
        } else if (cursor) store.setCursor(cursor.name, cursor.value);
      },
    });
  }

  /** The stored cursor of this source, or a new one from [writeback] start_from. */
  private async currentCursor(): Promise<WritebackCursor> {
    const { store, source, settings, log } = this.deps;
    const saved = store.getCursor<WritebackCursor>(this.cursorName);
    if (saved?.source === source.kind) return saved;
    const cursor = await source.initialCursor(settings.start_from);
    store.setCursor(this.cursorName, cursor);
    log.info(
      {
        component: "writeback",
        source: source.kind,
        startFrom: settings.start_from,
        cursor,
        ...(saved ? { previousSource: saved.source } : {}),
      },
      "write-back cursor initialised",
    );
    return cursor;
  }

  /** Decides and (unless dry run) writes one change; returns its outcome record. */
  private async settle(
    validated: ValidatedRow,
    raw: unknown,
    statuses: ReadonlyMap<string, OrderStatusInfo>,
  ): Promise<Settled> {
    const { settings, source } = this.deps;
    const base = { source: source.kind, dryRun: settings.dry_run, raw: JSON.stringify(raw) ?? String(raw) };
    if (!validated.ok) {
      return {
        record: {
          ...base,
          changeKey: validated.changeKey,
          outcome: "rejected",
          orderId: validated.orderId,
          reason: validated.reason,
        },
      };
    }
    const change = validated.change;
    const common = {
      ...base,
      changeKey: change.changeKey,
      orderId: change.orderId,
      crmStatus: change.crmStatus,
      changedAt: change.changedAtText,
    };
    const mapping = mapCrmStatus(change.crmStatus, this.deps.statusMap, statuses);
    if (!mapping.ok) return { record: { ...common, outcome: "refused", reason: mapping.reason } };
    const crmChangedAt = {
      epochUs: Number(change.changedAt.epochUs),
      wallClock: toBitrixWallClock(change.changedAt, this.deps.timezone),
    };
    const result = await applyStatusChange(this.applyDeps(), {
      orderId: change.orderId,
      statusId: mapping.statusId,
      notify: statuses.get(mapping.statusId)?.notify ?? false,
      crmChangedAt,
    });
    const record = recordOf(result, { ...common, statusId: mapping.statusId }, crmChangedAt.wallClock);
    if (result.outcome === "conflict" && !settings.dry_run) {
      const { mysql, outbox, log, onEnqueued } = this.deps;
      await queueBitrixStateForCrm({ mysql, outbox, log, onEnqueued }, change.orderId);
    }
    return result.outcome === "would_apply" ? { record, write: result.write } : { record };
  }

  private applyDeps() {
    const { settings, mysql, store, timezone } = this.deps;
    return {
      mysql,
      target: this.target!,
      employeeId: settings.employee_id,
      notifyCustomer: settings.notify_customer,
      dryRun: settings.dry_run,
      now: () => wallClockNow(timezone, this.clock()),
      ownWriteCrmTimeUs: (orderId: number, version: number, dateUpdate: string) =>
        store.ownWriteCrmTimeUs(orderId, version, dateUpdate),
      ownStatusCrmTimeUs: (orderId: number, statusId: string, dateStatus: string) =>
        store.ownStatusCrmTimeUs(orderId, statusId, dateStatus),
      beforeCommit: (write: OwnWrite) => store.recordWrite(write),
    };
  }

  /**
   * One log line and one metric per outcome; a dry run's line carries the
   * exact rows it would write; a refused status is logged loudly once per status.
   */
  private report({ record: r, write }: Settled): void {
    const { log, metrics } = this.deps;
    metrics.writebackResults.inc({ outcome: r.outcome });
    const fields = {
      component: "writeback",
      source: r.source,
      changeKey: clip(r.changeKey),
      orderId: r.orderId,
      ...(r.crmStatus !== undefined ? { crmStatus: r.crmStatus } : {}),
      ...(r.statusId !== undefined ? { statusId: r.statusId } : {}),
      ...(r.oldStatusId !== undefined ? { oldStatusId: r.oldStatusId } : {}),
      ...(r.version !== undefined ? { version: r.version, dateUpdate: r.dateUpdate } : {}),
      ...(r.reason !== undefined ? { reason: clip(r.reason) } : {}),
      ...(r.dryRun ? { dryRun: true } : {}),
      ...(write ? { write } : {}),
    };
    switch (r.outcome) {
      case "applied":
      case "would_apply":
      case "unchanged":
      case "conflict":
        log.info(fields, `status ${r.outcome === "would_apply" ? "would be applied" : r.outcome}`);
        break;
      case "rejected":
        log.warn(fields, "status rejected");
        break;
      case "refused": {
        const first = !this.refusedLogged.has(r.crmStatus ?? "");
        this.refusedLogged.add(r.crmStatus ?? "");
        if (first) log.warn(fields, "status refused");
        else log.debug(fields, "status refused");
        break;
      }
    }
  }

  /** Pauses with the reason, logged once per distinct cause (an outage is one line, not one per poll). */
  private reportFailure(err: unknown): void {
    const failure = describeWritebackFailure(err, poolDatabase(this.deps.mysql));
    const key = `${failure.code}:${failure.reason}`;
    if (key === this.failureKey) return;
    this.failureKey = key;
    this.deps.store.setPause({ code: failure.code, reason: failure.reason, sinceMs: this.clock() });
    this.deps.metrics.writebackPaused.set(1);
    const fields = { component: "writeback", code: failure.code, reason: failure.reason };
    if (failure.transient) this.deps.log.warn(fields, "write-back paused, retrying");
    else this.deps.log.error(fields, "write-back paused, retrying");
  }
}

function clip(text: string): string {
  return text.length <= LOG_TEXT_CHARS ? text : `${text.slice(0, LOG_TEXT_CHARS)}...`;
}
