/**
 * Property tests (fast-check): whatever a CRM answers (any status, any
 * headers, garbage, wrong JSON, invalid UTF-8 as the client decodes it, cut-off
 * bodies), classification never throws and says "delivered" only for HTTP 2xx
 * with a JSON object whose `status` is "success" (CONTRACT.md §1).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type Classification,
  classifyError,
  classifyResponse,
} from "../../daemon/delivery/classify-response.js";

/** Bounded so the suite stays fast; the seed is printed by fast-check on failure. */
export const CLASSIFY_RUNS = 2_000;

const NOW = Date.parse("2026-01-01T00:00:00Z");
const KINDS = new Set(["delivered", "retry", "crm_error", "rejected", "endpoint"]);

/** The contract's rule, written independently of the implementation. */
function isContractSuccess(status: number, body: string, truncated: boolean): boolean {
  if (status < 200 || status > 299 || truncated) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  return (
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.hasOwn(parsed, "status") &&
    (parsed as { status: unknown }).status === "success"
  );
}

const statusArb = fc.oneof(
  fc.integer({ min: 100, max: 599 }),
  fc.constantFrom(200, 201, 202, 204, 299, 300, 301, 400, 401, 404, 413, 422, 429, 500, 503),
  fc.integer(),
);

/** Bytes as undici hands them over, decoded the way crm-client.ts does (invalid UTF-8 -> U+FFFD). */
const rawBytesBody = fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString("utf8"));

const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify({ status: v })),
  fc
    .record({
      status: fc.constantFrom("success", "error", "SUCCESS", " success", "ok"),
      action: fc.jsonValue(),
    })
    .map((v) => JSON.stringify(v)),
  fc.constant('{"__proto__":{"status":"success"}}'),
  fc.constant('[{"status":"success"}]'),
  fc.constant('"success"'),
  fc.constant('{"status":"success"'),
  fc.constant('{"status":"success"}garbage'),
  fc.constant('{"status":"success","status":"error"}'),
  fc.constant('{"status":"error","status":"success"}'),
  fc.constant('\u0000{"status":"success"}'),
  fc.constant('\uFEFF{"status":"success"}'),
);

const bodyArb = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  rawBytesBody,
  jsonish,
);

const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  fc.constant(undefined),
);
const headersArb = fc.dictionary(
  fc.oneof(fc.constantFrom("retry-after", "content-type", "content-length"), fc.string({ maxLength: 12 })),
  headerValue,
  { maxKeys: 4 },
);

function assertWellFormed(c: Classification): void {
  assert.ok(KINDS.has(c.kind), `unknown kind ${c.kind}`);
  if (c.kind !== "delivered") assert.equal(typeof c.reason, "string");
  if (c.kind === "retry" && c.retryAfterMs !== undefined) {
    assert.ok(Number.isFinite(c.retryAfterMs) && c.retryAfterMs >= 0 && c.retryAfterMs <= 3_600_000);
  }
}

test(`any CRM answer: never throws, delivered only for 2xx + status "success" (${CLASSIFY_RUNS} runs)`, () => {
  fc.assert(
    fc.property(statusArb, headersArb, bodyArb, fc.boolean(), (status, headers, body, truncated) => {
      const c = classifyResponse(status, headers, body, NOW, { truncated });
      assertWellFormed(c);
      assert.equal(c.kind === "delivered", isContractSuccess(status, body, truncated));
    }),
    { numRuns: CLASSIFY_RUNS },
  );
});

test(`a status: "success" body with any non-2xx status is never delivered (${CLASSIFY_RUNS} runs)`, () => {
  const notTwoXx = fc.integer({ min: -1000, max: 2000 }).filter((s) => s < 200 || s > 299);
  fc.assert(
    fc.property(notTwoXx, headersArb, (status, headers) => {
      const c = classifyResponse(status, headers, '{"status":"success","action":"create_order"}', NOW);
      assertWellFormed(c);
      assert.notEqual(c.kind, "delivered");
    }),
    { numRuns: CLASSIFY_RUNS },
  );
});

test(`reasons stay short whatever the body (${CLASSIFY_RUNS / 4} runs)`, () => {
  fc.assert(
    fc.property(statusArb, fc.string({ minLength: 1000, maxLength: 5000 }), (status, body) => {
      const c = classifyResponse(status, {}, body, NOW);
      if (c.kind !== "delivered") assert.ok(c.reason.length < 400, `reason of ${c.reason.length} chars`);
    }),
    { numRuns: CLASSIFY_RUNS / 4 },
  );
});

test(`any thrown value without an answer: never throws, never delivered (${CLASSIFY_RUNS / 2} runs)`, () => {
  const errArb = fc.oneof(
    fc.anything(),
    fc.record({ code: fc.anything(), message: fc.anything(), cause: fc.anything() }),
    fc.string().map((m) => new Error(m)),
    fc
      .tuple(fc.string(), fc.constantFrom("ECONNRESET", "DEPTH_ZERO_SELF_SIGNED_CERT", "UND_ERR_SOCKET", "x"))
      .map(([m, code]) => Object.assign(new Error(m), { code })),
  );
  fc.assert(
    fc.property(errArb, (err) => {
      const c = classifyError(err);
      assertWellFormed(c);
      assert.ok(c.kind === "retry" || c.kind === "endpoint", c.kind);
    }),
    { numRuns: CLASSIFY_RUNS / 2 },
  );
});
