import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createOrder } from "../support/bitrix-writer.js";
import { sampleValue, scrapeMetrics } from "../support/scrape-metrics.js";
import type { SidecarProcess } from "../support/sidecar-process.js";
import { setupSync } from "../support/sync-fixture.js";

const P = "cvety_sidecar_";

/** Scrapes until `ready(text)` holds (results are committed in small batches), then returns the text. */
async function scrapeUntil(sidecar: SidecarProcess, ready: (text: string) => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  let text = "";
  while (Date.now() < deadline) {
    text = await scrapeMetrics(sidecar.httpAddress!);
    if (ready(text)) return text;
    await sleep(50);
  }
  throw new Error(`metrics never showed ${what}:\n${text}`);
}

test("/metrics after 3 orders delivered and 1 rejected with 422: counters and outbox gauges exact", async (t) => {
  const f = await setupSync(t, { prefix: "metrics" });
  const sidecar = await f.startSidecar();
  const before = await scrapeMetrics(sidecar.httpAddress!);
  assert.equal(
    sampleValue(before, `${P}deliveries_total`, { result: "rejected" }),
    0,
    "known results start at 0",
  );
  assert.equal(sampleValue(before, `${P}writeback_results_total`, { outcome: "applied" }), 0);

  f.crm.queueResponses([{ kind: "http", status: 422, body: '{"detail":"PRICE is not a number"}' }]);
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await createOrder(f.db.pool));
  await f.crm.waitFor((c) => c.requests.length === 4 && c.orders.size === 3, 10_000, "4 answers");

  const text = await scrapeUntil(
    sidecar,
    (m) => sampleValue(m, `${P}outbox_entries`, { state: "delivered" }) === 3,
    "3 delivered rows",
  );
  const v = (name: string, labels: Record<string, string> = {}) => sampleValue(text, `${P}${name}`, labels);
  assert.equal(v("deliveries_total", { result: "delivered" }), 3);
  assert.equal(v("deliveries_total", { result: "rejected" }), 1);
  assert.equal(v("deliveries_total", { result: "retry" }), 0);
  assert.equal(v("deliveries_total", { result: "endpoint" }), 0);
  assert.equal(v("delivery_duration_seconds_count", { result: "delivered" }), 3);
  assert.equal(v("delivery_duration_seconds_count", { result: "rejected" }), 1);
  assert.equal(v("delivery_duration_seconds_bucket", { result: "delivered", le: "+Inf" }), 3);
  assert.equal(v("outbox_entries", { state: "delivered" }), 3);
  assert.equal(v("outbox_entries", { state: "dead" }), 1);
  assert.equal(v("outbox_entries", { state: "pending" }), 0);
  assert.equal(v("outbox_oldest_pending_age_seconds"), 0);
  assert.equal(v("captured_total"), 4);
  assert.equal(v("delivery_paused"), 0);
  assert.equal(v("mysql_up"), 1);
  const lag = v("capture_lag_seconds");
  assert.ok(lag !== undefined && lag >= 0 && lag < 60, `capture lag ${lag}`);
  assert.ok((v("capture_polls_total") ?? 0) > 0);
  assert.equal(v("config_reloads_total", { result: "applied" }), 0, "no reload happened");

  // An order the CRM cannot take now waits as pending, and its age shows.
  f.crm.setMode({ kind: "http", status: 503 });
  const waiting = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.requests.some((r) => r.orderId === String(waiting)));
  await sleep(1100);
  const later = await scrapeMetrics(sidecar.httpAddress!);
  assert.equal(sampleValue(later, `${P}outbox_entries`, { state: "pending" }), 1);
  assert.ok((sampleValue(later, `${P}outbox_oldest_pending_age_seconds`) ?? 0) >= 1);
  assert.ok((sampleValue(later, `${P}deliveries_total`, { result: "retry" }) ?? 0) >= 1);
  assert.equal((await sidecar.stop()).code, 0);
});

test("/readyz answers 503 naming the pause while the CRM answers 401, and 200 once it accepts again", async (t) => {
  const f = await setupSync(t, { prefix: "readyz" });
  const sidecar = await f.startSidecar();
  const ready = await fetch(`http://${sidecar.httpAddress}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), {
    ready: true,
    mysql: "ok",
    capture: "ok",
    delivery: "ok",
    writeback: "off",
  });

  f.crm.setMode({ kind: "http", status: 401, body: '{"detail":"Invalid token"}' });
  await createOrder(f.db.pool);
  await sidecar.waitForLog((l) => l.msg === "delivery paused", 10_000, "pause");
  const paused = await fetch(`http://${sidecar.httpAddress}/readyz`);
  assert.equal(paused.status, 503);
  const body = (await paused.json()) as Record<string, unknown>;
  assert.equal(body["ready"], false);
  assert.match(String(body["delivery"]), /^paused: HTTP 401/);
  assert.equal(body["mysql"], "ok");
  const health = await fetch(`http://${sidecar.httpAddress}/healthz`);
  assert.equal(health.status, 200, "alive while not ready");
  assert.equal(sampleValue(await scrapeMetrics(sidecar.httpAddress!), `${P}delivery_paused`), 1);

  f.crm.setMode({ kind: "ok" });
  const deadline = Date.now() + 10_000;
  let status = 503;
  while (status !== 200 && Date.now() < deadline) {
    await sleep(100);
    status = (await fetch(`http://${sidecar.httpAddress}/readyz`)).status;
  }
  assert.equal(status, 200, "ready again after the probe succeeds");
});
