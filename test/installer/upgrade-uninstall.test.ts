import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runBin } from "../support/sidecar-process.js";
import { TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { setupInstaller } from "./installer-fixture.js";
import { packageWithVersion } from "./package-copy.js";

const CURRENT = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

function versionOf(bin: string): string {
  return execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }).trim();
}

test("an upgrade keeps the config and the previous version; the one before that is removed", async (t) => {
  const fx = await setupInstaller(t, { prefix: "upgrade" });
  const args = fx.installArgs(["--mysql-url", fx.db.url]);
  const env = { CVETY_SIDECAR_CRM_TOKEN: TEST_CRM_TOKEN };
  assert.equal((await fx.install(["--mysql-url", fx.db.url])).code, 0);
  // Ops tuned the config by hand: an upgrade must not undo that.
  const configFile = fx.staged("/etc/cvety-sidecar/config.toml");
  appendFileSync(configFile, "\n[capture]\npoll_interval_ms = 750\n");
  const tuned = readFileSync(configFile, "utf8");

  // The new version's own installer does the upgrade, as `npx cvety-sidecar@9.0.0 install` would.
  const next = packageWithVersion(join(fx.dir, "next"), "9.0.0");
  const r = await runBin(next, args, { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✔ installed cvety-sidecar 9\.0\.0 into \/opt\/cvety-sidecar\/9\.0\.0/);
  assert.match(r.stdout, /✔ linked \/opt\/cvety-sidecar\/current -> 9\.0\.0/);
  assert.match(
    r.stdout,
    new RegExp(`✔ linked /opt/cvety-sidecar/previous -> ${CURRENT.replaceAll(".", "\\.")}`),
  );
  assert.match(r.stdout, /· kept \/etc\/cvety-sidecar\/config\.toml/);
  assert.match(r.stdout, /\$ systemctl restart cvety-sidecar\.service/);
  assert.equal(readFileSync(configFile, "utf8"), tuned);
  assert.equal(versionOf(fx.staged("/opt/cvety-sidecar/current/dist/daemon/cli/bin.js")), "9.0.0");
  assert.equal(versionOf(fx.staged("/opt/cvety-sidecar/previous/dist/daemon/cli/bin.js")), CURRENT);

  const third = packageWithVersion(join(fx.dir, "third"), "9.1.0");
  const r3 = await runBin(third, args, { env, timeoutMs: 60_000 });
  assert.equal(r3.code, 0, r3.stdout + r3.stderr);
  assert.match(
    r3.stdout,
    new RegExp(
      `✔ removed /opt/cvety-sidecar/${CURRENT.replaceAll(".", "\\.")} \\(older than the previous version\\)`,
    ),
  );
  assert.equal(readlinkSync(fx.staged("/opt/cvety-sidecar/current")), "9.1.0");
  assert.equal(readlinkSync(fx.staged("/opt/cvety-sidecar/previous")), "9.0.0");
  assert.ok(!existsSync(fx.staged(`/opt/cvety-sidecar/${CURRENT}`)));
  assert.equal(readFileSync(configFile, "utf8"), tuned);
});

test("uninstall removes code, unit and logrotate but keeps config, outbox and log; --purge removes those too", async (t) => {
  const fx = await setupInstaller(t, { prefix: "uninst" });
  assert.equal((await fx.install(["--mysql-url", fx.db.url])).code, 0);
  // The daemon has run: an outbox and a log exist.
  appendFileSync(fx.staged("/var/lib/cvety-sidecar/outbox.db"), "sqlite");
  appendFileSync(fx.staged("/var/log/cvety-sidecar/sidecar.log"), "{}\n");

  const r = await fx.uninstall();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\$ systemctl disable --now cvety-sidecar\.service {3}\(not run: --root\)/);
  assert.match(r.stdout, /✔ removed \/etc\/systemd\/system\/cvety-sidecar\.service/);
  assert.match(r.stdout, /\$ systemctl daemon-reload/);
  const left = fx.listStage();
  for (const gone of [
    "opt/cvety-sidecar",
    "usr/local/bin/cvety-sidecar",
    "etc/systemd/system/cvety-sidecar.service",
    "etc/logrotate.d/cvety-sidecar",
  ]) {
    assert.ok(!left.has(gone), `${gone} is removed`);
  }
  for (const kept of [
    "etc/cvety-sidecar/config.toml",
    "etc/cvety-sidecar/secrets.env",
    "var/lib/cvety-sidecar/outbox.db",
    "var/log/cvety-sidecar/sidecar.log",
  ]) {
    assert.ok(left.has(kept), `${kept} is kept`);
  }
  assert.match(r.stdout, /Remove them too with: cvety-sidecar uninstall --purge/);

  const again = await fx.uninstall();
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.stdout, /^[✔$] (?!Linux|not checking)/m, "nothing left to remove");

  const purge = await fx.uninstall(["--purge"]);
  assert.equal(purge.code, 0, purge.stdout + purge.stderr);
  assert.match(purge.stdout, /\$ userdel cvety-sidecar/);
  const after = fx.listStage();
  for (const gone of ["etc/cvety-sidecar", "var/lib/cvety-sidecar", "var/log/cvety-sidecar"])
    assert.ok(!after.has(gone), gone);
  assert.ok(after.has("home/bitrix/www/bitrix"), "Bitrix is not touched");
});
