import { EXIT_CONFIG, EXIT_OK, EXIT_RUNTIME } from "../../errors.js";
import type { CheckResult, CheckStatus } from "./check-result.js";

/** Pure rendering of `doctor` results: one line per check, the fix indented below. */

const SYMBOL: Record<CheckStatus, string> = { ok: "✔", warn: "!", fail: "✖", skip: "-" };
const COLOUR: Record<CheckStatus, string> = {
  ok: "\x1b[32m",
  warn: "\x1b[33m",
  fail: "\x1b[31m",
  skip: "\x1b[2m",
};
const RESET = "\x1b[0m";

export function formatCheck(r: CheckResult, opts: { colour?: boolean } = {}): string {
  const symbol = opts.colour ? `${COLOUR[r.status]}${SYMBOL[r.status]}${RESET}` : SYMBOL[r.status];
  const line = `${symbol} ${r.name}: ${r.found}`;
  return r.fix === undefined || r.status === "ok" ? line : `${line}\n    → ${r.fix}`;
}

export function formatSummary(results: readonly CheckResult[]): string {
  const n = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const parts = [`${n("ok")} passed`];
  if (n("warn") > 0) parts.push(`${n("warn")} warning${n("warn") === 1 ? "" : "s"}`);
  if (n("fail") > 0) parts.push(`${n("fail")} failed`);
  if (n("skip") > 0) parts.push(`${n("skip")} skipped`);
  return parts.join(", ");
}

export function formatReport(results: readonly CheckResult[], opts: { colour?: boolean } = {}): string {
  return `${results.map((r) => formatCheck(r, opts)).join("\n")}\n\n${formatSummary(results)}\n`;
}

/** `--json`: the checks as they are, plus the verdict. */
export function formatJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: doctorPassed(results), checks: results }, null, 2)}\n`;
}

/** Warnings are allowed; any failure is not. */
export function doctorPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status !== "fail");
}

/** 0 all passed, 78 the config itself is bad, 1 anything else failed. */
export function doctorExitCode(results: readonly CheckResult[], configFailed: boolean): number {
  if (configFailed) return EXIT_CONFIG;
  return doctorPassed(results) ? EXIT_OK : EXIT_RUNTIME;
}
