import { setTimeout as sleep } from "node:timers/promises";
import { InstallStepError } from "./install-errors.js";

/**
 * After `systemctl restart`, the install is done only when the new daemon
 * answers /healthz with the version just installed: an old process still
 * answering, or one that crashes right after start, does not count.
 */

const POLL_MS = 250;
const REQUEST_TIMEOUT_MS = 2_000;

/** http://host:port/healthz for [http] listen; a wildcard address is asked on loopback. */
export function healthUrl(listen: string): string {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new InstallStepError("E_HTTP_LISTEN", `cannot read [http] listen "${listen}"`);
  const host = m[1] === "0.0.0.0" ? "127.0.0.1" : m[1] === "::" ? "::1" : (m[1] as string);
  return `http://${host.includes(":") ? `[${host}]` : host}:${m[2]}/healthz`;
}

export interface HealthAnswer {
  version: string;
  pid: number | undefined;
}

export async function waitForHealth(
  url: string,
  opts: { version: string; timeoutMs: number; describeFailure?: () => Promise<string> },
): Promise<HealthAnswer> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = (await res.json().catch(() => ({}))) as { version?: unknown; pid?: unknown };
      if (res.ok && body.version === opts.version) {
        return { version: opts.version, pid: typeof body.pid === "number" ? body.pid : undefined };
      }
      last = res.ok ? `version ${String(body.version)} answers, not ${opts.version}` : `HTTP ${res.status}`;
    } catch (err) {
      last =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message;
    }
    await sleep(POLL_MS);
  }
  const details = opts.describeFailure === undefined ? "" : `\n${await opts.describeFailure()}`;
  throw new InstallStepError(
    "E_NOT_HEALTHY",
    `the service did not answer ${url} within ${Math.round(opts.timeoutMs / 1000)} s (${last})${details}`,
  );
}
