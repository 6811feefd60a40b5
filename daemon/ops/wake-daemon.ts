import { daemonUrl } from "./daemon-address.js";

/** Short: a daemon that does not answer within this is treated as down. */
export const WAKE_TIMEOUT_MS = 1_000;

/**
 * Asks the running daemon to look at the outbox now (POST /wake on `[http] listen`),
 * after a CLI command made entries due. True when the daemon answered. Never
 * throws: with the daemon down (or `listen = "off"`) the entries simply wait
 * for its next start, so a command must not fail because of it.
 */
export async function wakeDaemon(listen: string, timeoutMs: number = WAKE_TIMEOUT_MS): Promise<boolean> {
  try {
    const url = daemonUrl(listen, "/wake");
    if (url === undefined) return false;
    const res = await fetch(url, { method: "POST", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
