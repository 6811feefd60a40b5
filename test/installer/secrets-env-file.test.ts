import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseSecretsEnv, renderSecretsEnv } from "../../installer/render/secrets-env-file.js";

const AWKWARD = {
  CVETY_SIDECAR_CRM_TOKEN: "0123abcdef",
  CVETY_SIDECAR_MYSQL_URL: 'mysql://bitrix0:p@ss w0rd$HOME#x"`q`\\@localhost:3306/sitemanager',
  CVETY_SIDECAR_MYSQL_PASSWORD: "it's a pass word",
};

const dir = mkdtempSync(join(tmpdir(), "cvety-env-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "secrets.env");
writeFileSync(file, renderSecretsEnv(AWKWARD));

test("secrets.env reads back exactly what was written, spaces, quotes and dollars included", () => {
  assert.deepEqual(parseSecretsEnv(renderSecretsEnv(AWKWARD)), AWKWARD);
});

test("node --env-file (the PATH command) and sh read the same values as the installer wrote", () => {
  const print =
    "process.stdout.write([process.env.CVETY_SIDECAR_CRM_TOKEN, process.env.CVETY_SIDECAR_MYSQL_URL, process.env.CVETY_SIDECAR_MYSQL_PASSWORD].join('\\0'))";
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("CVETY_SIDECAR_")),
  );
  const fromNode = execFileSync(process.execPath, [`--env-file=${file}`, "-e", print], {
    encoding: "utf8",
    env: clean,
  });
  assert.deepEqual(fromNode.split("\0"), Object.values(AWKWARD));
  // systemd's EnvironmentFile= reads '...' literally and "..." without escapes, as sh does here.
  const script = `. "$1"; printf '%s\\0' "$CVETY_SIDECAR_CRM_TOKEN" "$CVETY_SIDECAR_MYSQL_URL" "$CVETY_SIDECAR_MYSQL_PASSWORD"`;
  const fromSh = execFileSync("sh", ["-c", script, "sh", file], { encoding: "utf8" }).split("\0").slice(0, 3);
  assert.deepEqual(fromSh, Object.values(AWKWARD));
});

test("a value those parsers would read differently, or with a newline, is refused rather than written", () => {
  assert.throws(
    () => renderSecretsEnv({ CVETY_SIDECAR_CRM_TOKEN: "a\nCVETY_SIDECAR_OTHER=b" }),
    /control character/,
  );
  assert.throws(
    () => renderSecretsEnv({ CVETY_SIDECAR_CRM_TOKEN: `it's "x"` }),
    /CVETY_SIDECAR_CRM_TOKEN holds both '/,
  );
});
