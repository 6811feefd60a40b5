import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { WRITEBACK_OUTCOMES } from "../writeback/writeback-store.js";

/** Every `result` of a delivery attempt (classify-response.ts kinds). */
export const DELIVERY_RESULTS = ["delivered", "retry", "crm_error", "rejected", "endpoint"] as const;

/**
 * Prometheus metrics (DESIGN: names prefixed cvety_sidecar_). Parts update
 * the counters and gauges they own; gauges read from the state database are
 * filled at scrape time by `collect` callbacks registered by the daemon.
 */
export interface Metrics {
  registry: Registry;
  outboxEntries: Gauge<"state">;
  outboxOldestPendingAge: Gauge;
  captureLag: Gauge;
  captured: Counter;
  capturePolls: Counter;
  capturePages: Counter;
  mysqlUp: Gauge;
  deliveries: Counter<"result">;
  deliveryDuration: Histogram<"result">;
  deliveryPaused: Gauge;
  writebackResults: Counter<"outcome">;
  writebackPaused: Gauge;
  configReloads: Counter<"result">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const p = "cvety_sidecar_";
  const metrics: Metrics = {
    registry,
    outboxEntries: new Gauge({
      name: `${p}outbox_entries`,
      help: "Outbox rows by state (pending, delivered, dead)",
      labelNames: ["state"],
      registers: [registry],
    }),
    outboxOldestPendingAge: new Gauge({
      name: `${p}outbox_oldest_pending_age_seconds`,
      help: "Age of the oldest pending outbox entry, 0 when none",
      registers: [registry],
    }),
    captureLag: new Gauge({
      name: `${p}capture_lag_seconds`,
      help: "Seconds between now (Bitrix time zone) and the newest DATE_UPDATE capture has seen",
      registers: [registry],
    }),
    captured: new Counter({
      name: `${p}captured_total`,
      help: "Order snapshots captured into the outbox",
      registers: [registry],
    }),
    capturePolls: new Counter({
      name: `${p}capture_polls_total`,
      help: "Capture polls completed",
      registers: [registry],
    }),
    capturePages: new Counter({
      name: `${p}capture_pages_total`,
      help: "Keyset pages read from b_sale_order",
      registers: [registry],
    }),
    mysqlUp: new Gauge({
      name: `${p}mysql_up`,
      help: "1 when the last MySQL query succeeded, 0 when MySQL was unreachable",
      registers: [registry],
    }),
    deliveries: new Counter({
      name: `${p}deliveries_total`,
      help: "Delivery attempts by result (delivered, retry, crm_error, rejected, endpoint)",
      labelNames: ["result"],
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: `${p}delivery_duration_seconds`,
      help: "Duration of delivery HTTP requests",
      labelNames: ["result"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deliveryPaused: new Gauge({
      name: `${p}delivery_paused`,
      help: "1 while delivery is paused by an endpoint-level failure (401, 403, 404, 410, TLS)",
      registers: [registry],
    }),
    writebackResults: new Counter({
      name: `${p}writeback_results_total`,
      help: "Write-back changes by outcome (applied, unchanged, conflict, rejected, refused, would_apply)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    writebackPaused: new Gauge({
      name: `${p}writeback_paused`,
      help: "1 while write-back is paused (MySQL unreachable, a missing grant, the CRM source failing)",
      registers: [registry],
    }),
    configReloads: new Counter({
      name: `${p}config_reloads_total`,
      help: "Config reloads by result (applied, unchanged, refused, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
  // Every known label value from the start, at 0: rate() and alerts see a series before the first event.
  for (const result of DELIVERY_RESULTS) {
    metrics.deliveries.inc({ result }, 0);
    metrics.deliveryDuration.zero({ result });
  }
  for (const outcome of WRITEBACK_OUTCOMES) metrics.writebackResults.inc({ outcome }, 0);
  for (const state of ["pending", "delivered", "dead"]) metrics.outboxEntries.set({ state }, 0);
  for (const result of ["applied", "unchanged", "refused", "failed"])
    metrics.configReloads.inc({ result }, 0);
  return metrics;
}
