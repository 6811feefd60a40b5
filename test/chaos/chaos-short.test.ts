import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChaosArgs } from "./chaos-options.js";
import { formatChaosReport } from "./chaos-report.js";
import { runChaos } from "./chaos-scenario.js";

// The short chaos run (about 2 minutes of writes and faults, then the drain): what CI runs.
// It asserts invariants only, never timings; the drain may take up to 3 minutes on a busy machine.
test("short chaos run: kills, CRM 500s, outage and slow answers, a MySQL cut: nothing lost, nothing out of order, write-back exactly once", {
  timeout: 12 * 60_000,
}, async () => {
  const options = parseChaosArgs(["--short"]);
  const report = await runChaos(options, (line) => process.stderr.write(`[chaos] ${line}\n`));
  const printed = formatChaosReport(report);
  process.stderr.write(`${printed}\n`);
  assert.ok(report.options.kills >= 5, "at least 5 kills");
  assert.ok(
    report.facts.some(([k, v]) => k === "kill -9" && Number.parseInt(v, 10) >= 5),
    "the kills really happened",
  );
  for (const check of report.checks) {
    assert.ok(check.ok, `${check.name}: ${check.detail}\n${check.violations.join("\n")}\n\n${printed}`);
  }
});
