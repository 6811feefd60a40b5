/**
 * What a CRM answer means for the entry that was sent (CONTRACT.md §1):
 * success is HTTP 2xx AND a JSON body whose `status` is "success" (the PHP
 * hook's rule); a 200 with `status: "error"` is the CRM's transformer
 * failing, often on missing reference data, so it is retried slowly.
 */
export type Classification =
  | { kind: "delivered"; action?: string }
  /** Transient: 408/425/429/5xx, network, timeouts. Exponential backoff; Retry-After honoured. */
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  /** 2xx with status "error": a longer schedule, a dead letter after dead_after_s. */
  | { kind: "crm_error"; reason: string }
  /** The CRM rejects this payload as invalid (400/413/422): dead letter at once, answer kept. */
  | { kind: "rejected"; reason: string }
  /** The endpoint itself is wrong (401/403/404/410, redirects, TLS): pause everything, never dead-letter. */
  | { kind: "endpoint"; reason: string };

export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);
export const REJECT_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);
/** Wrong URL, method or credentials: retrying one entry or another changes nothing. */
export const ENDPOINT_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 405, 410, 415, 421]);

/** TLS failures (undici/Node codes): a certificate problem is an endpoint problem, not a transient one. */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
]);

/** TLS failures that mean "unknown issuer", which a CA file fixes (as opposed to expiry or a wrong name). */
const TRUST_ERROR_CODES: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** Longest Retry-After we obey; a larger value is capped rather than parking an order for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

const MAX_REASON_CHARS = 300;

export function classifyResponse(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowMs: number,
  /** The body is only the start of a longer answer (crm-client.ts cuts answers off). */
  opts: { truncated?: boolean } = {},
): Classification {
  const summary = body.trim() ? `HTTP ${status}: ${truncate(body)}` : `HTTP ${status}`;
  if (status >= 200 && status < 300) {
    // A success we did not read to its end is not trusted: the real CRM's answers are tiny.
    if (opts.truncated)
      return { kind: "retry", reason: `HTTP ${status} answer too long, cut off: ${truncate(body)}` };
    const parsed = parseJson(body);
    const crmStatus =
      parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>)["status"] : undefined;
    if (crmStatus === "success") {
      const action = (parsed as Record<string, unknown>)["action"];
      return typeof action === "string" ? { kind: "delivered", action } : { kind: "delivered" };
    }
    if (crmStatus === "error") return { kind: "crm_error", reason: summary };
    return { kind: "retry", reason: `HTTP ${status} without status "success": ${truncate(body)}` };
  }
  if (REJECT_STATUSES.has(status)) return { kind: "rejected", reason: summary };
  if (ENDPOINT_STATUSES.has(status) || (status >= 300 && status < 400))
    return { kind: "endpoint", reason: summary };
  const retryAfterMs = parseRetryAfter(headers["retry-after"], nowMs);
  return retryAfterMs === undefined
    ? { kind: "retry", reason: summary }
    : { kind: "retry", reason: summary, retryAfterMs };
}

/** A request that got no answer: TLS problems pause delivery, anything else is retried. */
export function classifyError(err: unknown): Classification {
  const codes = errorCodes(err);
  const message = messageOf(err);
  const label = codes[0] ? `${codes[0]}: ${message}` : message;
  if (codes.some((c) => TLS_ERROR_CODES.has(c)) || /certificate|TLS|SSL/i.test(message)) {
    const hint = codes.some((c) => TRUST_ERROR_CODES.has(c))
      ? " (the CRM's certificate is not signed by a CA this host trusts: if the CRM uses its own CA, set [crm] ca_file to that CA's PEM file)"
      : "";
    return { kind: "endpoint", reason: `TLS: ${truncate(label)}${hint}` };
  }
  return { kind: "retry", reason: truncate(label) };
}

/** Retry-After as seconds or an HTTP date, capped at MAX_RETRY_AFTER_MS. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  let ms: number;
  if (/^\s*\d+\s*$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/** Any thrown value as text; String() itself throws for an object without a prototype. */
function messageOf(err: unknown): string {
  if (err instanceof Error && typeof err.message === "string") return err.message;
  try {
    return String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function truncate(s: string): string {
  const oneLine = s.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_REASON_CHARS ? `${oneLine.slice(0, MAX_REASON_CHARS)}…` : oneLine;
}
