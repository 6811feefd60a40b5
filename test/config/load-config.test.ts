import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { DEFAULT_STATUS_MAP } from "../../daemon/config/config-schema.js";
import {
  DEFAULT_CONFIG_PATH,
  loadConfig,
  redactConfig,
  resolveConfigPath,
  SECRET_ENV_VARS,
} from "../../daemon/config/load-config.js";
import { ConfigError, EXIT_CONFIG } from "../../daemon/errors.js";
import { bitrixSettingsPhp, makeTempDir, writeFiles } from "./config-fixtures.js";

const TOKEN = "crm-token-7f3a9c";
const MYSQL_PASSWORD = "my$ql:p@ss/wörd";
const MYSQL_URL = `mysql://sidecar:${encodeURIComponent(MYSQL_PASSWORD)}@db.local:3307/shop`;

/** A config that loads: everything else defaults. */
const MINIMAL = `
[crm]
url = "https://crm.example/webhooks/bitrix/order"
token = "${TOKEN}"

[mysql]
url = "${MYSQL_URL}"
`;

async function configFile(toml: string, name = "config.toml"): Promise<string> {
  const dir = await makeTempDir();
  await writeFiles(dir, { [name]: toml });
  return join(dir, name);
}

/** Rejects with one ConfigError (exit 78) naming the file; no secret in it or its causes. */
async function loadError(
  path: string,
  env: NodeJS.ProcessEnv = {},
  secrets: string[] = [],
): Promise<ConfigError> {
  try {
    await loadConfig({ path, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${inspect(err)}`);
    assert.equal(err.exitCode, EXIT_CONFIG);
    const shown = inspect(err, { depth: 10 });
    for (const secret of [TOKEN, MYSQL_PASSWORD, encodeURIComponent(MYSQL_PASSWORD), ...secrets]) {
      assert.ok(!shown.includes(secret), `secret ${secret} leaked into: ${err.message}`);
    }
    return err;
  }
  assert.fail("expected loadConfig to fail");
}

describe("resolveConfigPath", () => {
  it("prefers --config, then CVETY_SIDECAR_CONFIG, then the default", () => {
    const env = { CVETY_SIDECAR_CONFIG: "/srv/env.toml" };
    assert.equal(resolveConfigPath("/srv/flag.toml", env), "/srv/flag.toml");
    assert.equal(resolveConfigPath(undefined, env), "/srv/env.toml");
    assert.equal(resolveConfigPath(undefined, {}), DEFAULT_CONFIG_PATH);
    assert.equal(DEFAULT_CONFIG_PATH, "/etc/cvety-sidecar/config.toml");
  });

  it("makes a relative path absolute", () => {
    assert.equal(resolveConfigPath("conf/sidecar.toml", {}), join(process.cwd(), "conf/sidecar.toml"));
  });
});

describe("loadConfig", () => {
  it("loads a minimal file with every default filled in", async () => {
    const path = await configFile(MINIMAL);
    const config = await loadConfig({ path, env: {} });
    assert.equal(config.file, path);
    assert.equal(config.crm.token, TOKEN);
    assert.equal(config.capture.poll_interval_ms, 500);
    assert.equal(config.http.listen, "127.0.0.1:9465");
    assert.equal(config.state.dir, "/var/lib/cvety-sidecar");
    assert.deepEqual(config.statusMap, { ...DEFAULT_STATUS_MAP });
    assert.equal(config.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.deepEqual(config.mysqlTarget, {
      host: "db.local",
      port: 3307,
      user: "sidecar",
      password: MYSQL_PASSWORD,
      database: "shop",
      source: "config",
    });
  });

  it("merges writeback.status_map over the defaults and keeps bitrix.timezone", async () => {
    const path = await configFile(
      `${MINIMAL}\n[bitrix]\ntimezone = "Asia/Almaty"\n[writeback.status_map]\npaid = "P"\ncustom = "CU"\n`,
    );
    const config = await loadConfig({ path, env: {} });
    assert.equal(config.timezone, "Asia/Almaty");
    assert.equal(config.statusMap["paid"], "P");
    assert.equal(config.statusMap["custom"], "CU");
    assert.equal(config.statusMap["completed"], "F");
  });

  it("resolves relative paths against the config file's directory", async () => {
    const path = await configFile(
      `${MINIMAL}\n[state]\ndir = "state"\n[log]\nfile = "logs/sidecar.log"\n[bitrix]\nroot = "../www"\n`,
    );
    const dir = join(path, "..");
    const config = await loadConfig({ path, env: {} });
    assert.equal(config.state.dir, join(dir, "state"));
    assert.equal(config.log.file, join(dir, "logs/sidecar.log"));
    assert.equal(config.bitrix.root, join(dir, "../www"));
  });

  it('keeps log.file = "-" (stdout) as it is', async () => {
    const config = await loadConfig({ path: await configFile(`${MINIMAL}\n[log]\nfile = "-"\n`), env: {} });
    assert.equal(config.log.file, "-");
  });

  it("reads MySQL credentials from bitrix.root when mysql.url is absent", async () => {
    const dir = await makeTempDir();
    await writeFiles(dir, {
      "www/bitrix/.settings.php": bitrixSettingsPhp({ host: "db.local:3310", password: "'from-bitrix'" }),
      "config.toml": MINIMAL.replace(/\[mysql\][^[]*/, "").concat('\n[bitrix]\nroot = "www"\n'),
    });
    const config = await loadConfig({ path: join(dir, "config.toml"), env: {} });
    assert.equal(config.mysqlTarget.port, 3310);
    assert.equal(config.mysqlTarget.password, "from-bitrix");
    assert.equal(config.mysqlTarget.source, join(dir, "www/bitrix/.settings.php"));
  });

  it("adds where bitrix.root came from when Bitrix's files cannot be found", async () => {
    const path = await configFile(
      `${MINIMAL.replace(/\[mysql\][^[]*/, "")}\n[bitrix]\nroot = "missing-site"\n`,
    );
    const error = await loadError(path);
    assert.match(error.message, /no Bitrix database settings found under .*missing-site/);
    assert.ok(error.message.includes(`bitrix.root = "${join(path, "..", "missing-site")}" in ${path}`));
  });

  it("lets env secrets override the file", async () => {
    const path = await configFile(
      `${MINIMAL}\n[writeback]\nenabled = true\nurl = "https://x.supabase.co"\ntoken = "file-writeback"\n`,
    );
    const config = await loadConfig({
      path,
      env: {
        CVETY_SIDECAR_CRM_TOKEN: "env-token",
        CVETY_SIDECAR_CRM_SIGNING_SECRETS: "whsec_AAAA, whsec_BBBB\nwhsec_CCCC",
        CVETY_SIDECAR_WRITEBACK_TOKEN: "env-writeback",
        CVETY_SIDECAR_MYSQL_URL: "mysql://envuser:envpass@10.0.0.5/envdb",
        CVETY_SIDECAR_MYSQL_PASSWORD: "env-mysql-password",
      },
    });
    assert.equal(config.crm.token, "env-token");
    assert.deepEqual(config.crm.signing_secrets, ["whsec_AAAA", "whsec_BBBB", "whsec_CCCC"]);
    assert.equal(config.writeback.token, "env-writeback");
    assert.deepEqual(config.mysqlTarget, {
      host: "10.0.0.5",
      port: 3306,
      user: "envuser",
      password: "env-mysql-password",
      database: "envdb",
      source: "env",
    });
  });

  it("accepts crm.token from the environment alone", async () => {
    const path = await configFile(MINIMAL.replace(/token = .*\n/, ""));
    const config = await loadConfig({ path, env: { CVETY_SIDECAR_CRM_TOKEN: "only-in-env" } });
    assert.equal(config.crm.token, "only-in-env");
  });

  it("overrides the password read from Bitrix's settings with CVETY_SIDECAR_MYSQL_PASSWORD", async () => {
    const dir = await makeTempDir();
    await writeFiles(dir, {
      "bitrix/.settings.php": bitrixSettingsPhp({ host: "localhost", password: "'old'" }),
      "config.toml": `${MINIMAL.replace(/\[mysql\][^[]*/, "")}\n[bitrix]\nroot = "."\n`,
    });
    const env = { CVETY_SIDECAR_MYSQL_PASSWORD: "rotated" };
    const config = await loadConfig({ path: join(dir, "config.toml"), env });
    assert.equal(config.mysqlTarget.password, "rotated");
  });

  it("lists SECRET_ENV_VARS for --help", () => {
    assert.deepEqual([...SECRET_ENV_VARS].sort(), [
      "CVETY_SIDECAR_CRM_SIGNING_SECRETS",
      "CVETY_SIDECAR_CRM_TOKEN",
      "CVETY_SIDECAR_MYSQL_PASSWORD",
      "CVETY_SIDECAR_MYSQL_URL",
      "CVETY_SIDECAR_WRITEBACK_TOKEN",
    ]);
  });

  it("names a missing config file and how to choose another", async () => {
    const path = join(await makeTempDir(), "absent.toml");
    const error = await loadError(path);
    assert.equal(
      error.message,
      `${path}: config file not found (choose one with --config PATH or CVETY_SIDECAR_CONFIG)`,
    );
    assert.equal(error.file, path);
  });

  it("reports a directory given as the config file with EISDIR", async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, "config.toml"));
    const error = await loadError(join(dir, "config.toml"));
    assert.match(error.message, /config\.toml: cannot read config file \(EISDIR/);
  });

  it("reports a TOML syntax error as file:line:column without showing the line", async () => {
    const path = await configFile(`[crm]\nurl = "https://crm.example"\ntoken = "${TOKEN}\n`);
    const error = await loadError(path);
    assert.match(error.message, new RegExp(`^${escapeRegExp(path)}:3:\\d+: \\S`));
    assert.ok(!error.message.includes("\n"), "one line, no code frame");
  });

  it("names the key and the file for a wrong type", async () => {
    const path = await configFile(`${MINIMAL}\n[capture]\npoll_interval_ms = "500"\n`);
    const error = await loadError(path);
    assert.equal(error.message, `${path}: capture.poll_interval_ms: expected a number, got a string`);
    assert.equal(error.key, "capture.poll_interval_ms");
    assert.equal(error.file, path);
  });

  it("asks for quotes around a date written bare", async () => {
    const path = await configFile(`${MINIMAL}\n[capture]\nstart_from = 2024-05-01\n`);
    const error = await loadError(path);
    assert.equal(
      error.message,
      `${path}: capture.start_from: expected a string, got a date (put it in quotes)`,
    );
  });

  it("reports an unknown key with a suggestion", async () => {
    const path = await configFile(`${MINIMAL.replace("token =", "tokn =")}`);
    const error = await loadError(path, { CVETY_SIDECAR_CRM_TOKEN: TOKEN });
    assert.equal(error.message, `${path}: crm.tokn: unknown key "crm.tokn" (did you mean "crm.token"?)`);
    assert.equal(error.key, "crm.tokn");
  });

  it("reports a missing crm.url as required", async () => {
    const path = await configFile(MINIMAL.replace(/url = "https.*\n/, ""));
    const error = await loadError(path);
    assert.equal(error.message, `${path}: crm.url: required`);
    assert.equal(error.key, "crm.url");
  });

  it("says crm.token may come from the environment when it is missing", async () => {
    const path = await configFile(MINIMAL.replace(/token = .*\n/, ""));
    const error = await loadError(path);
    assert.equal(error.message, `${path}: crm.token: required (or set CVETY_SIDECAR_CRM_TOKEN)`);
  });

  it("names both crm keys when the [crm] table is missing", async () => {
    const path = await configFile(`[mysql]\nurl = "${MYSQL_URL}"\n`);
    const error = await loadError(path);
    assert.match(
      error.message,
      /crm\.url: required\n.*crm\.token: required \(or set CVETY_SIDECAR_CRM_TOKEN\)$/,
    );
  });

  it("rejects an unknown time zone, naming bitrix.timezone", async () => {
    const path = await configFile(`${MINIMAL}\n[bitrix]\ntimezone = "Mars/Olympus_Mons"\n`);
    const error = await loadError(path);
    assert.equal(error.message, `${path}: bitrix.timezone: unknown IANA time zone (got "Mars/Olympus_Mons")`);
  });

  it("requires writeback.url and writeback.token when writeback is enabled", async () => {
    const path = await configFile(`${MINIMAL}\n[writeback]\nenabled = true\n`);
    const error = await loadError(path);
    assert.equal(
      error.message,
      [
        `${path}: writeback.url: required when writeback.enabled = true`,
        `${path}: writeback.token: required when writeback.enabled = true (or set CVETY_SIDECAR_WRITEBACK_TOKEN)`,
      ].join("\n"),
    );
    assert.equal(error.key, "writeback.url");
  });

  it("reports every problem at once, one line per key", async () => {
    const path = await configFile(
      `${MINIMAL}\n[capture]\npoll_interval_ms = 5\nbatch_size = 1.5\n[log]\nlevel = "loud"\n[http]\nlisten = "nowhere"\n`,
    );
    const lines = (await loadError(path)).message.split("\n");
    assert.deepEqual(lines, [
      `${path}: capture.poll_interval_ms: must be at least 20`,
      `${path}: capture.batch_size: must be a whole number`,
      `${path}: log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent"`,
      `${path}: http.listen: expected host:port, e.g. 127.0.0.1:9465 (got "nowhere")`,
    ]);
  });

  it("never shows a secret of the wrong type", async () => {
    const path = await configFile(MINIMAL.replace(`token = "${TOKEN}"`, `token = ["${TOKEN}"]`));
    const error = await loadError(path);
    assert.equal(error.message, `${path}: crm.token: expected a string, got an array`);
  });

  it("says which env variable a bad value came from", async () => {
    const path = await configFile(MINIMAL);
    const error = await loadError(path, {
      CVETY_SIDECAR_CRM_SIGNING_SECRETS: "whsec_OK, not-a-secret-format",
    });
    assert.match(
      error.message,
      /crm\.signing_secrets\[1\] \(from CVETY_SIDECAR_CRM_SIGNING_SECRETS\): expected whsec_<base64>$/,
    );
    assert.ok(!error.message.includes("not-a-secret-format"));
  });

  it("names mysql.url when the URL has no database, without showing the password", async () => {
    const path = await configFile(MINIMAL.replace("/shop", ""));
    const error = await loadError(path);
    assert.match(error.message, /mysql\.url: missing database name/);
    assert.equal(error.key, "mysql.url");
  });

  it("keeps a Bitrix file's password out of every message", async () => {
    const dir = await makeTempDir();
    const secret = "BitrixDbSecret42";
    await writeFiles(dir, {
      "bitrix/.settings.php": bitrixSettingsPhp({ host: "localhost", password: `'${secret}'` }).replace(
        "'login' => 'bitrix0',",
        "",
      ),
      "config.toml": `${MINIMAL.replace(/\[mysql\][^[]*/, "")}\n[bitrix]\nroot = "."\n`,
    });
    const error = await loadError(join(dir, "config.toml"), {}, [secret]);
    assert.match(error.message, /connections\.value\.default\.login is missing/);
  });
});

describe("redactConfig", () => {
  it("hides every secret but shows that it is set", async () => {
    const path = await configFile(
      `${MINIMAL}\n[writeback]\nenabled = true\nurl = "https://x.supabase.co"\ntoken = "wb-secret-1"\n`,
    );
    const config = await loadConfig({
      path,
      env: {
        CVETY_SIDECAR_CRM_SIGNING_SECRETS: "whsec_c2lnbmluZw==",
        CVETY_SIDECAR_MYSQL_PASSWORD: "pw-override-9",
      },
    });
    const printed = JSON.stringify(redactConfig(config));
    for (const secret of [TOKEN, "wb-secret-1", "whsec_c2lnbmluZw==", "pw-override-9", MYSQL_PASSWORD]) {
      assert.ok(!printed.includes(secret), `${secret} visible in ${printed}`);
    }
    assert.ok(!printed.includes(encodeURIComponent(MYSQL_PASSWORD)));
    const redacted = redactConfig(config) as typeof config;
    assert.equal(redacted.crm.token, "***");
    assert.deepEqual(redacted.crm.signing_secrets, ["***"]);
    assert.equal(redacted.mysql.url, "mysql://sidecar:***@db.local:3307/shop");
    assert.equal(redacted.mysqlTarget.user, "sidecar");
    assert.equal(config.crm.token, TOKEN, "the original is untouched");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
