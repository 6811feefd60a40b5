import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fillTemplate } from "../../installer/render/fill-template.js";
import { protectHomeSetting, renderPathCommand, renderUnit } from "../../installer/render/render-unit.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-render-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a template placeholder without a value, a value without a placeholder, or a value with a newline is an error", () => {
  assert.equal(fillTemplate("A={{A}}\n", { A: "1" }, "t"), "A=1\n");
  assert.throws(() => fillTemplate("A={{A}} B={{B}}", { A: "1" }, "t"), /t: no value for \{\{B\}\}/);
  assert.throws(() => fillTemplate("A={{A}}", { A: "1", C: "2" }, "t"), /the template has no \{\{C\}\}/);
  assert.throws(() => fillTemplate("A={{A}}", { A: "1\nExecStartPre=/bin/sh" }, "t"), /spans lines/);
});

test("paths that systemd would split, expand or misread are refused instead of written into the unit", () => {
  const values = {
    version: "1.0.0",
    nodePath: "/usr/bin/node",
    binJs: "/opt/cvety-sidecar/current/dist/daemon/cli/bin.js",
    configFile: "/etc/cvety-sidecar/config.toml",
    secretsFile: "/etc/cvety-sidecar/secrets.env",
    writablePaths: ["/var/lib/cvety-sidecar"],
    readPaths: [],
  };
  const template =
    "{{VERSION}}{{SERVICE_USER}}{{SECRETS_FILE}}{{NODE}}{{BIN_JS}}{{CONFIG_FILE}}{{READ_WRITE_PATHS}}{{PROTECT_HOME}}";
  assert.doesNotThrow(() => renderUnit(template, values));
  for (const bad of [
    "/var/lib/my state",
    "/var/lib/%n",
    "/var/$HOME",
    "relative/state",
    "/var/lib/../../etc",
  ]) {
    assert.throws(
      () => renderUnit(template, { ...values, writablePaths: [bad] }),
      /must be an absolute path of letters/,
      bad,
    );
  }
});

test("ProtectHome= hides /home unless the daemon reads or writes something there", () => {
  assert.equal(protectHomeSetting(["/usr/bin/node"]), "yes");
  assert.equal(protectHomeSetting(["/usr/bin/node", "/home/bitrix/www"]), "read-only");
  assert.equal(protectHomeSetting(["/root/.nvm/versions/node/v20/bin/node"]), "read-only");
  assert.equal(protectHomeSetting(["/homework"]), "yes");
});

test("the PATH command runs the installed code with the service's secrets when it may read them, without otherwise", () => {
  const fakeBin = join(dir, "bin.js");
  writeFileSync(
    fakeBin,
    "process.stdout.write(JSON.stringify([process.env.CVETY_SIDECAR_CRM_TOKEN ?? null, process.argv.slice(2)]))",
  );
  const secrets = join(dir, "secrets.env");
  writeFileSync(secrets, "CVETY_SIDECAR_CRM_TOKEN=from-file\n", { mode: 0o600 });
  const command = join(dir, "cvety-sidecar");
  writeFileSync(
    command,
    renderPathCommand({ nodePath: process.execPath, binJs: fakeBin, secretsFile: secrets, version: "1" }),
  );
  chmodSync(command, 0o755);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("CVETY_SIDECAR_")),
  );
  const run = (extraEnv: NodeJS.ProcessEnv = {}) =>
    JSON.parse(
      execFileSync(command, ["status", "--json", "a b"], { encoding: "utf8", env: { ...env, ...extraEnv } }),
    );
  assert.deepEqual(run(), ["from-file", ["status", "--json", "a b"]]);
  assert.deepEqual(
    run({ CVETY_SIDECAR_CRM_TOKEN: "from-env" }),
    ["from-env", ["status", "--json", "a b"]],
    "the environment wins",
  );
  rmSync(secrets);
  assert.deepEqual(run(), [null, ["status", "--json", "a b"]], "no secrets file: runs without");
});
