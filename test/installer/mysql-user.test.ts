import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import mysql from "mysql2/promise";
import { readSnapshots } from "../../daemon/capture/read-snapshots.js";
import { loadConfig } from "../../daemon/config/load-config.js";
import { createMysqlPool, mysqlErrorCode } from "../../daemon/mysql/create-mysql-pool.js";
import { parseSecretsEnv } from "../../installer/render/secrets-env-file.js";
import { seedShop } from "../support/bitrix-shop.js";
import { createOrder } from "../support/bitrix-writer.js";
import { setupInstaller } from "./installer-fixture.js";

test("--create-mysql-user makes a user that reads what capture reads, updates only status columns, and nothing more", async (t) => {
  const fx = await setupInstaller(t, { prefix: "mysqluser" });
  await seedShop(fx.db.pool);
  const orderId = await createOrder(fx.db.pool);
  // Unique per run: test files run in parallel against one server.
  const name = `cvety_t_${randomBytes(4).toString("hex")}`;
  t.after(async () => {
    const admin = await mysql.createConnection({ ...fx.db.endpoint });
    try {
      const [hosts] = await admin.query("SELECT Host AS host FROM mysql.user WHERE User = ?", [name]);
      for (const { host } of hosts as Array<{ host: string }>)
        await admin.query("DROP USER ?@?", [name, host]);
    } finally {
      await admin.end();
    }
  });

  // Admin credentials from --mysql-url (root here; Bitrix's own user on a real host).
  const args = ["--create-mysql-user", "--mysql-user-name", name, "--mysql-url", fx.db.url];
  const r = await fx.install(args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `✔ set up MySQL user '${name}'@'[^']+': SELECT on 11 tables, UPDATE on 6 columns of b_sale_order, INSERT on b_sale_order_change, b_event`,
    ),
  );
  const secrets = parseSecretsEnv(readFileSync(fx.staged("/etc/cvety-sidecar/secrets.env"), "utf8"));
  assert.equal(secrets["CVETY_SIDECAR_MYSQL_URL"], undefined, "the admin URL is not kept");
  const password = secrets["CVETY_SIDECAR_MYSQL_PASSWORD"] ?? "";
  assert.ok(password.length >= 24, "a long random password");
  assert.ok(!r.stdout.includes(password));

  // The daemon's config names the user; the password comes from secrets.env.
  const config = await loadConfig({ path: fx.staged("/etc/cvety-sidecar/config.toml"), env: secrets });
  assert.equal(config.mysqlTarget.user, name);
  assert.equal(config.mysqlTarget.password, password);
  assert.equal(config.mysqlTarget.database, fx.db.name);

  const pool = createMysqlPool(config.mysqlTarget, { connectTimeoutMs: 5000, poolSize: 2 });
  t.after(() => pool.end());
  const read = await readSnapshots(pool, [orderId]);
  assert.equal(read.snapshots.length, 1, "capture reads a full order snapshot");
  const denied = async (sql: string, params: unknown[] = []) => {
    await assert.rejects(pool.query(sql, params), (err) => /DENIED/.test(mysqlErrorCode(err) ?? ""), sql);
  };
  await denied("SELECT PASSWORD FROM b_user LIMIT 1");
  await denied("SELECT * FROM b_event LIMIT 1");
  await denied("UPDATE b_sale_order SET PRICE = 0 WHERE ID = ?", [orderId]);
  await denied("DELETE FROM b_sale_order WHERE ID = ?", [orderId]);
  await denied("CREATE TABLE x (id INT)");
  await pool.query("UPDATE b_sale_order SET STATUS_ID = STATUS_ID, UPDATED_1C = UPDATED_1C WHERE ID = ?", [
    orderId,
  ]);

  // A re-run logs in with the kept password, finds the grants as they should be, changes nothing.
  const again = await fx.install(args);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, new RegExp(`· unchanged MySQL user '${name}'`));
  assert.match(again.stdout, /Nothing to change/);

  // An extra grant someone added is taken away again.
  const admin = await mysql.createConnection({ ...fx.db.endpoint });
  const [[row]] = (await admin.query("SELECT SUBSTRING_INDEX(USER(), '@', -1) AS host")) as unknown as [
    [{ host: string }],
  ];
  await admin.query("GRANT DELETE ON ??.b_sale_order TO ?@?", [fx.db.name, name, row.host]);
  await admin.end();
  const reset = await fx.install(args);
  assert.equal(reset.code, 0, reset.stdout);
  assert.match(reset.stdout, new RegExp(`✔ reset the grants of MySQL user '${name}'`));
  const fresh = createMysqlPool(config.mysqlTarget, { connectTimeoutMs: 5000, poolSize: 1 });
  t.after(() => fresh.end());
  await assert.rejects(fresh.query("DELETE FROM b_sale_order WHERE ID = 0"), /DELETE command denied/);
});
