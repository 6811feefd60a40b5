/** The printed result of a chaos run: facts, then one line per invariant, then the violations. */
import type { ChaosReport } from "./chaos-scenario.js";

export function formatChaosReport(r: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`# cvety-sidecar chaos run${r.options.short ? " (short)" : ""}: ${r.ok ? "PASS" : "FAIL"}`, "");
  const width = Math.max(...r.facts.map(([k]) => k.length));
  for (const [k, v] of r.facts) lines.push(`${k.padEnd(width)}  ${v}`);
  lines.push("", "| invariant | result | measured |", "|---|---|---|");
  for (const c of r.checks) lines.push(`| ${c.name} | ${c.ok ? "PASS" : "FAIL"} | ${c.detail} |`);
  const failed = r.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    lines.push("", "Violations:");
    for (const c of failed) {
      lines.push(`- ${c.name}:`);
      for (const v of c.violations) lines.push(`    ${v}`);
    }
  }
  return lines.join("\n");
}
