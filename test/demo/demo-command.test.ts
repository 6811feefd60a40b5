import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import mysql from "mysql2/promise";
import { endpointFromEnv } from "../support/mysql-endpoint.js";
import { runCli, SIDECAR_BIN } from "../support/sidecar-process.js";

/** Whether a database of that name exists on the test server. */
async function databaseExists(name: string): Promise<boolean> {
  const { host, port, user, password } = endpointFromEnv();
  const connection = await mysql.createConnection({ host, port, user, password });
  try {
    const [rows] = await connection.query("SHOW DATABASES LIKE ?", [name]);
    return (rows as unknown[]).length > 0;
  } finally {
    await connection.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the demo printed about its database, temp folder and daemon. */
function namesIn(output: string): { database: string; dir: string; daemonPid: number } {
  const database = /database (cvety_demo_\d+)/.exec(output)?.[1];
  const dir = /--config (\S+)\/config\.toml/.exec(output)?.[1];
  const daemonPid = Number(/Daemon: .*\(pid (\d+)\)/.exec(output)?.[1]);
  assert.ok(database && dir && daemonPid > 0, `names not found in the output:\n${output}`);
  return { database, dir, daemonPid };
}

test("the demo shows orders reaching the CRM and CRM statuses applied in Bitrix, then removes everything", async () => {
  const r = await runCli(["demo", "--duration", "20"], { timeoutMs: 120_000 });
  const output = r.stdout + r.stderr;
  assert.equal(r.code, 0, output);
  assert.match(r.stdout, /CRM {6}← order\.create #\d+ v0 N «Новый», \S+/, "a new order delivered to the CRM");
  assert.match(r.stdout, /CRM {6}← order\.update #\d+ v1 PD «Оплачен»/, "a Bitrix status change delivered");
  assert.match(r.stdout, /Bitrix {3}← #\d+ "confirmed" applied: STATUS_ID N → AP «Подтверждён»/);
  assert.match(r.stdout, /b_sale_order\.STATUS_ID is now [A-Z]{1,2} /);
  assert.match(r.stdout, /b_sale_order_change ORDER_STATUS_CHANGED at .*: a:2:\{s:9:"STATUS_ID";/);
  assert.match(r.stdout, /none of those versions was sent back to the CRM \(no echo\)/);
  assert.match(r.stdout, /Both directions seen/);
  assert.match(r.stdout, /cvety-sidecar outbox list --config \S+\/config\.toml/);

  const { database, dir, daemonPid } = namesIn(r.stdout);
  assert.equal(await databaseExists(database), false, `${database} dropped`);
  assert.equal(existsSync(dir), false, `${dir} removed`);
  assert.equal(isAlive(daemonPid), false, "daemon stopped");
});

test("Ctrl-C stops the demo early and still drops the database, stops the daemon and removes the temp folder", async () => {
  const child = spawn(process.execPath, [SIDECAR_BIN, "demo", "--duration", "60"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/CRM {6}← order\.create/.test(output)) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `no delivery seen:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGINT");
  const code = await exited;

  assert.match(output, /SIGINT: stopping the demo and cleaning up/);
  assert.ok(code === 0 || code === 1, `exit code ${code}\n${output}`);
  assert.match(
    output,
    /Cleaned up: stopped the daemon, .*dropped the database cvety_demo_\d+, .*removed the temp folder/,
  );
  const { database, dir, daemonPid } = namesIn(output);
  assert.equal(await databaseExists(database), false, `${database} dropped`);
  assert.equal(existsSync(dir), false, `${dir} removed`);
  assert.equal(isAlive(daemonPid), false, "daemon stopped");
});

test("without a MariaDB the demo says what it needs, exits 1 and leaves no temp folder behind", async () => {
  const r = await runCli(["demo", "--duration", "5"], {
    env: { CVETY_TEST_MYSQL_URL: "mysql://root:@127.0.0.1:1" },
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /demo failed while finding or starting MariaDB: CVETY_TEST_MYSQL_URL points at 127\.0\.0\.1:1/,
  );
  assert.match(r.stdout, /The demo needs a MariaDB/);
  const dir = /Cleaned up: removed the temp folder (\S+)\./.exec(r.stdout)?.[1];
  assert.ok(dir, r.stdout);
  assert.equal(existsSync(dir), false);
});

test("a duration that is not whole seconds from 5 is a usage error", async () => {
  const r = await runCli(["demo", "--duration", "2"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--duration.*expected whole seconds from 5/);
});
