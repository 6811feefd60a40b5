import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SIDECAR_BIN } from "../support/sidecar-process.js";
import { createTestPki } from "../support/test-pki.js";
import { type InstallerFixture, setupInstaller } from "./installer-fixture.js";

/** The stage as the fixture made it: only the Bitrix site folder. */
function assertNothingWritten(fx: InstallerFixture): void {
  assert.deepEqual([...fx.listStage().keys()].sort(), [
    "home",
    "home/bitrix",
    "home/bitrix/www",
    "home/bitrix/www/bitrix",
  ]);
}

test("MySQL unreachable: stops before any change, naming the server", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_mysql" });
  // Port 9 (discard) is closed on the test machine.
  const r = await fx.install(["--mysql-url", "mysql://root:secret-pw@127.0.0.1:9/shop"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✖ MySQL is unreachable: root@127\.0\.0\.1:9\/shop .*ECONNREFUSED/);
  assert.match(r.stdout, /Nothing was changed\./);
  assert.ok(!r.stdout.includes("secret-pw"), "the password is not printed");
  assertNothingWritten(fx);
});

test("missing Bitrix tables or columns: stops before any change, naming them", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_schema" });
  await fx.db.query("ALTER TABLE b_user DROP COLUMN PERSONAL_PHONE");
  await fx.db.query("DROP TABLE b_sale_order_payment");
  const r = await fx.install(["--mysql-url", fx.db.url]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    new RegExp(`✖ database ${fx.db.name} lacks Bitrix's b_sale_order_payment, b_user\\.PERSONAL_PHONE`),
  );
  assertNothingWritten(fx);
});

test("missing write-back columns are checked only when write-back is enabled", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_wb" });
  await fx.db.query("ALTER TABLE b_sale_order DROP COLUMN EMP_STATUS_ID");
  const writeback = ["--writeback-source", "feed", "--writeback-url", "https://crm.example/feed"];
  const r = await fx.install(["--mysql-url", fx.db.url, ...writeback], {
    CVETY_SIDECAR_WRITEBACK_TOKEN: "wb-token",
  });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /lacks Bitrix's b_sale_order\.EMP_STATUS_ID/);
  assertNothingWritten(fx);
  const captureOnly = await fx.install(["--mysql-url", fx.db.url, "--dry-run"]);
  assert.equal(captureOnly.code, 0, captureOnly.stdout);
});

test("a wrong CRM token: stops before any change", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_token" });
  const r = await fx.install(["--mysql-url", fx.db.url], { CVETY_SIDECAR_CRM_TOKEN: "not-the-token" });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✖ the CRM rejects the token \(HTTP 401\): check --crm-token/);
  assert.ok(!r.stdout.includes("not-the-token"));
  assertNothingWritten(fx);
});

test("a CRM that accepts any token is not taken for the CRM", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_anytoken" });
  fx.crm.setMode({ kind: "http", status: 200, body: '{"status":"success","action":"unknown_event"}' });
  const r = await fx.install(["--mysql-url", fx.db.url]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /✖ https:\/\/127\.0\.0\.1:\d+\/webhooks\/bitrix\/order accepted a made-up token \(HTTP 200\)/,
  );
  assertNothingWritten(fx);
});

test("a CRM whose certificate is not trusted: stops before any change", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_tls" });
  // A CA of its own, which did not sign the CRM's certificate.
  const other = await createTestPki(join(fx.dir, "other-pki"));
  const r = await fx.install(["--mysql-url", fx.db.url, "--crm-ca-file", other.caFile]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✖ cannot reach the CRM at .*TLS/);
  assertNothingWritten(fx);
});

test("not root: stops before any change", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_root" });
  const etcBefore = existsSync("/etc/cvety-sidecar");
  // A real (not staged) install as an unprivileged user: as root, the test drops to nobody.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [SIDECAR_BIN, "install", "--yes", "--crm-url", fx.crm.url, "--mysql-url", fx.db.url],
      {
        ...asNobody,
        env: { ...process.env, CVETY_SIDECAR_CRM_TOKEN: "x" },
        cwd: "/",
      },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /✖ install must run as root .*run it with sudo/);
  assert.match(r.stdout, /Nothing was changed\./);
  assert.equal(existsSync("/etc/cvety-sidecar"), etcBefore);
});

test("a missing input without a terminal is a usage error naming the flag", async (t) => {
  const fx = await setupInstaller(t, { prefix: "pf_usage" });
  const r = await runCli(["install", "--yes", "--root", fx.stage, "--mysql-url", fx.db.url], {
    env: { CVETY_SIDECAR_CRM_TOKEN: "" },
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing --crm-url/);
  assertNothingWritten(fx);
});
