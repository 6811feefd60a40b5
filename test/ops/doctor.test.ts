import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import mysql from "mysql2/promise";
import { bitrixNow, createOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { endpointFromEnv, formatMysqlUrl } from "../support/mariadb.js";
import { runCli } from "../support/sidecar-process.js";
import { startStatusFeedServer } from "../support/status-feed-server.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";

/** The doctor's line for one check ("✔ crm token: accepted ..."), failing the test when absent. */
function line(stdout: string, check: string): string {
  const hit = stdout.split("\n").find((l) => l.slice(2).startsWith(`${check}:`));
  assert.ok(hit, `no "${check}" line in:\n${stdout}`);
  return hit;
}

async function doctor(f: SyncFixture, ...args: string[]) {
  return runCli(["doctor", "--config", f.configFile, ...args], { timeoutMs: 30_000 });
}

/** A MySQL account with SELECT on every capture table but one; dropped after the test. */
async function userWithoutPaymentGrant(t: { after: (fn: () => Promise<void>) => void }, f: SyncFixture) {
  const user = `cvety_dr_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await f.db.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, password]);
  t.after(async () => {
    const admin = await mysql.createConnection(endpointFromEnv());
    await admin.query("DROP USER IF EXISTS ?@'%'", [user]);
    await admin.end();
  });
  for (const table of ["b_sale_order", "b_sale_basket", "b_sale_order_props_value", "b_sale_order_delivery"])
    await f.db.query(`GRANT SELECT ON \`${f.db.name}\`.\`${table}\` TO ?@'%'`, [user]);
  await f.db.query(
    `GRANT SELECT (ID, LOGIN, EMAIL, NAME, LAST_NAME, PERSONAL_PHONE) ON \`${f.db.name}\`.b_user TO ?@'%'`,
    [user],
  );
  const e = f.db.endpoint;
  return { user, url: formatMysqlUrl({ ...e, user, password }, f.db.name) };
}

test("doctor on a good setup, beside the running daemon: every check passes, exit 0", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_ok" });
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1);
  const r = await doctor(f);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const check of [
    "config",
    "mysql reachable",
    "mysql grants",
    "bitrix tables",
    "mysql clock",
    "bitrix DATE_UPDATE",
    "crm reachable",
    "crm token",
    "state integrity",
    "disk space (state)",
    "disk space (log)",
    "log writable",
  ])
    assert.match(line(r.stdout, check), /^✔ /, check);
  assert.match(line(r.stdout, "writeback source"), /^- .*disabled/);
  assert.match(line(r.stdout, "mysql clock"), /offset [+-]?\d+ s/);
  assert.match(line(r.stdout, "state integrity"), /outbox\.db: ok/);
  assert.doesNotMatch(r.stdout, new RegExp(f.crm.token), "the token never reaches the output");

  const json = await doctor(f, "--json");
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> };
  assert.equal(parsed.ok, true);
  assert.equal(parsed.checks.find((c) => c.name === "crm token")?.status, "ok");
  assert.equal((await sidecar.stop()).code, 0);
});

test("doctor names a wrong CRM token, exit 1", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_token" });
  f.writeConfig({ crmToken: "not-the-crm-token" });
  const r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  assert.match(line(r.stdout, "crm reachable"), /^✔ /);
  assert.match(line(r.stdout, "crm token"), /^✖ crm token: the CRM rejects the token \(HTTP 401\)/);
  assert.match(r.stdout, /→ set \[crm\] token/);
  assert.doesNotMatch(r.stdout, /not-the-crm-token/);
});

test("doctor names a missing grant and the GRANT that fixes it, exit 1", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_grant" });
  const { user, url } = await userWithoutPaymentGrant(t, f);
  f.writeConfig({ mysqlUrl: url });
  const r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  assert.match(line(r.stdout, "mysql reachable"), /^✔ /);
  const grants = line(r.stdout, "mysql grants");
  assert.equal(
    grants,
    `✖ mysql grants: '${user}'@'%' lacks SELECT ON ${f.db.name}.b_sale_order_payment (needed by capture)`,
  );
  assert.ok(
    r.stdout.includes(`GRANT SELECT ON \`${f.db.name}\`.\`b_sale_order_payment\` TO '${user}'@'%';`),
    r.stdout,
  );
  // The table it cannot see is not reported missing from the schema.
  assert.match(line(r.stdout, "bitrix tables"), /^✔ .*not checked without a grant: b_sale_order_payment/);
});

test("doctor with write-back enabled names the missing UPDATE and INSERT grants", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_wbgrant" });
  const { user, url } = await userWithoutPaymentGrant(t, f);
  await f.db.query(`GRANT SELECT ON \`${f.db.name}\`.* TO ?@'%'`, [user]);
  await f.db.query(`GRANT INSERT ON \`${f.db.name}\`.b_event TO ?@'%'`, [user]);
  f.writeConfig({
    mysqlUrl: url,
    sections: {
      writeback: {
        enabled: true,
        source: "feed",
        url: f.crm.url,
        token: "feed-token",
        ca_file: f.pki.caFile,
      },
    },
  });
  const r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  const grants = line(r.stdout, "mysql grants");
  assert.match(
    grants,
    new RegExp(
      `^✖ mysql grants: '${user}'@'%' lacks UPDATE \\(STATUS_ID, DATE_STATUS, EMP_STATUS_ID, UPDATED_1C, VERSION, DATE_UPDATE\\) ON ${f.db.name}\\.b_sale_order; INSERT ON ${f.db.name}\\.b_sale_order_change \\(needed by capture and write-back\\)$`,
    ),
  );
});

test("doctor catches a time zone that disagrees with MySQL and a DATE_UPDATE in the future, exit 1", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_clock" });
  // PHP (here: the test writer) stamps an order ten minutes ahead of this host's clock.
  const ahead = shiftBitrixTime(bitrixNow(), 600);
  await createOrder(f.db.pool, {}, { dateUpdate: ahead });
  let r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  assert.match(line(r.stdout, "mysql clock"), /^✔ /);
  const future = line(r.stdout, "bitrix DATE_UPDATE");
  assert.match(
    future,
    new RegExp(`^✖ bitrix DATE_UPDATE: newest b_sale_order.DATE_UPDATE ${ahead} is \\d+ s in the future`),
  );
  const seconds = Number(/is (\d+) s in the future/.exec(future)![1]);
  assert.ok(seconds > 500 && seconds <= 600, `about ten minutes (${seconds} s)`);

  // A [bitrix] timezone 14 hours away from this host and MySQL (both on the test machine's zone).
  f.writeConfig({ sections: { bitrix: { timezone: "Pacific/Kiritimati" } } });
  await f.db.query("UPDATE b_sale_order SET DATE_UPDATE = ?", [bitrixNow()]);
  r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  const clock = line(r.stdout, "mysql clock");
  assert.match(clock, /^✖ mysql clock: MySQL NOW\(\) .* in Pacific\/Kiritimati: offset -\d+ s/);
  const offset = Number(/offset (-\d+) s/.exec(clock)![1]);
  assert.ok(Math.abs(offset) > 3600, `hours apart (${offset})`);
  assert.match(r.stdout, /→ the time zones disagree/);
});

test("doctor on an invalid config prints the failed check with key and file, exit 78", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_config" });
  writeFileSync(
    f.configFile,
    `${'[crm]\nurl = "https://x.example"\ntoken = "t"\n'}[capture]\npoll_interval_ms = "fast"\n`,
  );
  const r = await doctor(f);
  assert.equal(r.code, 78, r.stdout + r.stderr);
  const config = line(r.stdout, "config");
  assert.match(config, /^✖ config: .*config\.toml: capture\.poll_interval_ms/);
  assert.match(r.stdout, /→ fix capture\.poll_interval_ms in .*config\.toml/);
});

test("doctor with write-back enabled checks the source: answers with the token, and names a wrong one", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_wb" });
  const feed = await startStatusFeedServer({ pki: f.pki, token: "feed-token-0123456789" });
  t.after(() => feed.stop());
  const writeback = {
    enabled: true,
    source: "feed",
    url: feed.url,
    token: "feed-token-0123456789",
    ca_file: f.pki.caFile,
  };
  f.writeConfig({ sections: { writeback } });
  let r = await doctor(f);
  assert.match(
    line(r.stdout, "writeback source"),
    /^✔ writeback source: feed at https:\/\/127\.0\.0\.1:\d+ answers/,
  );
  assert.match(line(r.stdout, "mysql grants"), /^✔ .*holds what capture and write-back needs/);
  assert.match(line(r.stdout, "bitrix tables"), /^✔ .*\(write-back included\)/);

  f.writeConfig({ sections: { writeback: { ...writeback, token: "wrong-feed-token" } } });
  r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  assert.match(line(r.stdout, "writeback source"), /^✖ writeback source: feed at .*401/);
  assert.match(r.stdout, /→ set \[writeback\] token/);
  assert.doesNotMatch(r.stdout, /wrong-feed-token/);
});

test("doctor with MySQL unreachable fails that check and skips the ones that need it, exit 1", async (t) => {
  const f = await setupSync(t, { prefix: "doctor_down" });
  // A port nothing listens on: the connection is refused at once.
  f.writeConfig({ mysqlUrl: f.db.url.replace(/:(\d+)\//, ":1/") });
  const r = await doctor(f);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    line(r.stdout, "mysql reachable"),
    /^✖ mysql reachable: cannot connect to .*@127\.0\.0\.1:1\/.*ECONNREFUSED/,
  );
  for (const check of ["mysql grants", "bitrix tables", "mysql clock", "bitrix DATE_UPDATE"])
    assert.match(line(r.stdout, check), /^- .*MySQL unreachable/, check);
  assert.match(line(r.stdout, "crm token"), /^✔ /, "the CRM is checked all the same");
});
