import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import mysql from "mysql2/promise";
import { createOrder } from "../support/bitrix-writer.js";
import { startCrmServer } from "../support/crm-server.js";
import { startFeedWriteback } from "../support/feed-writeback.js";
import { endpointFromEnv, type TestDatabase } from "../support/mariadb.js";
import { sampleValue, scrapeMetrics } from "../support/scrape-metrics.js";
import type { LogLine, SidecarProcess } from "../support/sidecar-process.js";
import { setupSync } from "../support/sync-fixture.js";

const SECOND_TOKEN = "second-crm-token-fedcba9876543210";

function started(sidecar: SidecarProcess): number {
  return sidecar.logLines().filter((l) => l.msg === "cvety-sidecar started").length;
}

/** The n-th (1-based) log line with this message, waiting for it. */
async function nthLog(sidecar: SidecarProcess, msg: string, n: number): Promise<LogLine> {
  await sidecar.waitForLog(
    () => sidecar.logLines().filter((l) => l.msg === msg).length >= n,
    10_000,
    `${msg} #${n}`,
  );
  return sidecar.logLines().filter((l) => l.msg === msg)[n - 1]!;
}

async function waitForStatus(db: TestDatabase, id: number, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await db.query<{ STATUS_ID: string }>("SELECT STATUS_ID FROM b_sale_order WHERE ID = ?", [
      id,
    ]);
    if (row?.STATUS_ID === status) return;
    if (Date.now() > deadline) throw new Error(`order ${id} did not reach ${status} (is ${row?.STATUS_ID})`);
    await sleep(25);
  }
}

test("a new CRM URL and token in the file send the next order to the new CRM, no restart; log level applies", async (t) => {
  const f = await setupSync(t, { prefix: "reload_crm" });
  const second = await startCrmServer({ token: SECOND_TOKEN, pki: f.pki });
  t.after(() => second.stop());
  const sidecar = await f.startSidecar();
  const first = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(first).length === 1);

  f.writeConfig({
    crmUrl: second.url,
    crmToken: SECOND_TOKEN,
    sections: { log: { level: "warn" }, capture: { poll_interval_ms: 150 } },
  });
  const reloaded = await nthLog(sidecar, "config reloaded", 1);
  assert.deepEqual(reloaded["changed"], ["capture.poll_interval_ms", "crm.token", "crm.url", "log.level"]);
  assert.deepEqual(reloaded["needsRestart"], []);
  assert.doesNotMatch(JSON.stringify(sidecar.logLines()), new RegExp(SECOND_TOKEN), "no secret in the log");

  const next = await createOrder(f.db.pool);
  await second.waitFor((c) => c.acceptedFor(next).length === 1, 10_000, "the order at the second CRM");
  assert.equal(f.crm.acceptedFor(next).length, 0, "nothing more to the first CRM");
  assert.equal(started(sidecar), 1, "no restart");
  assert.equal(sidecar.child.exitCode, null);
  await sleep(300);
  assert.ok(
    !sidecar.logLines().some((l) => l.msg === "order captured" && l["orderId"] === next),
    "log level warn: the info line of the new order is not written",
  );
  const metrics = await scrapeMetrics(sidecar.httpAddress!);
  assert.equal(sampleValue(metrics, "cvety_sidecar_config_reloads_total", { result: "applied" }), 1);

  // A key that cannot change live is named, and the rest of the daemon is left as it was.
  f.writeConfig({ sections: { http: { listen: "127.0.0.1:0" }, state: { dir: join(f.dir, "elsewhere") } } });
  const restart = await nthLog(sidecar, "config change needs a restart", 1);
  assert.deepEqual(restart["keys"], ["state.dir"]);
  assert.equal(sidecar.child.exitCode, null);
  assert.equal((await sidecar.stop()).code, 0);
});

test("an invalid change is refused with key and file, the old config keeps working; SIGHUP re-reads", async (t) => {
  const f = await setupSync(t, { prefix: "reload_bad" });
  const sidecar = await f.startSidecar();
  f.writeConfig({ sections: { capture: { poll_interval_ms: 5 } } });
  const refused = await nthLog(sidecar, "config reload refused, keeping the running config", 1);
  assert.equal(refused["key"], "capture.poll_interval_ms");
  assert.equal(refused["file"], f.configFile);
  assert.match(String(refused["err"]), /capture\.poll_interval_ms: must be at least 20/);
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "delivery with the old config");

  // A token that breaks TOML: refused too, and the token is nowhere in the log.
  writeFileSync(f.configFile, `[crm]\nurl = "${f.crm.url}"\ntoken = "unterminated-secret-4711\n`);
  const broken = await nthLog(sidecar, "config reload refused, keeping the running config", 2);
  assert.equal(broken["file"], f.configFile);
  assert.doesNotMatch(JSON.stringify(sidecar.logLines()), /unterminated-secret-4711/);
  const again = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(again).length === 1, 10_000, "still delivering");

  f.writeConfig({ sections: { capture: { poll_interval_ms: 100 } } });
  await nthLog(sidecar, "config unchanged", 1);
  sidecar.child.kill("SIGHUP");
  const sighup = await nthLog(sidecar, "config unchanged", 2);
  assert.equal(sighup["reason"], "SIGHUP");
  await nthLog(sidecar, "log file reopened", 1);
  assert.equal(started(sidecar), 1);
  assert.equal((await sidecar.stop()).code, 0);
});

test("a status map change applies to the next CRM status change without a restart", async (t) => {
  const f = await setupSync(t, { prefix: "reload_map" });
  const { feed, writeback } = await startFeedWriteback(t, f);

  f.writeConfig({ sections: { writeback } });
  const sidecar = await f.startSidecar();
  const a = await createOrder(f.db.pool);
  const b = await createOrder(f.db.pool);
  feed.push({ order_id: a, status: "assembled" });
  await waitForStatus(f.db, a, "CO");

  f.writeConfig({ extraToml: '[writeback.status_map]\nassembled = "RD"\n', sections: { writeback } });
  const reloaded = await nthLog(sidecar, "config reloaded", 1);
  assert.deepEqual(reloaded["changed"], ["writeback.status_map.assembled"]);
  feed.push({ order_id: b, status: "assembled" });
  await waitForStatus(f.db, b, "RD");
  assert.equal(started(sidecar), 1);
  assert.equal((await sidecar.stop()).code, 0);
});

test("new MySQL credentials in Bitrix's .settings.php reconnect capture without a restart", async (t) => {
  const f = await setupSync(t, { prefix: "reload_settings" });
  const user = `cvety_rl_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await f.db.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, password]);
  t.after(async () => {
    const admin = await mysql.createConnection(endpointFromEnv());
    await admin.query("DROP USER IF EXISTS ?@'%'", [user]);
    await admin.end();
  });
  await f.db.query(`GRANT SELECT ON \`${f.db.name}\`.* TO ?@'%'`, [user]);
  const root = join(f.dir, "www");
  mkdirSync(join(root, "bitrix"), { recursive: true });
  const e = f.db.endpoint;
  const settings = (pw: string) =>
    `<?php\nreturn array (\n  'connections' => array (\n    'value' => array (\n      'default' => array (\n        'className' => '\\\\Bitrix\\\\Main\\\\DB\\\\MysqliConnection',\n        'host' => '${e.host}:${e.port}',\n        'database' => '${f.db.name}',\n        'login' => '${user}',\n        'password' => '${pw}',\n        'options' => 2,\n      ),\n    ),\n    'readonly' => true,\n  ),\n);\n`;
  // The Bitrix admin changed the password in MySQL, and .settings.php still has the old one.
  writeFileSync(join(root, "bitrix", ".settings.php"), settings("an-old-password"));
  const configFile = f.writeConfig({ sections: { bitrix: { root } } });
  // No [mysql] url: the credentials come from .settings.php.
  writeFileSync(configFile, readFileSync(configFile, "utf8").replace(/^url = "mysql:.*\n/m, ""));
  const sidecar = await f.startSidecar();
  await sidecar.waitForLog((l) => l.msg === "capture failed", 10_000, "capture refused by MySQL");
  const id = await createOrder(f.db.pool);

  writeFileSync(join(root, "bitrix", ".settings.php"), settings(password));
  const reloaded = await nthLog(sidecar, "config reloaded", 1);
  assert.deepEqual(reloaded["changed"], ["mysql credentials"]);
  assert.match(String(reloaded["reason"]), /\.settings\.php/);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "the order after the reconnect");
  assert.doesNotMatch(JSON.stringify(sidecar.logLines()), new RegExp(password));
  assert.equal(started(sidecar), 1);
  assert.equal((await sidecar.stop()).code, 0);
});

test("delivery paused by a wrong token resumes as soon as the file has the right one", async (t) => {
  const f = await setupSync(t, { prefix: "reload_token" });
  // Probes a minute apart: only the reload itself can resume delivery within the test's wait.
  const sections = { delivery: { pause_probe_ms: 60_000 } };
  f.writeConfig({ crmToken: "a-wrong-token", sections });
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await sidecar.waitForLog((l) => l.msg === "delivery paused", 10_000, "pause on 401");

  f.writeConfig({ crmToken: f.crm.token, sections });
  const reloaded = await nthLog(sidecar, "config reloaded", 1);
  assert.deepEqual(reloaded["changed"], ["crm.token"]);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "delivery after the token fix");
  assert.equal(started(sidecar), 1);
  assert.equal((await sidecar.stop()).code, 0);
});
