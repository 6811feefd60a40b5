/**
 * `npm run bench`: runs every benchmark (or those named on the command line)
 * against the local MariaDB and a local CRM stand-in, and prints a report.
 * Numbers are measured here, never asserted in tests.
 */
import { ensureMariaDb } from "../support/mariadb.js";
import { formatMysqlUrl } from "../support/mysql-endpoint.js";
import { BENCHMARKS } from "./benchmarks.js";

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const selected =
    only.length > 0 ? BENCHMARKS.filter((b) => only.some((o) => b.name.includes(o))) : BENCHMARKS;
  if (selected.length === 0) {
    console.error(
      `no benchmark matches ${only.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`,
    );
    process.exit(2);
  }
  const server = await ensureMariaDb({ log: (l) => console.error(`[bench] ${l}`) });
  process.env["CVETY_TEST_MYSQL_URL"] ??= formatMysqlUrl(server.endpoint);
  const report: string[] = [];
  let failed = false;
  try {
    for (const b of selected) {
      console.error(`\n[bench] ${b.name}: ${b.description}`);
      const started = Date.now();
      try {
        const lines = await b.run((line) => console.error(`[bench]   ${line}`));
        report.push(
          `## ${b.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
          ...lines.map((l) => `- ${l}`),
          "",
        );
      } catch (err) {
        failed = true;
        report.push(
          `## ${b.name}: FAILED`,
          `- ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
          "",
        );
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`\n# cvety-sidecar benchmark (${new Date().toISOString()}, node ${process.version})\n`);
  console.log(report.join("\n"));
  process.exit(failed ? 1 : 0);
}

void main();
