import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs } from "../../daemon/delivery/backoff.js";
import { classifyError, classifyResponse, parseRetryAfter } from "../../daemon/delivery/classify-response.js";
import { signWebhook } from "../../daemon/delivery/sign-webhook.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

test("2xx with status success is delivered, with the CRM's action", () => {
  const c = classifyResponse(200, {}, '{"status":"success","action":"create_order","order_id":"u-1"}', NOW);
  assert.deepEqual(c, { kind: "delivered", action: "create_order" });
});

test("200 with status error is a CRM error, not a success", () => {
  const c = classifyResponse(200, {}, '{"status":"error","message":"Order data transformation failed"}', NOW);
  assert.equal(c.kind, "crm_error");
  assert.match((c as { reason: string }).reason, /transformation failed/);
});

test("2xx without a JSON status success is retried", () => {
  assert.equal(classifyResponse(200, {}, "<html>ok</html>", NOW).kind, "retry");
  assert.equal(classifyResponse(204, {}, "", NOW).kind, "retry");
});

test("400, 413 and 422 are rejected at once, keeping the answer", () => {
  for (const status of [400, 413, 422]) {
    const c = classifyResponse(status, {}, '{"detail":"bad field PRICE"}', NOW);
    assert.equal(c.kind, "rejected", `HTTP ${status}`);
    assert.match((c as { reason: string }).reason, /bad field PRICE/);
  }
});

test("401, 403, 404, 410 and redirects are endpoint failures that pause delivery", () => {
  for (const status of [401, 403, 404, 410, 301, 302]) {
    assert.equal(
      classifyResponse(status, {}, '{"detail":"Invalid token"}', NOW).kind,
      "endpoint",
      `HTTP ${status}`,
    );
  }
});

test("408, 425, 429 and 5xx are retried; Retry-After seconds and dates are honoured", () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) {
    assert.equal(classifyResponse(status, {}, "", NOW).kind, "retry", `HTTP ${status}`);
  }
  assert.deepEqual(classifyResponse(429, { "retry-after": "7" }, "", NOW), {
    kind: "retry",
    reason: "HTTP 429",
    retryAfterMs: 7000,
  });
  assert.equal(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW), 30_000);
  assert.equal(parseRetryAfter("999999", NOW), 3_600_000, "capped at one hour");
  assert.equal(parseRetryAfter("soon", NOW), undefined);
});

test("network errors are retried, TLS verification errors pause", () => {
  assert.equal(
    classifyError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })).kind,
    "retry",
  );
  assert.equal(
    classifyError(Object.assign(new Error("Headers Timeout"), { code: "UND_ERR_HEADERS_TIMEOUT" })).kind,
    "retry",
  );
  const tls = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  assert.equal(classifyError(tls).kind, "endpoint");
  const wrapped = new Error("fetch failed", {
    cause: Object.assign(new Error("x"), { code: "CERT_HAS_EXPIRED" }),
  });
  assert.equal(classifyError(wrapped).kind, "endpoint");
});

test("backoff doubles from the minimum, stays within [half, full] and stops at the maximum", () => {
  assert.equal(
    backoffMs(1, 1000, 300_000, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(1, 1000, 300_000, () => 0),
    500,
  );
  assert.equal(
    backoffMs(4, 1000, 300_000, () => 1),
    8000,
  );
  assert.equal(
    backoffMs(30, 1000, 300_000, () => 1),
    300_000,
  );
  assert.equal(
    backoffMs(30, 1000, 300_000, () => 0),
    150_000,
  );
});

test("signatures match the Standard Webhooks reference vector, one per secret", () => {
  const headers = signWebhook(
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25k"],
    "msg_p5jXN8AQM9LWM0D4loKWxJek",
    1614265330,
    '{"test": 2432232314}',
  );
  assert.equal(headers["webhook-id"], "msg_p5jXN8AQM9LWM0D4loKWxJek");
  assert.equal(headers["webhook-timestamp"], "1614265330");
  const sigs = headers["webhook-signature"]!.split(" ");
  assert.equal(sigs.length, 2);
  assert.equal(sigs[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  assert.deepEqual(signWebhook([], "id", 1, "{}"), {});
});
