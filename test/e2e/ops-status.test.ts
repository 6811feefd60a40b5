import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { bitrixNow, createOrder, saveOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { freeLoopbackPort } from "../support/free-port.js";
import { type RunResult, runCli } from "../support/sidecar-process.js";
import { setupSync, TEST_CRM_TOKEN } from "../support/sync-fixture.js";

/**
 * `status` and `outbox list|show|retry|drop` as an ops person runs them: the
 * real binary as a subprocess, beside one real daemon (started once for the
 * whole file: the machine is slow), a real MariaDB and the HTTPS CRM stand-in.
 */

interface StatusJson {
  ok: boolean;
  problems: { code: string; message: string }[];
  daemon: { running: boolean; pid: number | null };
  capture: { lagS: number | null };
  outbox: { pending: number; delivered: number; dead: number } | null;
  deliveries: { lastHour: Record<string, number>; lastSuccess: { orderId: number } | null } | null;
  delivery: { paused: boolean; reason: string | null };
  writeback: { enabled: boolean };
}

function stateRows(stateDir: string, orderId: number) {
  const db = new Database(`${stateDir}/outbox.db`, { readonly: true });
  try {
    return db
      .prepare("SELECT id, version, state FROM outbox WHERE order_id = ? ORDER BY id")
      .all(orderId) as { id: number; version: number; state: string }[];
  } finally {
    db.close();
  }
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("status and outbox commands beside a running daemon", async (t) => {
  const port = await freeLoopbackPort();
  const f = await setupSync(t, {
    prefix: "opsstatus",
    config: { sections: { http: { listen: `127.0.0.1:${port}` } } },
  });
  const sidecar = await f.startSidecar();
  const cli = async (ctx: TestContext, ...args: string[]): Promise<RunResult> => {
    const r = await runCli([...args, "-c", f.configFile]);
    ctx.diagnostic(`$ cvety-sidecar ${args.join(" ")}  (exit ${r.code})\n${r.stdout}${r.stderr}`);
    return r;
  };
  const status = async (ctx: TestContext, ...args: string[]) => {
    const r = await cli(ctx, "status", "--json", ...args);
    return { code: r.code, json: JSON.parse(r.stdout) as StatusJson };
  };
  const delivered = (orderId: number) => () =>
    stateRows(f.stateDir, orderId).some((r) => r.state === "delivered");

  await t.test("a daemon whose newest order changed two hours ago is lagging: exit 1", async (t) => {
    const old = await createOrder(f.db.pool, {}, { dateUpdate: shiftBitrixTime(bitrixNow(), -7200) });
    await waitUntil(delivered(old), "the old order delivered");
    const r = await cli(t, "status");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /NEEDS ATTENTION \(1\):\n {2}✖ capture lag 2h 0m .* is above 300s/);
    const s = await status(t);
    assert.deepEqual(
      s.json.problems.map((p) => p.code),
      ["capture_lag"],
    );
    assert.ok(s.json.capture.lagS! >= 7200);
    const relaxed = await cli(t, "status", "--max-lag", "86400");
    assert.equal(relaxed.code, 0, "--max-lag moves the threshold");
  });

  await t.test("a healthy daemon: exit 0 and the counts", async (t) => {
    const id = await createOrder(f.db.pool);
    await waitUntil(delivered(id), "the new order delivered");
    const r = await cli(t, "status");
    assert.equal(r.code, 0, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(`^daemon +running · pid ${sidecar.child.pid} · version \\S+ · up `, "m"),
    );
    assert.match(r.stdout, /^outbox +pending 0 · delivered 2 · dead 0$/m);
    assert.match(r.stdout, /^last hour +delivered 2$/m);
    assert.match(r.stdout, new RegExp(`^last success .* · order ${id} · entry #\\d+$`, "m"));
    assert.match(r.stdout, /^write-back +off$/m);
    assert.match(r.stdout, /OK: nothing needs attention/);
    const s = await status(t);
    assert.equal(s.code, 0);
    assert.equal(s.json.ok, true);
    assert.equal(s.json.daemon.running, true);
    assert.equal(s.json.daemon.pid, sidecar.child.pid);
    assert.deepEqual(s.json.outbox, { pending: 0, delivered: 2, dead: 0, oldestPendingAgeS: null });
    assert.equal(s.json.deliveries!.lastHour["delivered"], 2);
    assert.equal(s.json.deliveries!.lastSuccess!.orderId, id);
    assert.ok(s.json.capture.lagS! < 300);
  });

  await t.test("a paused daemon (the CRM answers 401): exit 1 with the reason", async (t) => {
    f.crm.setToken("rotated-on-the-crm-side");
    const id = await createOrder(f.db.pool);
    await sidecar.waitForLog((l) => l.msg === "delivery paused", 10_000, "delivery paused");
    const r = await cli(t, "status");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^delivery +PAUSED for \S+: HTTP 401.*Invalid token/m);
    assert.match(r.stdout, /✖ delivery paused for \S+: HTTP 401/);
    const s = await status(t);
    assert.ok(s.json.problems.some((p) => p.code === "delivery_paused"));
    assert.match(s.json.delivery.reason ?? "", /401/);
    f.crm.setToken(TEST_CRM_TOKEN);
    await waitUntil(delivered(id), "delivery after the token is fixed");
    await sidecar.waitForLog((l) => l.msg === "delivery resumed", 10_000, "delivery resumed");
  });

  await t.test("a dead letter: listed, shown with its attempts, retried and delivered", async (t) => {
    f.crm.queueResponses([{ kind: "http", status: 422, body: '{"detail":"PRICE is not a number"}' }]);
    const id = await createOrder(f.db.pool);
    await waitUntil(() => stateRows(f.stateDir, id).some((r) => r.state === "dead"), "a dead letter");
    const st = await cli(t, "status");
    assert.equal(st.code, 1);
    assert.match(st.stdout, /✖ 1 dead letter \(the CRM rejected the payload\)/);

    const list = await cli(t, "outbox", "list", "--state", "dead");
    assert.equal(list.code, 0);
    const [entryId] = stateRows(f.stateDir, id).map((r) => r.id);
    assert.match(list.stdout, new RegExp(`^${entryId} +${id} +0 +order.create +dead +1 .*HTTP 422`, "m"));
    const listJson = JSON.parse((await cli(t, "outbox", "list", "--state", "dead", "--json")).stdout);
    assert.equal(listJson.total, 1);
    assert.equal(listJson.entries[0].id, entryId);

    const show = await cli(t, "outbox", "show", String(entryId));
    assert.equal(show.code, 0);
    assert.match(show.stdout, /^state +dead · dead letter: waits for outbox retry$/m);
    assert.match(
      show.stdout,
      /delivery attempts \(1\):\n +TIME +HTTP +DURATION +OUTCOME +ERROR\n +\S+ \S+ +422 +\d+ ms +rejected +.*PRICE is not a number/,
    );
    assert.match(show.stdout, new RegExp(`"ID": "${id}"`), "the payload, pretty-printed");
    const shown = JSON.parse((await cli(t, "outbox", "show", String(entryId), "--json")).stdout);
    assert.equal(shown.entry.payload.ID, String(id));
    assert.deepEqual(
      shown.attempts.map((a: { httpStatus: number; outcome: string }) => [a.httpStatus, a.outcome]),
      [[422, "rejected"]],
    );

    const retry = await cli(t, "outbox", "retry", String(entryId));
    assert.equal(retry.code, 0);
    assert.match(retry.stdout, new RegExp(`^#${entryId} order ${id} v0: pending again, due now$`, "m"));
    assert.match(retry.stdout, /daemon woken/);
    await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "the retried dead letter delivered");
    await waitUntil(delivered(id), "the entry marked delivered");
    const after = JSON.parse((await cli(t, "outbox", "show", String(entryId), "--json")).stdout);
    assert.deepEqual(
      after.attempts.map((a: { outcome: string }) => a.outcome),
      ["rejected", "delivered"],
    );
  });

  await t.test("retry never sends an older snapshot after a newer one; drop asks for --yes", async (t) => {
    f.crm.queueResponses([{ kind: "http", status: 422, body: '{"detail":"bad basket"}' }]);
    const id = await createOrder(f.db.pool);
    await waitUntil(() => stateRows(f.stateDir, id).some((r) => r.state === "dead"), "a dead letter");
    const deadId = stateRows(f.stateDir, id)[0]!.id;
    f.crm.setMode({ kind: "http", status: 503 });
    await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "PD" } });
    await waitUntil(() => stateRows(f.stateDir, id).some((r) => r.state === "pending"), "the newer snapshot");
    const newerId = stateRows(f.stateDir, id).find((r) => r.state === "pending")!.id;

    const superseded = await cli(t, "outbox", "retry", String(deadId));
    assert.equal(superseded.code, 1);
    assert.match(
      superseded.stdout,
      new RegExp(`NOT re-sent, the order's newer entry #${newerId} is pending`),
    );
    assert.equal(stateRows(f.stateDir, id).filter((r) => r.state === "pending").length, 1);

    f.crm.setMode({ kind: "ok" });
    await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "the newer snapshot delivered");
    await waitUntil(delivered(id), "the newer entry marked delivered");
    const all = await cli(t, "outbox", "retry", "--dead");
    assert.equal(all.code, 1);
    assert.match(all.stdout, new RegExp(`#${deadId} order ${id} v0: NOT re-sent, the CRM already has v1`));
    await sleep(300);
    assert.deepEqual(
      f.crm.acceptedFor(id).map((d) => d.data["VERSION"]),
      ["1"],
      "the older snapshot was never sent",
    );

    const refused = await cli(t, "outbox", "drop", String(deadId));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /stdin is not a terminal; add --yes/);
    assert.equal((await cli(t, "outbox", "show", String(deadId))).code, 0, "still there");
    const dropped = await cli(t, "outbox", "drop", String(deadId), "--yes");
    assert.equal(dropped.code, 0);
    assert.match(dropped.stdout, new RegExp(`^dropped #${deadId} \\(order ${id} v0, dead\\)$`, "m"));
    const gone = await cli(t, "outbox", "show", String(deadId));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no outbox entry #${deadId}`));
    assert.equal((await cli(t, "status")).code, 0, "nothing needs attention any more");
  });

  await t.test("bad input is a usage error naming the option", async (t) => {
    const badId = await cli(t, "outbox", "show", "12x");
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /'12x' is invalid for argument 'id'/);
    const badState = await cli(t, "outbox", "list", "--state", "stuck");
    assert.equal(badState.code, 2);
    assert.match(
      badState.stderr,
      /option '--state <state>' argument 'stuck' is invalid. expected one of pending, delivered, dead/,
    );
    const badSince = await cli(t, "outbox", "list", "--since", "27.11.2026");
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /option '--since <date>'/);
    const both = await cli(t, "outbox", "retry", "5", "--dead");
    assert.equal(both.code, 2);
    const unknown = await cli(t, "outbox", "retry", "999999");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no outbox entry #999999/);
  });

  await t.test(
    "with the daemon stopped: exit 1, not running, counts still shown from the state",
    async (t) => {
      await sidecar.stop();
      const r = await cli(t, "status");
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        new RegExp(`^daemon +NOT RUNNING \\(nothing answers http://127.0.0.1:${port}/healthz\\)$`, "m"),
      );
      assert.match(r.stdout, /^outbox +pending 0 · delivered 5 · dead 0$/m);
      assert.match(r.stdout, /✖ the daemon is not running/);
      const s = await status(t);
      assert.equal(s.json.daemon.running, false);
      assert.deepEqual(
        s.json.problems.map((p) => p.code),
        ["daemon_not_running"],
      );
      assert.equal(s.json.outbox!.delivered, 5);
      const anyDelivered = f.crm.acceptedFor(s.json.deliveries!.lastSuccess!.orderId).length;
      assert.ok(anyDelivered >= 1);
      const [row] = stateRows(f.stateDir, s.json.deliveries!.lastSuccess!.orderId).filter(
        (r) => r.state === "delivered",
      );
      const resend = await cli(t, "outbox", "retry", String(row!.id));
      assert.equal(resend.code, 0, "a delivered entry can be sent again, with the daemon down too");
      assert.match(resend.stdout, /the daemon did not answer \(not running\?\): the entries go when it runs/);
      assert.equal(
        stateRows(f.stateDir, s.json.deliveries!.lastSuccess!.orderId).find((r) => r.id === row!.id)!.state,
        "pending",
      );
    },
  );
});
