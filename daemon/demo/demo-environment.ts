/**
 * Everything the demo runs on, composed from the test harness (test/support,
 * shipped in dist/test/support): a MariaDB (the one on 127.0.0.1:3306, or a
 * private throwaway mariadbd), a fresh `cvety_demo_<pid>` database with the
 * Bitrix schema and the shop's reference data, a throwaway CA, a CRM stand-in
 * and a status feed over HTTPS, a config in a temp folder, and the real daemon
 * as a child process. `cleanup()` undoes whatever was set up, newest first,
 * also after a setup that failed halfway.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedShop } from "../../test/support/bitrix-shop.js";
import { type CrmServer, type ReceivedRequest, startCrmServer } from "../../test/support/crm-server.js";
import { ensureMariaDb } from "../../test/support/mariadb.js";
import { freePort } from "../../test/support/private-mariadb.js";
import { SIDECAR_BIN, SidecarProcess, writeSidecarConfig } from "../../test/support/sidecar-process.js";
import { type StatusFeedServer, startStatusFeedServer } from "../../test/support/status-feed-server.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/test-database.js";
import { createTestPki } from "../../test/support/test-pki.js";

export interface DemoEnvironment {
  dir: string;
  configFile: string;
  logFile: string;
  stateDir: string;
  db: TestDatabase;
  crm: CrmServer;
  feed: StatusFeedServer;
  sidecar: SidecarProcess;
}

export interface DemoSetup {
  /** The temp folder, known as soon as it exists (so a failed setup can still name it). */
  dir: string | undefined;
  databaseName: string;
  /** Set up everything; throws after undoing nothing (call cleanup()). */
  start(): Promise<DemoEnvironment>;
  /** Stops and removes what start() made, newest first; the temp folder stays with `keep`. Never throws. */
  cleanup(opts: { keep: boolean }): Promise<void>;
}

/** Daemon settings for a lively minute: quick polls, a readable info log, write-back from the feed. */
const DEMO_POLL_MS = 250;
const DEMO_WRITEBACK_POLL_MS = 1000;

export function prepareDemo(opts: {
  say: (line: string) => void;
  onCrmAnswer: (request: ReceivedRequest) => void;
}): DemoSetup {
  const { say } = opts;
  const undo: Array<{ what: string; run: () => Promise<unknown> }> = [];
  const databaseName = `cvety_demo_${process.pid}`;
  let dir: string | undefined;

  const setup: DemoSetup = {
    get dir() {
      return dir;
    },
    databaseName,
    async start() {
      const workDir = await mkdtemp(join(tmpdir(), "cvety-demo-"));
      dir = workDir;
      undo.push({ what: "temp folder", run: () => rm(workDir, { recursive: true, force: true }) });

      const mariadb = await ensureMariaDb({ log: (line) => say(`MariaDB: ${line}`) });
      undo.push({ what: "MariaDB", run: mariadb.stop });

      const db = await createTestDatabase(mariadb.endpoint, { name: databaseName });
      undo.push({ what: `database ${databaseName}`, run: () => db.drop() });
      await seedShop(db.pool);
      say(
        `Bitrix: database ${databaseName} with the Bitrix schema and the shop's statuses, properties, customers`,
      );

      const pki = await createTestPki(join(workDir, "pki"));
      const crmToken = randomBytes(16).toString("hex");
      const crm = await startCrmServer({ token: crmToken, pki, onAnswer: opts.onCrmAnswer });
      undo.push({ what: "CRM stand-in", run: () => crm.stop() });
      const feedToken = randomBytes(16).toString("hex");
      const feed = await startStatusFeedServer({ pki, token: feedToken });
      undo.push({ what: "status feed", run: () => feed.stop() });
      say(`CRM:    stand-in at ${crm.url}, status feed at ${feed.url} (throwaway CA ${pki.caFile})`);

      const httpPort = await freePort();
      const configFile = writeSidecarConfig(workDir, {
        mysqlUrl: db.url,
        crmUrl: crm.url,
        crmToken,
        caFile: pki.caFile,
        sections: {
          capture: { poll_interval_ms: DEMO_POLL_MS },
          log: { level: "info" },
          http: { listen: `127.0.0.1:${httpPort}` },
          writeback: {
            enabled: true,
            source: "feed",
            url: feed.url,
            token: feedToken,
            ca_file: pki.caFile,
            poll_interval_ms: DEMO_WRITEBACK_POLL_MS,
            start_from: "beginning",
          },
        },
      });
      const logFile = join(workDir, "sidecar.log");
      // The daemon reads only this config: secrets from the caller's environment must not override it.
      const env = Object.fromEntries(
        Object.keys(process.env)
          .filter((key) => key.startsWith("CVETY_SIDECAR_"))
          .map((key) => [key, undefined]),
      );
      // Its own process group: a Ctrl-C reaches only the demo, which then stops the daemon once.
      const sidecar = await SidecarProcess.start(configFile, logFile, env, SIDECAR_BIN, { detached: true });
      undo.push({ what: "daemon", run: () => sidecar.stop() });
      say(`Daemon: cvety-sidecar run --config ${configFile} (pid ${sidecar.child.pid})`);

      return { dir: workDir, configFile, logFile, stateDir: join(workDir, "state"), db, crm, feed, sidecar };
    },
    async cleanup({ keep }) {
      while (undo.length > 0) {
        const step = undo.pop()!;
        if (keep && step.what === "temp folder") continue;
        try {
          await step.run();
        } catch (err) {
          say(`cleanup: stopping the ${step.what} failed: ${(err as Error).message}`);
        }
      }
    },
  };
  return setup;
}
