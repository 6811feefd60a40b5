import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createOrder } from "../support/bitrix-writer.js";
import { formatMysqlUrl } from "../support/mariadb.js";
import { setupSync } from "../support/sync-fixture.js";
import { startTcpProxy } from "../support/tcp-proxy.js";

test("a MySQL outage is logged once, capture reconnects, and what was written meanwhile is delivered", async (t) => {
  const f = await setupSync(t);
  const proxy = await startTcpProxy(f.db.endpoint.host, f.db.endpoint.port);
  t.after(() => proxy.close());
  f.writeConfig({ mysqlUrl: formatMysqlUrl({ ...f.db.endpoint, port: proxy.port }, f.db.name) });
  const sidecar = await f.startSidecar();
  const before = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(before).length === 1);

  await proxy.cut();
  const during = await createOrder(f.db.pool); // written straight to MariaDB, the sidecar cannot see it
  await sleep(2000); // ~20 polls at 100 ms
  const down = sidecar.logLines().filter((l) => l.msg.startsWith("mysql unreachable"));
  assert.equal(down.length, 1, "one line for the whole outage, not one per poll");
  assert.equal(f.crm.acceptedFor(during).length, 0);
  assert.equal(sidecar.child.exitCode, null, "the daemon keeps running");

  await proxy.restore();
  await f.crm.waitFor((c) => c.acceptedFor(during).length === 1, 40_000, "order written during the outage");
  await sidecar.waitForLog((l) => l.msg.startsWith("mysql reachable again"));
  assert.equal(sidecar.logLines().filter((l) => l.msg.startsWith("mysql reachable again")).length, 1);
});
