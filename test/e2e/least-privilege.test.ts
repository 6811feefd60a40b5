/**
 * The daemon logged in as exactly the MySQL user `install --create-mysql-user`
 * makes (the installer's own grant statements, installer/mysql/sidecar-grants.ts):
 * capture, delivery and write-back with notify_customer = true all work; taking
 * away one grant at a time gives an error naming that grant, in the log and in
 * /readyz, writes nothing, and the work goes through once the grant is back.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import mysql from "mysql2/promise";
import { grantStatements, sidecarGrants, type TableGrant } from "../../installer/mysql/sidecar-grants.js";
import { createOrder } from "../support/bitrix-writer.js";
import { startFeedWriteback } from "../support/feed-writeback.js";
import { freeLoopbackPort } from "../support/free-port.js";
import { endpointFromEnv, type TestDatabase } from "../support/mariadb.js";
import { runCli, type SidecarProcess } from "../support/sidecar-process.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";

const HOST = "%";

interface SidecarUser {
  name: string;
  password: string;
  revoke(grant: TableGrant): Promise<void>;
  grant(grant: TableGrant): Promise<void>;
}

/** The installer's user and grants, on this test's database. */
async function createSidecarUser(t: Parameters<typeof setupSync>[0], db: TestDatabase): Promise<SidecarUser> {
  const name = `cvety_lp_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(16).toString("hex");
  const admin = await mysql.createConnection(endpointFromEnv());
  t.after(async () => {
    await admin.query("DROP USER IF EXISTS ?@?", [name, HOST]);
    await admin.end();
  });
  await admin.query("CREATE USER ?@? IDENTIFIED BY ?", [name, HOST, password]);
  const run = async (grants: TableGrant[], verb: "GRANT" | "REVOKE") => {
    for (const g of grantStatements(db.name, { name, host: HOST }, grants)) {
      const sql =
        verb === "GRANT" ? g.sql : g.sql.replace(/^GRANT /, "REVOKE ").replace(/ TO \?@\?$/, " FROM ?@?");
      await admin.query(sql, g.params);
    }
  };
  await run(sidecarGrants(), "GRANT");
  return {
    name,
    password,
    revoke: (g) => run([g], "REVOKE"),
    grant: (g) => run([g], "GRANT"),
  };
}

/** One of the installer's grants, narrowed to one column where it is column-level. */
function installerGrant(privilege: TableGrant["privilege"], table: string, column?: string): TableGrant {
  const g = sidecarGrants().find((x) => x.privilege === privilege && x.table === table);
  assert.ok(g, `the installer grants ${privilege} on ${table}`);
  if (column === undefined) return g;
  assert.ok(g.columns?.includes(column), `the installer grants ${privilege} (${column}) on ${table}`);
  return { ...g, columns: [column] };
}

async function setupAsSidecarUser(t: Parameters<typeof setupSync>[0]) {
  const f = await setupSync(t, { prefix: "e2e_lp" });
  const { feed, writeback } = await startFeedWriteback(t, f, { notify_customer: true });
  const user = await createSidecarUser(t, f.db);
  const url = new URL(f.db.url);
  url.username = user.name;
  url.password = user.password;
  f.writeConfig({
    mysqlUrl: url.toString(),
    sections: {
      // A fixed port: `status` finds the daemon through [http] listen.
      http: { listen: `127.0.0.1:${await freeLoopbackPort()}` },
      writeback,
    },
  });
  const sidecar = await f.startSidecar();
  return { f, feed, user, sidecar };
}

async function readyz(sidecar: SidecarProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${sidecar.httpAddress}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What a status write touches: the order row, its history lines, the e-mail events. */
async function bitrixState(db: TestDatabase, id: number) {
  const [order] = await db.query("SELECT * FROM b_sale_order WHERE ID = ?", [id]);
  const [history] = await db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM b_sale_order_change WHERE ORDER_ID = ? AND TYPE = 'ORDER_STATUS_CHANGED'",
    [id],
  );
  const [events] = await db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM b_event WHERE EVENT_NAME LIKE 'SALE_STATUS_CHANGED%' AND C_FIELDS LIKE ?",
    [`%"${id}"%`],
  );
  return { order, history: Number(history!.n), events: Number(events!.n) };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function delivered(f: SyncFixture): Promise<number> {
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, `order ${id} delivered`);
  return id;
}

test("as the installer's MySQL user: capture, delivery and write-back with the customer e-mail all work", async (t) => {
  const { f, feed, sidecar } = await setupAsSidecarUser(t);
  const id = await delivered(f);
  assert.equal(f.crm.acceptedFor(id)[0]!.event, "order.create");
  assert.ok(((f.crm.acceptedFor(id)[0]!.data["basket"] as unknown[]) ?? []).length > 0, "with its basket");

  feed.push({ order_id: id, status: "in_transit" });
  await waitUntil(
    "the status written",
    async () => (await bitrixState(f.db, id)).order?.["STATUS_ID"] === "DE",
  );
  const after = await bitrixState(f.db, id);
  assert.equal(after.history, 1, "one ORDER_STATUS_CHANGED line");
  assert.equal(after.events, 1, "one customer e-mail event (notify_customer = true)");
  const ready = await readyz(sidecar);
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  assert.equal(ready.body["capture"], "ok");
  assert.equal(ready.body["writeback"], "ok");
  assert.equal(sidecar.logLines().filter((l) => l.level === "error").length, 0);
});

test("as the installer's MySQL user: each grant taken away names itself, writes nothing, and recovers", async (t) => {
  const { f, feed, user, sidecar } = await setupAsSidecarUser(t);
  await delivered(f); // everything works before a grant goes

  await t.test("SELECT on b_sale_basket: capture stops before queueing anything", async () => {
    const grant = installerGrant("SELECT", "b_sale_basket");
    await user.revoke(grant);
    const id = await createOrder(f.db.pool);
    const line = await sidecar.waitForLog(
      (l) => l.msg === "capture failed: missing MySQL grant",
      15_000,
      "the capture grant error",
    );
    assert.equal(line.level, "error");
    assert.match(
      String(line["reason"]),
      /lacks SELECT on b_sale_basket: GRANT SELECT ON `[^`]+`\.`b_sale_basket` TO '/,
    );
    const ready = await readyz(sidecar);
    assert.equal(ready.status, 503);
    assert.match(
      String(ready.body["capture"]),
      /^failing: MySQL refused a read, nothing was captured: .*lacks SELECT on b_sale_basket/,
    );
    const status = await runCli(["status", "--config", f.configFile]);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(
      status.stdout,
      /✖ capture failing: MySQL refused a read, nothing was captured: .*lacks SELECT on b_sale_basket/,
    );
    await sleep(500);
    assert.equal(f.crm.acceptedFor(id).length, 0, "no snapshot without its basket reached the CRM");

    await user.grant(grant);
    await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 40_000, "the order once the grant is back");
    assert.ok(((f.crm.acceptedFor(id)[0]!.data["basket"] as unknown[]) ?? []).length > 0, "with its basket");
    await waitUntil("readyz ok", async () => (await readyz(sidecar)).status === 200);
  });

  const writeGrants: Array<[string, TableGrant, RegExp]> = [
    [
      "UPDATE (STATUS_ID) on b_sale_order",
      installerGrant("UPDATE", "b_sale_order", "STATUS_ID"),
      /lacks UPDATE \(STATUS_ID\) on b_sale_order: GRANT UPDATE \(STATUS_ID\) ON `[^`]+`\.`b_sale_order` TO '/,
    ],
    [
      "INSERT on b_sale_order_change",
      installerGrant("INSERT", "b_sale_order_change"),
      /lacks INSERT on b_sale_order_change: GRANT INSERT ON `[^`]+`\.`b_sale_order_change` TO '/,
    ],
    [
      "INSERT on b_event",
      installerGrant("INSERT", "b_event"),
      /lacks INSERT on b_event: GRANT INSERT ON `[^`]+`\.`b_event` TO '/,
    ],
  ];
  for (const [name, grant, expected] of writeGrants) {
    await t.test(`${name}: write-back pauses, the order, history and e-mail stay as they were`, async () => {
      const id = await delivered(f);
      const before = await bitrixState(f.db, id);
      const errorsBefore = sidecar.logLines().filter((l) => l.msg === "write-back paused, retrying").length;
      await user.revoke(grant);
      feed.push({ order_id: id, status: "in_transit" });
      await waitUntil(
        "the write-back grant error",
        async () =>
          sidecar.logLines().filter((l) => l.msg === "write-back paused, retrying").length > errorsBefore,
        15_000,
      );
      const line = sidecar
        .logLines()
        .filter((l) => l.msg === "write-back paused, retrying")
        .at(-1)!;
      assert.equal(line.level, "error");
      assert.equal(line["code"], "E_WRITEBACK_GRANT");
      assert.match(String(line["reason"]), /^MySQL refused a write-back statement, nothing was written: /);
      assert.match(String(line["reason"]), expected);
      const ready = await readyz(sidecar);
      assert.equal(ready.status, 503);
      assert.match(String(ready.body["writeback"]), expected);
      const status = await runCli(["status", "--config", f.configFile]);
      assert.equal(status.code, 1, status.stdout + status.stderr);
      assert.match(status.stdout, /✖ write-back paused: MySQL refused a write-back statement/);
      assert.match(status.stdout, expected);
      await sleep(500); // a retry or two, still refused
      assert.deepEqual(await bitrixState(f.db, id), before, "order row, history and e-mail untouched");

      await user.grant(grant);
      await waitUntil("the change applied once the grant is back", async () => {
        return (await bitrixState(f.db, id)).order?.["STATUS_ID"] === "DE";
      });
      const after = await bitrixState(f.db, id);
      assert.equal(after.history, 1, "one history line");
      assert.equal(after.events, 1, "one e-mail event");
      await waitUntil("readyz ok", async () => (await readyz(sidecar)).status === 200);
    });
  }
});
