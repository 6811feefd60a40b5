import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../daemon/config/load-config.js";
import { parseSecretsEnv } from "../../installer/render/secrets-env-file.js";
import { SidecarProcess, writeSidecarConfig } from "../support/sidecar-process.js";
import { TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { setupInstaller } from "./installer-fixture.js";

const VERSION = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

test("a staged install writes config, secrets, code, unit and logrotate with their modes and prints what needs a real system", async (t) => {
  const fx = await setupInstaller(t);
  // Root's umask is often 077 on hardened hosts: the modes below must not depend on it.
  const umask = process.umask(0o077);
  t.after(() => process.umask(umask));
  const r = await fx.install(["--mysql-url", fx.db.url, "--http-listen", "127.0.0.1:19465"]);
  process.umask(umask);
  assert.equal(r.code, 0, r.stdout + r.stderr);

  // Every check printed before any change.
  const checks = r.stdout.slice(0, r.stdout.indexOf("Installing:"));
  for (const expected of [
    /✔ Linux/,
    /✔ Node\.js v\d+/,
    /✔ MySQL .* answers as root@/,
    /✔ Bitrix tables and columns present/,
    /✔ database charset utf8mb3/,
    /✔ CRM answers at https:\/\/127\.0\.0\.1:\d+\/webhooks\/bitrix\/order \(HTTP 200\)/,
    /✔ CRM rejects a wrong token \(HTTP 401\)/,
  ]) {
    assert.match(checks, expected);
  }
  // Owners are in the plan: printed with each file, and as the chown a real host runs.
  assert.match(r.stdout, /✔ wrote \/etc\/cvety-sidecar\/config\.toml \(0640 root:cvety-sidecar\)/);
  assert.match(r.stdout, /✔ wrote \/etc\/cvety-sidecar\/secrets\.env \(0600 root:root\)/);
  assert.match(
    r.stdout,
    /\$ chown root:cvety-sidecar \/etc\/cvety-sidecar\/config\.toml {3}\(not run: --root\)/,
  );
  assert.match(r.stdout, /\$ chown cvety-sidecar:cvety-sidecar \/var\/lib\/cvety-sidecar /);
  assert.match(
    r.stdout,
    /\$ useradd --system --user-group --home-dir \/var\/lib\/cvety-sidecar --no-create-home --shell \S*nologin/,
  );
  for (const command of [
    "systemctl daemon-reload",
    "systemctl enable cvety-sidecar.service",
    "systemctl restart cvety-sidecar.service",
  ]) {
    assert.ok(r.stdout.includes(`$ ${command}   (not run: --root)`), command);
  }
  assert.match(r.stdout, /· wait for http:\/\/127\.0\.0\.1:19465\/healthz .*\(not done: --root\)/);
  assert.ok(
    !r.stdout.includes(TEST_CRM_TOKEN) && !r.stderr.includes(TEST_CRM_TOKEN),
    "the token is never printed",
  );
  assert.ok(!r.stdout.includes(fx.db.endpoint.password || "\u0000"), "nor the MySQL password");

  const stage = fx.listStage();
  const expected: Record<string, string> = {
    "etc/cvety-sidecar": "dir 0750",
    "etc/cvety-sidecar/config.toml": "file 0640",
    "etc/cvety-sidecar/secrets.env": "file 0600",
    "etc/cvety-sidecar/crm-ca.pem": "file 0644",
    "var/lib/cvety-sidecar": "dir 0750",
    "var/log/cvety-sidecar": "dir 0750",
    "opt/cvety-sidecar": "dir 0755",
    [`opt/cvety-sidecar/${VERSION}`]: "dir 0755",
    "opt/cvety-sidecar/current": "link",
    "usr/local/bin/cvety-sidecar": "file 0755",
    "etc/systemd/system/cvety-sidecar.service": "file 0644",
    "etc/logrotate.d/cvety-sidecar": "file 0644",
  };
  for (const [path, what] of Object.entries(expected)) assert.equal(stage.get(path), what, path);
  // The service user reads the copied code: every folder 0755, every file 0644 (0755 if executable).
  for (const [path, mode] of [
    [`/opt/cvety-sidecar/${VERSION}/dist/daemon/cli`, 0o755],
    [`/opt/cvety-sidecar/${VERSION}/dist/daemon/cli/bin.js`, 0o644],
    [`/opt/cvety-sidecar/${VERSION}/node_modules/@pinojs`, 0o755],
    [`/opt/cvety-sidecar/${VERSION}/node_modules/better-sqlite3/build/Release/better_sqlite3.node`, 0o755],
  ] as const) {
    assert.equal(statSync(fx.staged(path)).mode & 0o777, mode, path);
  }

  // The config is valid for the daemon, with the secrets systemd would pass.
  const secrets = parseSecretsEnv(readFileSync(fx.staged("/etc/cvety-sidecar/secrets.env"), "utf8"));
  assert.deepEqual(Object.keys(secrets).sort(), ["CVETY_SIDECAR_CRM_TOKEN", "CVETY_SIDECAR_MYSQL_URL"]);
  assert.equal(secrets["CVETY_SIDECAR_CRM_TOKEN"], TEST_CRM_TOKEN);
  const configText = readFileSync(fx.staged("/etc/cvety-sidecar/config.toml"), "utf8");
  assert.ok(!configText.includes(TEST_CRM_TOKEN), "no secret in config.toml");
  const config = await loadConfig({ path: fx.staged("/etc/cvety-sidecar/config.toml"), env: secrets });
  assert.equal(config.crm.url, fx.crm.url);
  assert.equal(config.crm.ca_file, "/etc/cvety-sidecar/crm-ca.pem");
  assert.equal(config.mysqlTarget.database, fx.db.name);
  assert.equal(config.state.dir, "/var/lib/cvety-sidecar");
  assert.equal(config.log.file, "/var/log/cvety-sidecar/sidecar.log");
  assert.equal(config.http.listen, "127.0.0.1:19465");
  assert.equal(readFileSync(fx.staged("/etc/cvety-sidecar/crm-ca.pem"), "utf8"), fx.pki.caPem);

  // The unit runs the copied code with this Node, as the service user, hardened.
  const unit = readFileSync(fx.staged("/etc/systemd/system/cvety-sidecar.service"), "utf8");
  for (const line of [
    "User=cvety-sidecar",
    "EnvironmentFile=/etc/cvety-sidecar/secrets.env",
    // The daemon refuses to start if this file is readable by group or others.
    "Environment=CVETY_SIDECAR_SECRETS_FILE=/etc/cvety-sidecar/secrets.env",
    `ExecStart=${process.execPath} /opt/cvety-sidecar/current/dist/daemon/cli/bin.js run --config /etc/cvety-sidecar/config.toml`,
    // systemctl reload = SIGHUP: the config is re-read, the log reopened.
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartPreventExitStatus=78",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/cvety-sidecar /var/log/cvety-sidecar",
    "PrivateTmp=yes",
    // With --mysql-url the daemon never reads /home: hidden entirely.
    "ProtectHome=yes",
  ]) {
    assert.ok(unit.split("\n").includes(line), `unit has ${line}`);
  }
  assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=/m, "V8 needs W+X memory");
  assert.doesNotMatch(unit, /\|/, "no pipes in the unit");

  // The copied code runs from the stage, with the dependencies copied next to it: the daemon
  // starts (native SQLite, MySQL, HTTPS) and stops cleanly on SIGTERM, as under systemd.
  const bin = fx.staged("/opt/cvety-sidecar/current/dist/daemon/cli/bin.js");
  assert.equal(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }).trim(), VERSION);
  const runDir = join(fx.dir, "run");
  const runConfig = writeSidecarConfig(runDir, {
    mysqlUrl: fx.db.url,
    crmUrl: fx.crm.url,
    crmToken: TEST_CRM_TOKEN,
    caFile: fx.pki.caFile,
  });
  const daemon = await SidecarProcess.start(runConfig, join(runDir, "sidecar.log"), {}, bin);
  // Its SIGTERM handler is in place once it has said where it runs (the log line comes a moment earlier).
  while (!daemon.stderr.includes("cvety-sidecar running")) await sleep(20);
  assert.equal((await daemon.stop()).code, 0, daemon.stderr);
  // The PATH command runs the same code with the same Node and, for root, the service's secrets.
  const pathCommand = readFileSync(fx.staged("/usr/local/bin/cvety-sidecar"), "utf8");
  const bareBin = "/opt/cvety-sidecar/current/dist/daemon/cli/bin.js";
  assert.ok(
    pathCommand.includes(
      `exec ${process.execPath} --env-file=/etc/cvety-sidecar/secrets.env ${bareBin} "$@"`,
    ),
  );
  assert.ok(pathCommand.includes(`exec ${process.execPath} ${bareBin} "$@"`));

  // logrotate signals the daemon to reopen its log.
  const rotate = readFileSync(fx.staged("/etc/logrotate.d/cvety-sidecar"), "utf8");
  assert.match(rotate, /^\/var\/log\/cvety-sidecar\/sidecar\.log \{$/m);
  assert.match(rotate, /systemctl kill -s HUP cvety-sidecar\.service/);
});

test("systemd-analyze verify accepts the rendered unit, and logrotate its file", async (t) => {
  const fx = await setupInstaller(t);
  fx.writeBitrixSettings();
  const r = await fx.install();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const unitFile = fx.staged("/etc/systemd/system/cvety-sidecar.service");
  // Credentials come from Bitrix's .settings.php under /home: the daemon must be able to read there.
  assert.ok(readFileSync(unitFile, "utf8").split("\n").includes("ProtectHome=read-only"));
  const verify = spawnSync("systemd-analyze", ["verify", "--man=no", unitFile], { encoding: "utf8" });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(
    verify.stderr
      .split("\n")
      .filter((l) => l.includes("cvety-sidecar"))
      .join("\n"),
    "",
    "no warning about the unit",
  );
  const security = spawnSync("systemd-analyze", ["security", "--offline=yes", unitFile], {
    encoding: "utf8",
  });
  const exposure = Number(/Overall exposure level for .*: ([\d.]+)/.exec(security.stdout)?.[1]);
  assert.ok(
    exposure <= 2,
    `systemd rates the unit's exposure ${exposure} (0 = locked down, 10 = unprotected)`,
  );

  // logrotate -d parses without rotating; the service user does not exist here, so a copy names nobody.
  const rotate = readFileSync(fx.staged("/etc/logrotate.d/cvety-sidecar"), "utf8").replaceAll(
    "cvety-sidecar cvety-sidecar",
    "nobody nogroup",
  );
  const copy = join(fx.dir, "logrotate.conf");
  writeFileSync(copy, rotate);
  const check = spawnSync("logrotate", ["-d", "-s", join(fx.dir, "logrotate.state"), copy], {
    encoding: "utf8",
  });
  assert.equal(check.status, 0, check.stderr);
  assert.doesNotMatch(check.stderr, /error/i);
});

test("a second run, with the same flags or none, reports nothing to change", async (t) => {
  const fx = await setupInstaller(t);
  const args = ["--mysql-url", fx.db.url];
  assert.equal((await fx.install(args)).code, 0);
  const before = fx.listStage();

  const again = await fx.install(args);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const steps = again.stdout.slice(again.stdout.indexOf("Installing:"));
  assert.doesNotMatch(steps, /^[✔$→] /m, steps);
  assert.match(steps, /· unchanged \/etc\/systemd\/system\/cvety-sidecar\.service/);
  assert.match(steps, /· kept \/etc\/cvety-sidecar\/config\.toml/);
  assert.match(steps, /Nothing to change/);
  assert.deepEqual(fx.listStage(), before);

  // Without flags at all: everything comes from the installed config and secrets.
  const bare = await fx.install([], { CVETY_SIDECAR_CRM_TOKEN: "" });
  assert.equal(bare.code, 0, bare.stdout + bare.stderr);
  assert.match(bare.stdout, /Nothing to change/);
});

test("--dry-run prints the plan and writes nothing", async (t) => {
  const fx = await setupInstaller(t);
  const before = fx.listStage();
  const r = await fx.install(["--mysql-url", fx.db.url, "--dry-run"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /→ would write \/etc\/cvety-sidecar\/config\.toml \(0640 root:cvety-sidecar\)/);
  assert.match(r.stdout, /→ would install cvety-sidecar .* into \/opt\/cvety-sidecar\//);
  assert.match(r.stdout, /→ would run systemctl restart cvety-sidecar\.service/);
  assert.match(r.stdout, /Dry run: nothing was changed/);
  assert.deepEqual(fx.listStage(), before);
});
