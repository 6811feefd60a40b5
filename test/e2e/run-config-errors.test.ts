import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../support/sidecar-process.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-cfg-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, body: string): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, body);
  return file;
}

const VALID = `
[mysql]
url = "mysql://root:@127.0.0.1:3306/x"
[crm]
url = "https://crm.example/webhooks/bitrix/order"
token = "t"
[state]
dir = "${join(dir, "state")}"
[log]
file = "${join(dir, "log")}"
`;

test("a config value of the wrong type exits 78 naming the key and the file", async () => {
  const file = config("wrong-type", `${VALID}\n[capture]\npoll_interval_ms = "fast"\n`);
  const r = await runCli(["run", "--config", file]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /capture\.poll_interval_ms/);
  assert.ok(r.stderr.includes(file), "names the file");
});

test("an unknown key exits 78 naming it", async () => {
  const file = config("unknown", VALID.replace('token = "t"', 'token = "t"\ntokn = "x"'));
  const r = await runCli(["run", "--config", file]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /crm\.tokn/);
});

test("an unreadable .settings.php exits 78 naming the path", async () => {
  const root = join(dir, "www");
  mkdirSync(join(root, "bitrix", ".settings.php"), { recursive: true }); // a directory where the file should be
  const file = config("settings", VALID.replace(/\[mysql\]\nurl = .*\n/, `[bitrix]\nroot = "${root}"\n`));
  const r = await runCli(["run", "--config", file]);
  assert.equal(r.code, 78);
  assert.ok(r.stderr.includes(join(root, "bitrix", ".settings.php")), r.stderr);
});

test("a missing config file exits 78; a bad flag exits 2; --help exits 0", async () => {
  const missing = await runCli(["run", "--config", join(dir, "nope.toml")]);
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /nope\.toml/);
  const bad = await runCli(["run", "--bogus"]);
  assert.equal(bad.code, 2);
  const help = await runCli(["run", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /SIGTERM/);
});
