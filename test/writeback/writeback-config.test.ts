import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../daemon/config/load-config.js";
import { ConfigError } from "../../daemon/errors.js";
import { makeTempDir, writeFiles } from "../config/config-fixtures.js";

const BASE = `
[crm]
url = "https://crm.example/webhooks/bitrix/order"
token = "crm-token"

[mysql]
url = "mysql://sidecar:pw@db.local:3307/shop"
`;

async function load(toml: string) {
  const dir = await makeTempDir();
  await writeFiles(dir, { "config.toml": `${BASE}${toml}` });
  return loadConfig({ path: join(dir, "config.toml"), env: {} });
}

test("write-back is off by default, with safe defaults for every key", async () => {
  const { writeback } = await load("");
  assert.deepEqual(
    { ...writeback },
    {
      enabled: false,
      source: "supabase",
      poll_interval_ms: 1000,
      batch_size: 100,
      concurrency: 4,
      start_from: "now",
      lookback_s: 10,
      connect_timeout_ms: 5000,
      request_timeout_ms: 15000,
      dry_run: false,
      notify_customer: false,
      status_map: {},
    },
  );
});

test("a wrong write-back value is named with its key and the file", async () => {
  await assert.rejects(
    load('[writeback]\nstart_from = "yesterday"\nconcurrency = 0\n'),
    (err: unknown) =>
      err instanceof ConfigError &&
      /writeback\.start_from: .*"now".*"beginning"/.test(err.message) &&
      /writeback\.concurrency: must be at least 1/.test(err.message),
  );
});
