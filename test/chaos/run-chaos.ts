/**
 * `npm run chaos [-- --short | --duration <s> --kills <n> ...]`: one chaos run
 * (chaos-scenario.ts) against the local MariaDB (or a private one), its table
 * on stdout, progress on stderr. Exit 0 when every invariant held, 1 when one
 * did not (the violations are listed), 2 on a usage error.
 */
import { CommanderError } from "commander";
import { ensureMariaDb } from "../support/mariadb.js";
import { formatMysqlUrl, TEST_MYSQL_URL_ENV } from "../support/mysql-endpoint.js";
import { type ChaosOptions, parseChaosArgs } from "./chaos-options.js";
import { formatChaosReport } from "./chaos-report.js";
import { runChaos } from "./chaos-scenario.js";

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
  const server = await ensureMariaDb({ log });
  process.env[TEST_MYSQL_URL_ENV] ??= formatMysqlUrl(server.endpoint);
  try {
    const report = await runChaos(options, log);
    process.stdout.write(`${formatChaosReport(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `[chaos] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
