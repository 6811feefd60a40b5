/**
 * One staged install per test: a real Bitrix database, the HTTPS CRM
 * stand-in with its own CA, and a temp folder that plays the host's `/`
 * (install --root). `install(args)` runs the real binary.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { TestContext } from "node:test";
import { type CrmServer, startCrmServer } from "../support/crm-server.js";
import { createTestDatabase, endpointFromEnv, type TestDatabase } from "../support/mariadb.js";
import { type RunResult, runCli } from "../support/sidecar-process.js";
import { TEST_CRM_TOKEN } from "../support/sync-fixture.js";
import { createTestPki, type TestPki } from "../support/test-pki.js";

export const BITRIX_ROOT = "/home/bitrix/www";

export interface InstallerFixture {
  dir: string;
  /** The staged host's `/`. */
  stage: string;
  db: TestDatabase;
  crm: CrmServer;
  pki: TestPki;
  /** Path of a system path inside the stage. */
  staged(path: string): string;
  /** `install --yes --root <stage> --crm-url ... --crm-ca-file ...` plus `extra`; the token comes from the environment. */
  install(extra?: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** The same arguments, for running another copy of the binary (`bin` as with runBin). */
  installArgs(extra?: string[]): string[];
  uninstall(extra?: string[]): Promise<RunResult>;
  /** Writes <stage>/home/bitrix/www/bitrix/.settings.php pointing at the test database. */
  writeBitrixSettings(): void;
  /** Every file, folder and link in the stage: relative path -> "file 0644" / "dir 0750" / "link -> target". */
  listStage(): Map<string, string>;
}

export async function setupInstaller(
  t: TestContext,
  opts: { prefix?: string } = {},
): Promise<InstallerFixture> {
  const dir = mkdtempSync(join(tmpdir(), "cvety-inst-"));
  const stage = join(dir, "root");
  mkdirSync(join(stage, BITRIX_ROOT, "bitrix"), { recursive: true });
  const pki = await createTestPki(join(dir, "pki"));
  const crm = await startCrmServer({ token: TEST_CRM_TOKEN, pki });
  const db = await createTestDatabase(endpointFromEnv(), { prefix: opts.prefix ?? "inst" });
  t.after(async () => {
    await crm.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const staged = (path: string) => join(stage, path);
  const installArgs = (extra: string[] = []) => [
    "install",
    "--yes",
    "--root",
    stage,
    "--crm-url",
    crm.url,
    "--crm-ca-file",
    pki.caFile,
    ...extra,
  ];
  return {
    dir,
    stage,
    db,
    crm,
    pki,
    staged,
    install: (extra = [], env = {}) =>
      runCli(installArgs(extra), {
        env: { CVETY_SIDECAR_CRM_TOKEN: TEST_CRM_TOKEN, ...env },
        timeoutMs: 60_000,
      }),
    installArgs,
    uninstall: (extra = []) =>
      runCli(["uninstall", "--yes", "--root", stage, ...extra], { timeoutMs: 60_000 }),
    writeBitrixSettings() {
      const e = db.endpoint;
      writeFileSync(
        staged(join(BITRIX_ROOT, "bitrix", ".settings.php")),
        `<?php
return array (
  'connections' => array (
    'value' => array (
      'default' => array (
        'className' => '\\\\Bitrix\\\\Main\\\\DB\\\\MysqliConnection',
        'host' => '${e.host}:${e.port}',
        'database' => '${db.name}',
        'login' => '${e.user}',
        'password' => '${e.password}',
        'options' => 2,
      ),
    ),
    'readonly' => true,
  ),
);
`,
      );
    },
    listStage() {
      const found = new Map<string, string>();
      const walk = (path: string) => {
        for (const name of readdirSync(path)) {
          const full = join(path, name);
          const rel = relative(stage, full);
          const info = lstatSync(full);
          const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
          if (info.isSymbolicLink()) found.set(rel, "link");
          else if (info.isDirectory()) {
            found.set(rel, `dir ${mode}`);
            // The copied package is thousands of files: its top folder is enough here.
            if (!/^opt\/cvety-sidecar\/[^/]+$/.test(rel)) walk(full);
          } else found.set(rel, `file ${mode}`);
        }
      };
      walk(stage);
      return found;
    },
  };
}
