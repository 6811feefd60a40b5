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
  /** What start() is doing (or did last): names the step in an error. */
  readonly step: string;
  /** Set up everything; throws after undoing nothing (call cleanup()). */
  start(): Promise<DemoEnvironment>;
  /**
   * Stops and removes what start() made, newest first; the temp folder stays with `keep`. Never throws.
   * Returns what it did ("dropped the database ..."), in that order.
   */
  cleanup(opts: { keep: boolean }): Promise<string[]>;
}

/** Daemon settings for a lively minute: quick polls, a readable info log, write-back from the feed. */
const DEMO_POLL_MS = 250;
const DEMO_WRITEBACK_POLL_MS = 1000;

export function prepareDemo(opts: {
  say: (line: string) => void;
  onCrmAnswer: (request: ReceivedRequest) => void;
}): DemoSetup {
  const { say } = opts;
  /** `what` names the thing in an error, `done` says what undoing it did. */
  const undo: Array<{ what: string; done: string; run: () => Promise<unknown> }> = [];
  const databaseName = `cvety_demo_${process.pid}`;
  let dir: string | undefined;
  let step = "creating the temp folder";

  const setup: DemoSetup = {
    get dir() {
      return dir;
    },
    get step() {
      return step;
    },
    databaseName,
    async start() {
      const workDir = await mkdtemp(join(tmpdir(), "cvety-demo-"));
      dir = workDir;
      undo.push({
        what: "temp folder",
        done: `removed the temp folder ${workDir}`,
        run: () => rm(workDir, { recursive: true, force: true }),
      });

      step = "finding or starting MariaDB";
      let privateServer = false;
      const mariadb = await ensureMariaDb({
        log: (line) => {
          privateServer ||= line.startsWith("started private mariadbd");
          say(`MariaDB: ${line}`);
        },
      });
      if (privateServer)
        undo.push({ what: "private MariaDB", done: "stopped the private MariaDB", run: mariadb.stop });

      step = `creating the database ${databaseName}`;
      const db = await createTestDatabase(mariadb.endpoint, { name: databaseName });
      undo.push({
        what: `database ${databaseName}`,
        done: `dropped the database ${databaseName}`,
        run: () => db.drop(),
      });
      await seedShop(db.pool);
      say(
        `Bitrix: database ${databaseName} with the Bitrix schema and the shop's statuses, properties, customers`,
      );

      step = "starting the CRM stand-in";
      const pki = await createTestPki(join(workDir, "pki"));
      const crmToken = randomBytes(16).toString("hex");
      const crm = await startCrmServer({ token: crmToken, pki, onAnswer: opts.onCrmAnswer });
      undo.push({ what: "CRM stand-in", done: "stopped the CRM stand-in", run: () => crm.stop() });
      const feedToken = randomBytes(16).toString("hex");
      const feed = await startStatusFeedServer({ pki, token: feedToken });
      undo.push({ what: "status feed", done: "stopped the status feed", run: () => feed.stop() });
      say(`CRM:    stand-in at ${crm.url}, status feed at ${feed.url} (throwaway CA ${pki.caFile})`);

      step = "starting the daemon";
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
      // Last resort if the demo dies without cleaning up: a detached daemon would outlive it.
      const killOnExit = () => sidecar.child.kill("SIGKILL");
      process.once("exit", killOnExit);
      undo.push({
        what: "daemon",
        done: "stopped the daemon",
        run: async () => {
          await sidecar.stop();
          process.removeListener("exit", killOnExit);
        },
      });
      say(`Daemon: cvety-sidecar run --config ${configFile} (pid ${sidecar.child.pid})`);

      step = "running";
      return { dir: workDir, configFile, logFile, stateDir: join(workDir, "state"), db, crm, feed, sidecar };
    },
    async cleanup({ keep }) {
      const done: string[] = [];
      while (undo.length > 0) {
        const action = undo.pop()!;
        if (keep && action.what === "temp folder") {
          done.push(`kept the temp folder ${dir}`);
          continue;
        }
        try {
          await action.run();
          done.push(action.done);
        } catch (err) {
          say(`cleanup: the ${action.what} failed: ${(err as Error).message}`);
        }
      }
      return done;
    },
  };
  return setup;
}
