/**
 * The test runner behind `npm test` (after `tsc`):
 *
 *   node dist/test/run-tests.js [filter ...]
 *
 * Finds or starts a MariaDB (test/support/mariadb.ts), exports it to the test
 * processes as CVETY_TEST_MYSQL_URL, runs every compiled dist/test/**\/*.test.js
 * (sorted; with filters, only paths containing one of them) under `node --test`,
 * stops a private server if it started one, and exits with node --test's code.
 * Finding no test file is a failure: a green run must mean tests ran.
 */
import { spawn } from "node:child_process";
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { availableParallelism, constants } from "node:os";
import { join, relative } from "node:path";
import { ensureMariaDb, formatMysqlUrl } from "./support/mariadb.js";
import { TEST_MYSQL_URL_ENV } from "./support/mysql-endpoint.js";
import { PACKAGE_ROOT } from "./support/package-root.js";

const MAX_CONCURRENCY = 4;

async function findTestFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return found;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findTestFiles(path)));
    else if (entry.isFile() && entry.name.endsWith(".test.js")) found.push(path);
  }
  return found;
}

function log(line: string): void {
  process.stderr.write(`run-tests: ${line}\n`);
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const testRoot = join(PACKAGE_ROOT, "dist", "test");
  const all = (await findTestFiles(testRoot)).sort();
  const files =
    filters.length === 0
      ? all
      : all.filter((file) => filters.some((filter) => relative(testRoot, file).includes(filter)));
  if (files.length === 0) {
    log(
      all.length === 0
        ? `no *.test.js files under ${testRoot}: did tsc run (npm run build)?`
        : `none of the ${all.length} test files matches ${filters.map((f) => JSON.stringify(f)).join(", ")}`,
    );
    return 1;
  }

  const database = await ensureMariaDb({ log });
  let exitCode = 1;
  try {
    const concurrency = Math.max(1, Math.min(MAX_CONCURRENCY, availableParallelism()));
    log(`running ${files.length} test file(s), concurrency ${concurrency}`);
    const child = spawn(
      process.execPath,
      ["--test", `--test-concurrency=${concurrency}`, ...files.map((file) => relative(PACKAGE_ROOT, file))],
      {
        cwd: PACKAGE_ROOT,
        stdio: "inherit",
        env: { ...process.env, [TEST_MYSQL_URL_ENV]: formatMysqlUrl(database.endpoint) },
      },
    );
    // Ctrl-C reaches the child through the terminal's process group; a plain kill of
    // this runner is passed on, so tests stop and the private server is still cleaned up.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    exitCode = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) =>
        resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])),
      );
    });
    process.removeListener("SIGINT", forward);
    process.removeListener("SIGTERM", forward);
  } finally {
    await database.stop();
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
