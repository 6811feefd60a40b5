/**
 * Proof: with `[crm] signing_secrets`, every request the CRM receives carries
 * Standard Webhooks headers that the reference library (`standardwebhooks`
 * on npm, Webhook.verify) accepts: one secret; two secrets during a rotation,
 * each verifying alone. Per the spec, `webhook-id` is the message's id and
 * stays the same on every retry, while `webhook-timestamp` is the time of
 * each attempt, so a retry carries a fresh timestamp and a signature for it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { createOrder } from "../support/bitrix-writer.js";
import type { ReceivedRequest } from "../support/crm-server.js";
import { setupSync } from "../support/sync-fixture.js";

const SECRET_A = `whsec_${Buffer.from("proof-signing-secret-A-32-bytes!").toString("base64")}`;
const SECRET_B = `whsec_${Buffer.from("proof-signing-secret-B-32-bytes!").toString("base64")}`;
const NOT_CONFIGURED = `whsec_${Buffer.from("some-other-secret-nobody-uses-!!").toString("base64")}`;

interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

function signatureHeaders(r: ReceivedRequest): SignatureHeaders {
  const h = r.headers;
  return {
    "webhook-id": String(h["webhook-id"]),
    "webhook-timestamp": String(h["webhook-timestamp"]),
    "webhook-signature": String(h["webhook-signature"]),
  };
}

async function setupSigned(t: Parameters<typeof setupSync>[0], secrets: string[]) {
  return setupSync(t, { prefix: "proof_sig", config: { sections: { crm: { signing_secrets: secrets } } } });
}

test("one secret: every request verifies with standardwebhooks; a changed body, id or time does not", async (t) => {
  const f = await setupSigned(t, [SECRET_A]);
  await f.startSidecar();
  const ids = [await createOrder(f.db.pool), await createOrder(f.db.pool)];
  await f.crm.waitFor((c) => ids.every((id) => c.acceptedFor(id).length === 1), 15_000, "deliveries");
  const wh = new Webhook(SECRET_A);
  assert.ok(f.crm.requests.length >= 2);
  for (const r of f.crm.requests) {
    const headers = signatureHeaders(r);
    const verified = wh.verify(r.rawBody, headers) as { data: { ID: string } };
    assert.equal(verified.data.ID, String(r.orderId));
    assert.equal(headers["webhook-id"], r.idempotencyKey, "webhook-id is the Idempotency-Key");
    assert.throws(() => wh.verify(`${r.rawBody} `, headers), /No matching signature/);
    assert.throws(() => wh.verify(r.rawBody, { ...headers, "webhook-id": `${headers["webhook-id"]}x` }));
    const earlier = String(Number(headers["webhook-timestamp"]) - 1);
    assert.throws(() => wh.verify(r.rawBody, { ...headers, "webhook-timestamp": earlier }));
    assert.throws(() => new Webhook(NOT_CONFIGURED).verify(r.rawBody, headers), /No matching signature/);
  }
});

test("rotation: with two secrets, each verifies every request on its own", async (t) => {
  const f = await setupSigned(t, [SECRET_A, SECRET_B]);
  await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "delivery");
  for (const r of f.crm.requests) {
    const headers = signatureHeaders(r);
    assert.equal(headers["webhook-signature"].split(" ").length, 2, "one v1 signature per secret");
    assert.ok(new Webhook(SECRET_A).verify(r.rawBody, headers));
    assert.ok(new Webhook(SECRET_B).verify(r.rawBody, headers));
    // Each signature alone is enough: a receiver that knows only one secret keeps working.
    for (const [secret, signature] of [
      [SECRET_A, headers["webhook-signature"].split(" ")[0]!],
      [SECRET_B, headers["webhook-signature"].split(" ")[1]!],
    ] as const) {
      assert.ok(new Webhook(secret).verify(r.rawBody, { ...headers, "webhook-signature": signature }));
    }
    assert.throws(() => new Webhook(NOT_CONFIGURED).verify(r.rawBody, headers), /No matching signature/);
  }
});

test("a retried delivery keeps its webhook-id and carries the time of each attempt, validly signed", async (t) => {
  const f = await setupSigned(t, [SECRET_A]);
  // Two failures, each asking for a 2 s wait, so the attempts fall in different seconds.
  f.crm.queueResponses([
    { kind: "http", status: 503, headers: { "retry-after": "2" } },
    { kind: "http", status: 503, headers: { "retry-after": "2" } },
  ]);
  await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 20_000, "delivery after two 503s");
  const attempts = f.crm.requests.filter((r) => r.orderId === String(id));
  assert.equal(attempts.length, 3);
  const wh = new Webhook(SECRET_A);
  const stamps: number[] = [];
  for (const r of attempts) {
    const headers = signatureHeaders(r);
    wh.verify(r.rawBody, headers);
    const stamp = Number(headers["webhook-timestamp"]);
    stamps.push(stamp);
    // The send time of this attempt (the request arrived within a few seconds of being signed).
    assert.ok(Math.abs(stamp - r.receivedAt / 1000) < 5, `timestamp ${stamp} vs arrival ${r.receivedAt}`);
    assert.equal((r.body as { data: { webhook_timestamp: number } }).data.webhook_timestamp, stamp);
  }
  assert.equal(
    new Set(attempts.map((r) => r.headers["webhook-id"])).size,
    1,
    "one webhook-id for all attempts",
  );
  assert.ok(stamps[1]! >= stamps[0]! + 1 && stamps[2]! >= stamps[1]! + 1, `fresh timestamps: ${stamps}`);
  assert.equal(
    new Set(attempts.map((r) => r.headers["webhook-signature"])).size,
    3,
    "a new signature each time",
  );
});
