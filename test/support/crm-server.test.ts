/**
 * Proves the fake CRM: answers like the live one (CONTRACT.md §1), its fault
 * switches behave, it serves real TLS that only the test CA verifies, it keeps up
 * with keep-alive traffic, and it runs as its own process for the benchmark.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { type CrmServer, startCrmServer } from "./crm-server.js";
import { PACKAGE_ROOT } from "./package-root.js";
import { createSelfSignedUntrusted, createTestPki, type TestPki } from "./test-pki.js";

type Row = Record<string, unknown>;

describe("CRM server", () => {
  const token = "test-token-Ω";
  let dir: string;
  let pki: TestPki;
  let crm: CrmServer;
  let trusting: Agent;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cvety-pki-"));
    pki = await createTestPki(dir);
    crm = await startCrmServer({ token, pki });
    trusting = new Agent({ connect: { ca: pki.caPem } });
  });
  after(async () => {
    await trusting?.close();
    await crm?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(body: unknown, headers: Record<string, string> = {}) {
    const response = await request(crm.url, {
      method: "POST",
      dispatcher: trusting,
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, json: JSON.parse(text) as Row };
  }

  const order = (id: number, version: number) => ({
    ID: String(id),
    VERSION: String(version),
    STATUS_ID: "N",
  });

  test("answers 401 Invalid token for a wrong token and records nothing as accepted", async () => {
    crm.reset();
    const answer = await post({ event: "order.create", token: "wrong", data: order(101, 0) });
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.json, { detail: "Invalid token" });
    assert.equal(crm.orders.size, 0);
    assert.equal(crm.requests[0]?.status, 401);
  });

  test("creates, then updates an order, like the live CRM", async () => {
    crm.reset();
    const created = await post(
      { event: "order.create", token, data: order(101, 0) },
      { "idempotency-key": "k1" },
    );
    assert.equal(created.status, 200);
    assert.equal(created.json.status, "success");
    assert.equal(created.json.action, "create_order");
    assert.match(String(created.json.order_id), /^[0-9a-f-]{36}$/);

    const again = await post({ event: "order.create", token, data: order(101, 0) });
    assert.deepEqual(again.json, {
      status: "success",
      action: "update_existing",
      order_id: created.json.order_id,
    });
    const updated = await post(
      { event: "order.update", token, data: order(101, 1) },
      { "idempotency-key": "k2" },
    );
    assert.deepEqual(updated.json, { status: "success", action: "order_updated", order_id: "101" });
    const legacy = await post({ event: "order.status.change", token, data: order(101, 2) });
    assert.equal(legacy.json.action, "order_updated");
    const unknown = await post({ event: "order.deleted", token, data: order(101, 3) });
    assert.deepEqual(unknown.json, { status: "success", action: "unknown_event", event: "order.deleted" });

    assert.equal(crm.orders.get("101")?.history.length, 4);
    assert.equal(crm.orders.get("101")?.data.VERSION, "2");
    const accepted = crm.acceptedFor(101);
    assert.deepEqual(
      accepted.map((a) => [a.event, a.data.VERSION, a.idempotencyKey]),
      [
        ["order.create", "0", "k1"],
        ["order.create", "0", undefined],
        ["order.update", "1", "k2"],
        ["order.status.change", "2", undefined],
      ],
    );
    assert.equal(crm.stats.versionRegressions, 0);
  });

  test("fault modes: HTTP errors, status error, queued one-shot answers, slow answers, bad JSON", async () => {
    crm.reset();
    crm.setMode({ kind: "http", status: 500 });
    const failed = await post({ event: "order.create", token, data: order(7, 0) });
    assert.deepEqual([failed.status, failed.json], [500, { detail: "Internal Server Error" }]);

    crm.setMode({ kind: "status-error" });
    const rejected = await post({ event: "order.create", token, data: order(7, 0) });
    assert.deepEqual(rejected.json, { status: "error", message: "Order data transformation failed" });
    assert.equal(rejected.status, 200);
    assert.equal(crm.orders.size, 0, "a status error is not an accepted order");

    crm.setMode({ kind: "ok" });
    crm.queueResponses([{ kind: "http", status: 429, headers: { "retry-after": "3" } }]);
    const limited = await post({ event: "order.create", token, data: order(7, 0) });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["retry-after"], "3");
    const next = await post({ event: "order.create", token, data: order(7, 0) });
    assert.equal(next.json.action, "create_order", "a queued answer is used once");

    crm.setMode({ kind: "slow", delayMs: 300 });
    const started = Date.now();
    const slow = await post({ event: "order.update", token, data: order(7, 1) });
    assert.equal(slow.json.action, "order_updated");
    assert.ok(Date.now() - started >= 280, "answered after the delay");

    crm.setMode({ kind: "ok" });
    const broken = await post("{not json");
    assert.equal(broken.status, 500);
    assert.match(String(broken.json.detail), /Error processing webhook/);
  });

  test("outage mode drops the connection without an answer", async () => {
    crm.reset();
    crm.setMode({ kind: "outage" });
    await assert.rejects(post({ event: "order.create", token, data: order(8, 0) }));
    assert.equal(crm.requests[0]?.status, 0);
    assert.equal(crm.stats.byStatus.none, 1);
    crm.setMode({ kind: "ok" });
    assert.equal((await post({ event: "order.create", token, data: order(8, 0) })).status, 200);
  });

  test("setToken rotates the accepted token; onRequest sees each request first", async () => {
    crm.reset();
    const seen: string[] = [];
    crm.onRequest = (r) => seen.push(`${r.event}:${r.orderId}`);
    crm.setToken("rotated");
    assert.equal((await post({ event: "order.create", token, data: order(9, 0) })).status, 401);
    assert.equal((await post({ event: "order.create", token: "rotated", data: order(9, 0) })).status, 200);
    crm.onRequest = undefined;
    assert.deepEqual(seen, ["order.create:9", "order.create:9"]);
    crm.reset();
    assert.equal(crm.token, token);
  });

  test("waitFor resolves on the condition and names what it waited for on timeout", async () => {
    crm.reset();
    const waiting = crm.waitFor((s) => s.orders.has("10"), 2000, "order 10");
    await post({ event: "order.create", token, data: order(10, 0) });
    await waiting;
    await assert.rejects(
      crm.waitFor((s) => s.orders.has("11"), 100, "order 11"),
      /order 11.*\n.*order 10/s,
    );
  });

  test("TLS: only a client trusting the test CA connects; an untrusted server certificate fails", async () => {
    const untrustingAgent = new Agent();
    try {
      await assert.rejects(
        request(crm.url, { method: "POST", dispatcher: untrustingAgent, body: "{}" }),
        (err: NodeJS.ErrnoException) =>
          /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/.test(String(err.code)),
      );
    } finally {
      await untrustingAgent.close();
    }

    const impostor = await startCrmServer({ token, pki: await createSelfSignedUntrusted(dir) });
    try {
      await assert.rejects(
        request(impostor.url, { method: "POST", dispatcher: trusting, body: "{}" }),
        (err: NodeJS.ErrnoException) => err.code === "DEPTH_ZERO_SELF_SIGNED_CERT",
      );
    } finally {
      await impostor.stop();
    }
  });

  test("keeps up with many keep-alive requests", async (t) => {
    crm.reset();
    const total = 3000;
    let sent = 0;
    const started = performance.now();
    const worker = async () => {
      while (sent < total) {
        const id = sent++;
        const answer = await post({ event: "order.create", token, data: order(100_000 + id, 0) });
        assert.equal(answer.status, 200);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const perSecond = Math.round(total / ((performance.now() - started) / 1000));
    t.diagnostic(`${perSecond} requests/s over keep-alive`);
    assert.equal(crm.stats.accepted, total);
  });

  test("crm-server-main serves in its own process and stops on SIGTERM", async () => {
    const main = join(PACKAGE_ROOT, "dist", "test", "support", "crm-server-main.js");
    const child = spawn(process.execPath, [main, "--token", "T", "--pki-dir", join(dir, "main")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`crm-server-main exited with ${code}`)));
      });
      const info = JSON.parse(first) as { url: string; caFile: string; controlUrl: string };
      const agent = new Agent({ connect: { ca: await readFile(info.caFile, "utf8") } });
      try {
        const body = JSON.stringify({ event: "order.create", token: "T", data: order(1, 0) });
        const response = await request(info.url, { method: "POST", dispatcher: agent, body });
        assert.equal(response.statusCode, 200);
        await response.body.text();
      } finally {
        await agent.close();
      }
      const stats = (await (await request(`${info.controlUrl}/stats`)).body.json()) as Row;
      assert.equal(stats.accepted, 1);

      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
