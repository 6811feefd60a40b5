/**
 * Proof: TLS to the CRM is always verified. A CRM whose certificate is signed
 * by a private CA works with `[crm] ca_file`; without it, or with a
 * self-signed certificate, delivery pauses with a message that names the
 * certificate problem, entries stay pending (never a dead letter), and
 * nothing turns verification off: no config key, not NODE_TLS_REJECT_UNAUTHORIZED=0.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { createOrder } from "../support/bitrix-writer.js";
import { startCrmServer } from "../support/crm-server.js";
import { runCli } from "../support/sidecar-process.js";
import { setupSync, TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { createSelfSignedUntrusted } from "../support/test-pki.js";

function outboxStates(stateDir: string): string[] {
  const db = new Database(join(stateDir, "outbox.db"), { readonly: true });
  try {
    return (db.prepare("SELECT state FROM outbox ORDER BY id").all() as Array<{ state: string }>).map(
      (r) => r.state,
    );
  } finally {
    db.close();
  }
}

/** The sync fixture, but the CRM stand-in serves a self-signed certificate no CA vouches for. */
async function setupSelfSignedCrm(t: TestContext) {
  const f = await setupSync(t, { prefix: "proof_tls" });
  const selfSigned = await createSelfSignedUntrusted(join(f.dir, "self-signed"));
  const crm = await startCrmServer({ token: TEST_CRM_TOKEN, pki: selfSigned });
  t.after(() => crm.stop());
  return { f, crm, selfSigned };
}

test("a CRM signed by a private CA is trusted with [crm] ca_file, and refused without it, naming the problem", async (t) => {
  const f = await setupSync(t, { prefix: "proof_tls" });
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "delivery with ca_file");
  assert.equal((await sidecar.stop()).code, 0);

  // The same CRM without the CA file: the system roots do not know the test CA.
  f.writeConfig({ caFile: "" });
  writeFileSync(f.configFile, readFileSync(f.configFile, "utf8").replace(/^ca_file = "".*\n/m, ""));
  const second = await f.startSidecar();
  const other = await createOrder(f.db.pool);
  const paused = await second.waitForLog((l) => l.msg === "delivery paused", 15_000, "the TLS pause");
  assert.match(
    String(paused["reason"]),
    /^TLS: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .*set \[crm\] ca_file/,
  );
  await sleep(1_000); // several probe intervals (300 ms in tests)
  assert.equal(f.crm.acceptedFor(other).length, 0);
  assert.deepEqual(outboxStates(f.stateDir), ["delivered", "pending"], "waits, not a dead letter");
  assert.equal((await second.stop()).code, 0);
});

test("a self-signed CRM is refused with a clear message and a pause, never a dead letter, even with NODE_TLS_REJECT_UNAUTHORIZED=0", async (t) => {
  const { f, crm, selfSigned } = await setupSelfSignedCrm(t);
  f.writeConfig({ crmUrl: crm.url });
  const sidecar = await f.startSidecar({ NODE_TLS_REJECT_UNAUTHORIZED: "0" });
  const ids = [await createOrder(f.db.pool), await createOrder(f.db.pool)];
  const paused = await sidecar.waitForLog((l) => l.msg === "delivery paused", 15_000, "the TLS pause");
  assert.match(String(paused["reason"]), /^TLS: DEPTH_ZERO_SELF_SIGNED_CERT: self[- ]signed certificate/);
  assert.match(String(paused["reason"]), /set \[crm\] ca_file/);
  await sidecar.waitForLog((l) => l.msg === "order captured" && l["orderId"] === ids[1]);
  await sleep(1_500);
  assert.equal(crm.requests.length, 0, "no request ever reached the server over the unverified connection");
  const states = outboxStates(f.stateDir);
  assert.equal(states.length, 2);
  assert.ok(
    states.every((s) => s === "pending"),
    `pending, not dead: ${states}`,
  );
  assert.equal(
    sidecar.logLines().filter((l) => l.msg === "delivery paused").length,
    1,
    "logged once, then probed quietly",
  );
  assert.equal((await sidecar.stop()).code, 0);

  // Trusting that very certificate (as its own CA) is the fix: the waiting entries go out.
  f.writeConfig({ crmUrl: crm.url, caFile: selfSigned.certFile });
  await f.startSidecar();
  await crm.waitFor(
    (c) => ids.every((id) => c.acceptedFor(id).length === 1),
    15_000,
    "delivered after the fix",
  );
});

test("there is no option that turns verification off", async (t) => {
  const f = await setupSync(t, { prefix: "proof_tls" });
  for (const key of ["insecure", "tls_verify", "reject_unauthorized", "verify_tls", "skip_tls_verify"]) {
    f.writeConfig({ sections: { crm: { [key]: key === "insecure" || key === "skip_tls_verify" } } });
    const r = await runCli(["run", "--config", f.configFile]);
    assert.equal(r.code, 78, `${key}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`crm\\.${key}`));
  }
});
