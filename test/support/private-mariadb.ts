/**
 * A throwaway MariaDB server for machines where none answers: a fresh datadir in a
 * temp folder, its own socket and a free TCP port on 127.0.0.1, root with an empty
 * password. It exists only for the test run; stop() kills it and removes the folder.
 * Durability settings are relaxed on purpose (nothing here must survive a crash),
 * which also makes the benchmark's bulk loads faster.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import type { MysqlEndpoint } from "./mysql-endpoint.js";

const execFileAsync = promisify(execFile);

/** A fresh datadir normally answers in 1-3 s; a slow CI disk gets much more. */
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
const STOP_TIMEOUT_MS = 20_000;

export interface PrivateMariaDb {
  endpoint: MysqlEndpoint;
  dir: string;
  stop: () => Promise<void>;
}

function findBinary(names: string[]): string {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin"];
  for (const name of names) {
    for (const dir of dirs) {
      if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  throw new Error(`cannot start a private MariaDB: none of ${names.join(", ")} found in PATH or /usr/sbin`);
}

/** Asks the kernel for a free port. Another process could take it before mariadbd binds; unlikely enough. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** mariadbd refuses to run as root unless told to, and --user means nothing to anyone else. */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? [`--user=${userInfo().username}`] : [];
}

async function waitUntilReady(child: ChildProcess, endpoint: MysqlEndpoint, errorLog: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `private mariadbd exited (${child.exitCode ?? child.signalCode}) before accepting connections; ` +
          `last lines of ${errorLog}:\n${tail(errorLog)}`,
      );
    }
    try {
      // TCP on purpose: that is what CVETY_TEST_MYSQL_URL will carry.
      const { host, port, user, password } = endpoint;
      const connection = await mysql.createConnection({ host, port, user, password, connectTimeout: 1000 });
      await connection.end();
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(
    `private mariadbd did not accept connections on ${endpoint.host}:${endpoint.port} within ` +
      `${READY_TIMEOUT_MS} ms (last error: ${lastError}); last lines of ${errorLog}:\n${tail(errorLog)}`,
  );
}

export async function startPrivateMariaDb(log: (line: string) => void): Promise<PrivateMariaDb> {
  const installDb = findBinary(["mariadb-install-db", "mysql_install_db"]);
  const mariadbd = findBinary(["mariadbd", "mysqld"]);
  const dir = await mkdtemp(join(tmpdir(), "cvety-mariadb-"));
  const dataDir = join(dir, "data");
  const errorLog = join(dir, "error.log");

  try {
    // --no-defaults must come first: the host's my.cnf must not leak in.
    await execFileAsync(installDb, [
      "--no-defaults",
      "--auth-root-authentication-method=normal",
      `--datadir=${dataDir}`,
      "--skip-test-db",
      ...userArgs(),
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const output = err as { stdout?: string; stderr?: string; message?: string };
    throw new Error(
      `${installDb} failed: ${output.message ?? ""}\n${output.stderr ?? ""}${output.stdout ?? ""}`,
    );
  }

  const port = await freePort();
  const socketPath = join(dir, "sock");
  const child = spawn(
    mariadbd,
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      `--socket=${socketPath}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--pid-file=${join(dir, "mariadbd.pid")}`,
      `--log-error=${errorLog}`,
      "--skip-name-resolve",
      "--skip-log-bin",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_unicode_ci",
      "--max-connections=500",
      "--max-allowed-packet=64M",
      "--innodb-buffer-pool-size=256M",
      // Throwaway data: trade crash safety for speed.
      "--innodb-flush-log-at-trx-commit=0",
      "--innodb-doublewrite=0",
      ...userArgs(),
    ],
    { stdio: "ignore" },
  );
  const endpoint: MysqlEndpoint = { host: "127.0.0.1", port, user: "root", password: "", socketPath };
  log(`started private mariadbd pid ${child.pid} on 127.0.0.1:${port}, datadir ${dataDir}`);

  let stopped = false;
  // Last resort if the test process dies without calling stop(): never leave a server behind.
  const killOnExit = () => {
    if (stopped) return;
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
    log(`stopped private mariadbd on port ${port} and removed ${dir}`);
  };

  try {
    await waitUntilReady(child, endpoint, errorLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, dir, stop };
}
