import assert from "node:assert/strict";
import { test } from "node:test";
import { type Config, configSchema, DEFAULT_STATUS_MAP } from "../../daemon/config/config-schema.js";
import { diffConfig, keepRestartKeys, MYSQL_CREDENTIALS_KEY } from "../../daemon/run/config-diff.js";

function config(doc: Record<string, unknown> = {}, password = "pw"): Config {
  const file = configSchema.parse({
    crm: { url: "https://crm.example/webhooks/bitrix/order", token: "t1" },
    ...doc,
  });
  return {
    ...file,
    file: "/etc/cvety-sidecar/config.toml",
    mysqlTarget: {
      host: "localhost",
      port: 3306,
      user: "bitrix0",
      password,
      database: "shop",
      source: "/www/bitrix/.settings.php",
    },
    statusMap: { ...DEFAULT_STATUS_MAP, ...file.writeback.status_map },
    timezone: "Asia/Almaty",
  };
}

test("names every changed key, secrets by name only, and splits off what needs a restart", () => {
  const old = config();
  const next = config(
    {
      crm: { url: "https://crm2.example/webhooks/bitrix/order", token: "t2" },
      capture: { poll_interval_ms: 1000 },
      http: { listen: "127.0.0.1:9999" },
      writeback: { status_map: { assembled: "RD", custom: "AP" } },
    },
    "new-password",
  );
  const diff = diffConfig(old, next);
  assert.deepEqual(diff.live, [
    "capture.poll_interval_ms",
    "crm.token",
    "crm.url",
    MYSQL_CREDENTIALS_KEY,
    "writeback.status_map.assembled",
    "writeback.status_map.custom",
  ]);
  assert.deepEqual(diff.needsRestart, ["http.listen"]);
  assert.doesNotMatch(JSON.stringify(diff), /t2|new-password/);
});

test("an identical config has no changes", () => {
  assert.deepEqual(diffConfig(config(), config()).changed, []);
});

test("restart keys keep their running values, so a later reload still reports them", () => {
  const running = config({ writeback: { dry_run: true } });
  const next = config({
    writeback: { dry_run: false },
    state: { dir: "/srv/state" },
    log: { level: "debug" },
  });
  const kept = keepRestartKeys(running, next);
  assert.equal(kept.writeback.dry_run, true);
  assert.equal(kept.state.dir, running.state.dir);
  assert.equal(kept.log.level, "debug");
  assert.deepEqual(diffConfig(kept, next).needsRestart, ["state.dir", "writeback.dry_run"]);
});

test("[housekeeping] schedules are set at start: a change there needs a restart", () => {
  const diff = diffConfig(config(), config({ housekeeping: { sweep_schedule: "*/10 * * * *" } }));
  assert.deepEqual(diff.needsRestart, ["housekeeping.sweep_schedule"]);
  assert.deepEqual(diff.live, []);
});
