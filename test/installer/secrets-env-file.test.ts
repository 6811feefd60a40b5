import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSecretsEnv, renderSecretsEnv } from "../../installer/render/secrets-env-file.js";

const AWKWARD = {
  CVETY_SIDECAR_CRM_TOKEN: "0123abcdef",
  CVETY_SIDECAR_MYSQL_URL: "mysql://bitrix0:p@ss w0rd$HOME#x@localhost:3306/sitemanager",
  CVETY_SIDECAR_MYSQL_PASSWORD: `it's "quoted" \\ and $dollar and \`tick\``,
};

test("secrets.env reads back exactly what was written, spaces, quotes and dollars included", () => {
  assert.deepEqual(parseSecretsEnv(renderSecretsEnv(AWKWARD)), AWKWARD);
});

test("secrets.env reads the same in sh, whose quoting systemd's EnvironmentFile= follows for these values", () => {
  // sh reads '...' and "...\\$..." the way systemd does for these values (no expansion, \\ escapes in "").
  const dir = mkdtempSync(join(tmpdir(), "cvety-env-"));
  const file = join(dir, "secrets.env");
  writeFileSync(file, renderSecretsEnv(AWKWARD));
  try {
    const script = `. "$1"; printf '%s\\0' "$CVETY_SIDECAR_CRM_TOKEN" "$CVETY_SIDECAR_MYSQL_URL" "$CVETY_SIDECAR_MYSQL_PASSWORD"`;
    const values = execFileSync("sh", ["-c", script, "sh", file], { encoding: "utf8" })
      .split("\0")
      .slice(0, 3);
    assert.deepEqual(values, Object.values(AWKWARD));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a secret with a newline is refused rather than written as two lines", () => {
  assert.throws(
    () => renderSecretsEnv({ CVETY_SIDECAR_CRM_TOKEN: "a\nCVETY_SIDECAR_OTHER=b" }),
    /control character/,
  );
});
