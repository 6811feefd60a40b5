import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { startHttpServer } from "../../daemon/http/http-server.js";
import { daemonUrl } from "../../daemon/ops/daemon-address.js";
import { wakeDaemon } from "../../daemon/ops/wake-daemon.js";

test("wakeDaemon posts /wake and the daemon's handler runs", async (t) => {
  let woken = 0;
  const http = await startHttpServer("127.0.0.1:0", {
    registry: new Registry(),
    health: () => ({}),
    ready: async () => ({ ready: true, checks: {} }),
    wake: () => {
      woken++;
    },
  });
  t.after(() => http.close());
  assert.equal(await wakeDaemon(http.address), true);
  assert.equal(woken, 1);
  const get = await fetch(`http://${http.address}/wake`);
  assert.equal(get.status, 405, "GET /wake wakes nothing");
  assert.equal(woken, 1);
});

test("wakeDaemon answers false, without throwing, when nothing listens or http is off", async () => {
  const http = await startHttpServer("127.0.0.1:0", {
    registry: new Registry(),
    health: () => ({}),
    ready: async () => ({ ready: true, checks: {} }),
  });
  const address = http.address;
  await http.close();
  assert.equal(await wakeDaemon(address), false);
  assert.equal(await wakeDaemon("off"), false);
});

test("daemonUrl reaches a wildcard listener through loopback", () => {
  assert.equal(daemonUrl("0.0.0.0:9465", "/healthz"), "http://127.0.0.1:9465/healthz");
  assert.equal(daemonUrl("[::]:9465", "/wake"), "http://[::1]:9465/wake");
  assert.equal(daemonUrl("127.0.0.1:9465", "/wake"), "http://127.0.0.1:9465/wake");
  assert.equal(daemonUrl("off", "/wake"), undefined);
});
