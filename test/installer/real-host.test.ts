import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import type { CommandResult, HostSystem } from "../../installer/host-system.js";
import { install } from "../../installer/install.js";
import { uninstall } from "../../installer/uninstall.js";
import { PACKAGE_ROOT } from "../support/package-root.js";
import { TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { setupInstaller } from "./installer-fixture.js";

/**
 * What a real (not staged) install runs, on a make-believe host: files go
 * below a temp folder, and useradd/systemctl are answered by a small model
 * of the host whose `systemctl restart` starts an HTTP server answering
 * /healthz like the daemon. This is the code path of `sudo cvety-sidecar
 * install` on a Bitrix host, minus PID 1.
 */
function modelHost(root: string, daemonVersion: () => string) {
  const users = new Map<string, number>([["root", 0]]);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const state = {
    enabled: false,
    active: false,
    ran: [] as string[],
    server: undefined as Server | undefined,
  };
  const port = { value: 0 };
  const startDaemon = async () => {
    state.server?.close();
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ version: daemonVersion(), pid: 4242 }));
    });
    await new Promise<void>((resolve) => server.listen(port.value, "127.0.0.1", resolve));
    state.server = server;
    state.active = true;
  };
  const ok = (stdout = ""): CommandResult => ({ status: 0, stdout, stderr: "" });
  const system: HostSystem = {
    staged: false,
    path: (p) => join(root, p),
    // Root and the service user map to this process's ids, so chown works without privileges.
    userId: async (name) => (users.has(name) ? uid : undefined),
    groupId: async (name) => (users.has(name) ? gid : undefined),
    async run(argv) {
      state.ran.push(argv.join(" "));
      if (argv[0] === "useradd") users.set(argv.at(-1) as string, 999);
      if (argv[0] === "systemctl" && argv[1] === "enable") state.enabled = true;
      if (argv[0] === "systemctl" && argv[1] === "restart") await startDaemon();
      return { stdout: "", stderr: "" };
    },
    async query(argv) {
      const line = argv.join(" ");
      if (line === "systemctl --version") return ok("systemd 252 (252.38-1~deb12u1)\n");
      if (line.startsWith("systemctl is-enabled")) return { ...ok(), status: state.enabled ? 0 : 1 };
      if (line.startsWith("systemctl is-active")) return { ...ok(), status: state.active ? 0 : 3 };
      if (argv[0] === "journalctl")
        return ok("cvety-sidecar: configuration error: crm.url: expected an http(s) URL\n");
      throw new Error(`unexpected query ${line}`);
    },
  };
  return { system, state, port, close: () => state.server?.close() };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("a real install runs useradd, daemon-reload, enable and restart, waits for the new version on /healthz; uninstall disables it", async (t) => {
  const fx = await setupInstaller(t, { prefix: "realhost" });
  mkdirSync(fx.staged("/run/systemd/system"), { recursive: true });
  let daemonVersion = "0.0.1-old";
  const host = modelHost(fx.stage, () => daemonVersion);
  t.after(() => host.close());
  host.port.value = await freePort();
  const lines: string[] = [];
  const run = (extra: { healthTimeoutS?: string } = {}) =>
    install({
      flags: {
        crmUrl: fx.crm.url,
        crmCaFile: fx.pki.caFile,
        mysqlUrl: fx.db.url,
        httpListen: `127.0.0.1:${host.port.value}`,
        ...extra,
      },
      dryRun: false,
      env: { CVETY_SIDECAR_CRM_TOKEN: TEST_CRM_TOKEN },
      out: (line) => lines.push(line),
      packageDir: PACKAGE_ROOT,
      system: host.system,
      host: { uid: 0 },
    });

  // The freshly started daemon still answers with the old version: the install is not done.
  const stale = await run({ healthTimeoutS: "1" });
  assert.equal(stale, 1);
  assert.match(
    lines.join("\n"),
    /✖ service: the service did not answer http:\/\/127\.0\.0\.1:\d+\/healthz within 1 s \(version 0\.0\.1-old answers, not \d+\.\d+\.\d+.*\)\nlast lines of journalctl -u cvety-sidecar\.service:\ncvety-sidecar: configuration error/,
  );
  assert.match(lines.join("\n"), /Fix the problem above and run the same command again/);
  assert.match(host.state.ran[0] ?? "", /^useradd --system --user-group/);
  assert.deepEqual(host.state.ran.slice(1), [
    "systemctl daemon-reload",
    "systemctl enable cvety-sidecar.service",
    "systemctl restart cvety-sidecar.service",
  ]);
  assert.equal(statSync(fx.staged("/etc/cvety-sidecar/secrets.env")).mode & 0o777, 0o600);

  // The daemon crashed meanwhile, and now comes up right: a re-run only restarts it.
  daemonVersion = (await import("../../daemon/version.js")).VERSION;
  lines.length = 0;
  host.state.ran.length = 0;
  host.state.active = false;
  assert.equal(await run(), 0, lines.join("\n"));
  const text = lines.join("\n");
  assert.match(text, /· unchanged user cvety-sidecar/);
  assert.match(text, /✔ systemctl restart cvety-sidecar\.service/);
  assert.match(text, /✔ wait for http:\/\/127\.0\.0\.1:\d+\/healthz \(up to 30 s\)/);
  assert.match(text, /is installed and running/);
  assert.deepEqual(host.state.ran, ["systemctl restart cvety-sidecar.service"]);

  lines.length = 0;
  host.state.ran.length = 0;
  assert.equal(await run(), 0);
  assert.deepEqual(host.state.ran, [], "a third run runs nothing");
  assert.match(lines.join("\n"), /· unchanged service cvety-sidecar\.service \(enabled, running\)/);
  assert.match(lines.join("\n"), /Nothing to change: cvety-sidecar .* is installed and running\./);

  // Uninstall stops and disables what systemd runs, then forgets the unit.
  host.state.ran.length = 0;
  const removed = await uninstall({
    purge: false,
    force: false,
    dryRun: false,
    out: () => {},
    system: host.system,
    uid: 0,
  });
  assert.equal(removed, 0);
  assert.deepEqual(host.state.ran, [
    "systemctl disable --now cvety-sidecar.service",
    "systemctl daemon-reload",
  ]);
});
