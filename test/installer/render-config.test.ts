import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadConfig } from "../../daemon/config/load-config.js";
import { type InstallSettings, secretsFor } from "../../installer/install-settings.js";
import { renderConfig } from "../../installer/render/render-config.js";
import { parseSecretsEnv, renderSecretsEnv } from "../../installer/render/secrets-env-file.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function settings(overrides: Partial<InstallSettings>): InstallSettings {
  return {
    packageDir: dir,
    version: "1.0.0",
    nodePath: "/usr/bin/node",
    bitrixRoot: join(dir, "www"),
    crm: { url: "https://crm.example/webhooks/bitrix/order", token: "crm-token", signingSecrets: [] },
    mysql: {},
    stateDir: "/var/lib/cvety-sidecar",
    logFile: "/var/log/cvety-sidecar/sidecar.log",
    httpListen: "127.0.0.1:9465",
    keepConfig: false,
    existingSecrets: {
      CVETY_SIDECAR_CRM_SIGNING_SECRETS: "whsec_c2VjcmV0",
      CVETY_SIDECAR_MYSQL_URL: "mysql://stale@h/db",
    },
    disablePhpHook: false,
    healthTimeoutMs: 30_000,
    ...overrides,
  };
}

/** Writes config.toml and secrets.env as the installer does and loads them the way the service gets them. */
async function load(name: string, s: InstallSettings) {
  const file = join(dir, name, "config.toml");
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(file, renderConfig(s));
  const env = parseSecretsEnv(renderSecretsEnv(secretsFor(s)));
  return { config: await loadConfig({ path: file, env }), env };
}

test("the config the installer writes loads in the daemon for each source of MySQL credentials", async () => {
  // Bitrix's own credentials, read from .settings.php at every start.
  mkdirSync(join(dir, "www", "bitrix"), { recursive: true });
  writeFileSync(
    join(dir, "www", "bitrix", ".settings.php"),
    "<?php return ['connections' => ['value' => ['default' => ['host' => 'localhost', 'database' => 'shop', 'login' => 'bitrix0', 'password' => 'pw']]]];",
  );
  const bitrix = await load("bitrix", settings({}));
  assert.equal(bitrix.config.mysqlTarget.user, "bitrix0");
  assert.equal(
    bitrix.env["CVETY_SIDECAR_MYSQL_URL"],
    undefined,
    "a stale URL from an earlier install is dropped",
  );
  assert.equal(
    bitrix.env["CVETY_SIDECAR_CRM_SIGNING_SECRETS"],
    "whsec_c2VjcmV0",
    "secrets it does not manage are kept",
  );

  const url = await load("url", settings({ mysql: { secretUrl: "mysql://u:p%40ss@db.local:3307/shop" } }));
  assert.deepEqual(
    [url.config.mysqlTarget.host, url.config.mysqlTarget.port, url.config.mysqlTarget.password],
    ["db.local", 3307, "p@ss"],
  );

  const user = await load(
    "user",
    settings({ mysql: { configUrl: "mysql://cvety_sidecar@localhost:3306/shop", password: "generated" } }),
  );
  assert.equal(user.config.mysqlTarget.user, "cvety_sidecar");
  assert.equal(user.config.mysqlTarget.password, "generated");
});

test("write-back and a CRM CA end up enabled in the config, their secrets in secrets.env", async () => {
  const s = settings({
    crm: {
      url: "https://crm.example/webhooks/bitrix/order",
      token: "crm-token",
      caFile: "/etc/cvety-sidecar/crm-ca.pem",
      signingSecrets: [],
    },
    mysql: { secretUrl: "mysql://u:p@db/shop" },
    writeback: { source: "feed", url: "https://crm.example/feed", token: "wb-token" },
    httpListen: "off",
  });
  const { config, env } = await load("writeback", s);
  assert.equal(config.writeback.enabled, true);
  assert.equal(config.writeback.source, "feed");
  assert.equal(config.writeback.token, "wb-token");
  assert.equal(config.crm.ca_file, "/etc/cvety-sidecar/crm-ca.pem");
  assert.equal(config.http.listen, "off");
  assert.equal(env["CVETY_SIDECAR_WRITEBACK_TOKEN"], "wb-token");
  assert.ok(
    !renderConfig(s).includes("wb-token") && !renderConfig(s).includes("crm-token"),
    "no secret in config.toml",
  );
});
