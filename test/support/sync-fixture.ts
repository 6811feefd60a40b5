/**
 * One end-to-end setup per test: a fresh Bitrix database (schema + shop
 * seed), a CRM stand-in over real HTTPS with its own CA, a temp dir with the
 * sidecar's config, state and log. `startSidecar()` runs the real binary.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { seedShop } from "./bitrix-shop.js";
import { type CrmServer, startCrmServer } from "./crm-server.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "./mariadb.js";
import { SidecarProcess, type SidecarTestConfig, writeSidecarConfig } from "./sidecar-process.js";
import type { TestDatabaseCharset } from "./test-database.js";
import { createTestPki, type TestPki } from "./test-pki.js";

export const TEST_CRM_TOKEN = "test-crm-token-0123456789abcdef";

export interface SyncFixture {
  dir: string;
  db: TestDatabase;
  crm: CrmServer;
  pki: TestPki;
  configFile: string;
  logFile: string;
  stateDir: string;
  /** Rewrites config.toml with these overrides (keeps the rest). */
  writeConfig(overrides?: Partial<SidecarTestConfig>): string;
  startSidecar(env?: NodeJS.ProcessEnv): Promise<SidecarProcess>;
}

export async function setupSync(
  t: TestContext,
  opts: { config?: Partial<SidecarTestConfig>; prefix?: string; charset?: TestDatabaseCharset } = {},
): Promise<SyncFixture> {
  const dir = mkdtempSync(join(tmpdir(), "cvety-e2e-"));
  const pki = await createTestPki(join(dir, "pki"));
  const crm = await startCrmServer({ token: TEST_CRM_TOKEN, pki });
  const db = await createTestDatabase(endpointFromEnv(), {
    prefix: opts.prefix ?? "e2e",
    ...(opts.charset ? { charset: opts.charset } : {}),
  });
  await seedShop(db.pool);
  const running: SidecarProcess[] = [];
  t.after(async () => {
    for (const p of running) await p.kill9().catch(() => {});
    await crm.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  let current: SidecarTestConfig = {
    mysqlUrl: db.url,
    crmUrl: crm.url,
    crmToken: TEST_CRM_TOKEN,
    caFile: pki.caFile,
    ...opts.config,
  };
  const fixture: SyncFixture = {
    dir,
    db,
    crm,
    pki,
    configFile: "",
    logFile: join(dir, "sidecar.log"),
    stateDir: join(dir, "state"),
    writeConfig(overrides = {}) {
      current = { ...current, ...overrides };
      fixture.configFile = writeSidecarConfig(dir, current);
      return fixture.configFile;
    },
    async startSidecar(env = {}) {
      const p = await SidecarProcess.start(fixture.configFile, fixture.logFile, env);
      running.push(p);
      return p;
    },
  };
  fixture.writeConfig();
  return fixture;
}

/** Accepted deliveries of one order as [event, VERSION] pairs, in arrival order. */
export function acceptedVersions(crm: CrmServer, orderId: number): Array<[string, string]> {
  return crm.acceptedFor(orderId).map((d) => [d.event, String(d.data["VERSION"])]);
}
