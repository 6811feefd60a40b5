/**
 * One `doctor` check: what it looked at, what it found and, when it is not
 * fine, what to do. `skip` is a check that could not run because an earlier
 * one failed (MySQL unreachable: no grants check); it never decides the exit
 * code on its own, the failure that caused it does.
 */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Short constant name: "mysql reachable", "crm token". */
  name: string;
  status: CheckStatus;
  /** What was found, one line, never a secret. */
  found: string;
  /** What to do about it (warn / fail). */
  fix?: string;
}

export const ok = (name: string, found: string): CheckResult => ({ name, status: "ok", found });
export const warn = (name: string, found: string, fix: string): CheckResult => ({
  name,
  status: "warn",
  found,
  fix,
});
export const fail = (name: string, found: string, fix: string): CheckResult => ({
  name,
  status: "fail",
  found,
  fix,
});
export const skip = (name: string, why: string): CheckResult => ({ name, status: "skip", found: why });
