/**
 * Property test (fast-check): every config key set to an arbitrary TOML value
 * (string, integer, float incl. nan/inf, boolean, date, array, inline table)
 * either loads or fails with one ConfigError (exit 78) that names the file and
 * the key. Never another exception, never a crash, never the token in the text.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { stringify } from "smol-toml";
import { loadConfig } from "../../daemon/config/load-config.js";
import { ConfigError, EXIT_CONFIG } from "../../daemon/errors.js";
import { makeTempDir } from "./config-fixtures.js";

export const CONFIG_RUNS = 1_500;

const TOKEN = "crm-token-prop-5b1e9d";
const PASSWORD = "mysql-pass-prop-77c0";

/** Every key of the config file (daemon/config/config-schema.ts), dotted. */
const KEYS = [
  "bitrix.root",
  "bitrix.timezone",
  "mysql.url",
  "mysql.connect_timeout_ms",
  "mysql.pool_size",
  "crm.url",
  "crm.token",
  "crm.signing_secrets",
  "crm.ca_file",
  "crm.webhook_source",
  "crm.connect_timeout_ms",
  "crm.headers_timeout_ms",
  "crm.body_timeout_ms",
  "capture.poll_interval_ms",
  "capture.lookback_s",
  "capture.batch_size",
  "capture.start_from",
  "capture.settle_ms",
  "delivery.concurrency",
  "delivery.retry_min_ms",
  "delivery.retry_max_ms",
  "delivery.error_retry_min_ms",
  "delivery.error_retry_max_ms",
  "delivery.dead_after_s",
  "delivery.pause_probe_ms",
  "delivery.shutdown_grace_ms",
  "writeback.enabled",
  "writeback.source",
  "writeback.url",
  "writeback.token",
  "writeback.ca_file",
  "writeback.poll_interval_ms",
  "writeback.batch_size",
  "writeback.concurrency",
  "writeback.start_from",
  "writeback.lookback_s",
  "writeback.connect_timeout_ms",
  "writeback.request_timeout_ms",
  "writeback.dry_run",
  "writeback.notify_customer",
  "writeback.employee_id",
  "writeback.status_map",
  "state.dir",
  "log.file",
  "log.level",
  "http.listen",
] as const;

const SECTIONS = [...new Set(KEYS.map((k) => k.split(".")[0]!))];

const scalar = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom(
    "",
    " ",
    "https://",
    "mysql://",
    "mysql://u:p@h/",
    "mysql://u:%zz@h/db",
    "mysql://u:p@h:0/db",
    "mysql://u:p@h/db?socket=rel",
    "http://[::1",
    "whsec_",
    "whsec_!!",
    "off",
    "127.0.0.1:99999",
    "Mars/Olympus",
    "now",
    "2025-13-40",
    "../../etc/passwd",
    "\u0000",
    "'; DROP TABLE b_sale_order; --",
  ),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.constantFrom(0, -1, 1, 19, 20, 64, 65, 100, 120_000, 120_001, 2 ** 31),
  fc.double(),
  fc.boolean(),
  // TOML dates have four-digit years.
  fc.date({
    noInvalidDate: true,
    min: new Date("0001-01-01T00:00:00Z"),
    max: new Date("9999-12-31T23:59:59Z"),
  }),
);

const tomlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("table")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  table: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), tie("value"), { maxKeys: 3 }),
})).value;

function baseDocument(): Record<string, Record<string, unknown>> {
  return {
    crm: { url: "https://crm.example/webhooks/bitrix/order", token: TOKEN },
    mysql: { url: `mysql://sidecar:${PASSWORD}@db.local:3307/shop` },
  };
}

async function loadOutcome(dir: string, doc: Record<string, unknown>): Promise<"ok" | ConfigError> {
  const file = join(dir, "config.toml");
  await writeFile(file, stringify(doc));
  try {
    await loadConfig({ path: file, env: {} });
    return "ok";
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${inspect(err)}`);
    assert.equal(err.exitCode, EXIT_CONFIG);
    assert.ok(err.message.includes(file), `the message names the file: ${err.message}`);
    const shown = inspect(err, { depth: 10 });
    for (const secret of [TOKEN, PASSWORD]) assert.ok(!shown.includes(secret), `secret in: ${err.message}`);
    return err;
  }
}

test(`any TOML value for any key: loads, or exit 78 naming the key (${CONFIG_RUNS} runs)`, async () => {
  const dir = await makeTempDir("cvety-config-prop-");
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...KEYS), tomlValue, async (key, value) => {
      const [section, name] = key.split(".") as [string, string];
      const doc = baseDocument();
      doc[section] = { ...doc[section], [name]: value };
      const outcome = await loadOutcome(dir, doc);
      if (outcome !== "ok") {
        assert.ok(outcome.message.includes(key), `the message names ${key}: ${outcome.message}`);
      }
    }),
    { numRuns: CONFIG_RUNS },
  );
});

test(`any TOML value in place of a whole section: loads, or exit 78 naming it (${CONFIG_RUNS / 5} runs)`, async () => {
  const dir = await makeTempDir("cvety-config-prop-");
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...SECTIONS, "unknown_section"), tomlValue, async (section, value) => {
      const doc: Record<string, unknown> = baseDocument();
      doc[section] = value;
      const outcome = await loadOutcome(dir, doc);
      if (outcome !== "ok") assert.ok(outcome.message.includes(section), outcome.message);
    }),
    { numRuns: CONFIG_RUNS / 5 },
  );
});
