import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseSecretsEnv } from "../../installer/render/secrets-env-file.js";
import { runCli } from "../support/sidecar-process.js";
import { startSshServer } from "../support/ssh-server.js";
import { TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { setupInstaller } from "./installer-fixture.js";

test("--ssh installs on the remote host through a real sshd (staged there), streaming its output and exit code", async (t) => {
  const fx = await setupInstaller(t, { prefix: "ssh" });
  const sshd = await startSshServer(join(fx.dir, "sshd"));
  t.after(() => sshd.stop());
  const ssh = ["--ssh", sshd.target, "--ssh-port", String(sshd.port), "--identity", sshd.identity];
  for (const option of sshd.options) ssh.push("--ssh-option", option);
  const tmpBefore = readdirSync("/tmp").filter((n) => n.startsWith("cvety-sidecar."));

  const r = await runCli(fx.installArgs([...ssh, "--disable-php-hook"]), {
    env: { CVETY_SIDECAR_CRM_TOKEN: TEST_CRM_TOKEN, CVETY_SIDECAR_MYSQL_URL: fx.db.url },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`✔ Node\\.js v\\d+\\.\\d+\\.\\d+ \\(\\S+\\) on ${sshd.target.replace(".", "\\.")}`),
  );
  assert.match(r.stdout, /✔ packed cvety-sidecar-\d+\.\d+\.\d+\.tgz/);
  assert.match(r.stdout, /✔ packed the production dependencies \(same Node ABI \d+/);
  // The remote install's own lines, streamed back.
  assert.match(r.stdout, /✔ CRM rejects a wrong token \(HTTP 401\)/);
  assert.match(r.stdout, /✔ wrote \/etc\/cvety-sidecar\/config\.toml/);
  assert.match(r.stdout, /Staged under /);
  assert.match(r.stdout, /· no init\.php under \/home\/bitrix\/www/, "--disable-php-hook was passed on");
  assert.ok(
    !r.stdout.includes(TEST_CRM_TOKEN) && !r.stderr.includes(TEST_CRM_TOKEN),
    "the token is never printed",
  );

  // The secrets travelled on stdin and landed in secrets.env; the CA file was shipped.
  const secrets = parseSecretsEnv(readFileSync(fx.staged("/etc/cvety-sidecar/secrets.env"), "utf8"));
  assert.equal(secrets["CVETY_SIDECAR_CRM_TOKEN"], TEST_CRM_TOKEN);
  assert.equal(secrets["CVETY_SIDECAR_MYSQL_URL"], fx.db.url);
  assert.equal(readFileSync(fx.staged("/etc/cvety-sidecar/crm-ca.pem"), "utf8"), fx.pki.caPem);
  const bin = fx.staged("/opt/cvety-sidecar/current/dist/daemon/cli/bin.js");
  assert.match(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }), /^\d+\.\d+\.\d+/);
  const tmpAfter = readdirSync("/tmp").filter((n) => n.startsWith("cvety-sidecar."));
  assert.deepEqual(tmpAfter, tmpBefore, "the remote temp folder is removed");

  // A failing remote install: its message and exit code come back.
  const failed = await runCli(["install", ...ssh, "--root", fx.stage, "--crm-url", fx.crm.url, "--force"], {
    env: { CVETY_SIDECAR_CRM_TOKEN: "wrong-token", CVETY_SIDECAR_MYSQL_URL: fx.db.url },
    timeoutMs: 120_000,
  });
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /✖ the CRM rejects the token \(HTTP 401\)/);
  assert.equal(
    parseSecretsEnv(readFileSync(fx.staged("/etc/cvety-sidecar/secrets.env"), "utf8"))[
      "CVETY_SIDECAR_CRM_TOKEN"
    ],
    TEST_CRM_TOKEN,
  );
});

test("--ssh to a host that refuses the key fails with ssh's message and changes nothing", async (t) => {
  const fx = await setupInstaller(t, { prefix: "sshdeny" });
  const sshd = await startSshServer(join(fx.dir, "sshd"));
  t.after(() => sshd.stop());
  const otherKey = join(fx.dir, "other_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
  const args = ["install", "--ssh", sshd.target, "--ssh-port", String(sshd.port), "--identity", otherKey];
  for (const option of sshd.options) args.push("--ssh-option", option);
  const r = await runCli([...args, "--root", fx.stage, "--crm-url", fx.crm.url], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✖ ssh .*@127\.0\.0\.1 failed \(exit 255\): .*Permission denied/);
  assert.ok(!existsSync(fx.staged("/etc/cvety-sidecar")));
});
