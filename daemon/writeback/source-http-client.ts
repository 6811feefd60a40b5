import { Pool } from "undici";
import { describeError, SidecarError } from "../errors.js";
import { caWithExtra } from "../http/extra-ca.js";
import { redactSecretValues } from "../log/redact-secret-values.js";

/**
 * GETs JSON from the CRM's change source over HTTPS (undici keep-alive pool
 * to one origin). TLS is always verified; `[writeback] ca_file` adds a CA.
 * Every failure is a WritebackSourceError with a stable code; the token is
 * never part of a message.
 */

export class WritebackSourceError extends SidecarError {
  readonly httpStatus: number | undefined;
  constructor(code: string, message: string, opts: { httpStatus?: number; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.name = "WritebackSourceError";
    this.httpStatus = opts.httpStatus;
  }
}

export interface SourceHttpOptions {
  url: string;
  caFile?: string | undefined;
  connectTimeoutMs: number;
  /** For the answer's headers, and again for its body. */
  requestTimeoutMs: number;
}

/** A page is at most batch_size rows; an answer bigger than this is not a page. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** How much of an error answer goes into the message. */
const ERROR_EXCERPT_CHARS = 300;

export class SourceHttpClient {
  private readonly pool: Pool;
  readonly origin: string;

  constructor(opts: SourceHttpOptions) {
    this.origin = new URL(opts.url).origin;
    const ca = caWithExtra(opts.caFile, "writeback.ca_file");
    this.pool = new Pool(this.origin, {
      connections: 2,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs, rejectUnauthorized: true, ...(ca ? { ca } : {}) },
    });
  }

  /** GET path?query, 2xx JSON answer parsed; anything else is a WritebackSourceError. */
  async getJson(pathAndQuery: string, headers: Record<string, string>): Promise<unknown> {
    const where = `${this.origin}${pathAndQuery.split("?")[0]}`;
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({
        method: "GET",
        path: pathAndQuery,
        headers: { accept: "application/json", ...headers },
      });
      status = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new WritebackSourceError(
            "E_WRITEBACK_SOURCE_FORMAT",
            `${where} answered more than ${MAX_ANSWER_BYTES} bytes; lower [writeback] batch_size`,
          );
        }
        chunks.push(chunk as Buffer);
      }
      text = Buffer.concat(chunks).toString("utf8");
    } catch (err) {
      if (err instanceof WritebackSourceError) throw err;
      throw new WritebackSourceError("E_WRITEBACK_SOURCE_UNREACHABLE", `${where}: ${describeError(err)}`, {
        cause: err,
      });
    }
    // A source that echoes the request must not put the token into an error message (and the log).
    const excerpt = () =>
      redactSecretValues(text.slice(0, ERROR_EXCERPT_CHARS * 4), credentialValues(headers)).slice(
        0,
        ERROR_EXCERPT_CHARS,
      );
    if (status === 401 || status === 403) {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_AUTH",
        `${where} refused the credentials (HTTP ${status}): check [writeback] token / CVETY_SIDECAR_WRITEBACK_TOKEN`,
        { httpStatus: status },
      );
    }
    if (status < 200 || status > 299) {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_HTTP",
        `${where} answered HTTP ${status}: ${excerpt()}`,
        { httpStatus: status },
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_FORMAT",
        `${where} answered HTTP ${status} with something that is not JSON: ${excerpt()}`,
        { httpStatus: status },
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}

/** The credentials among request headers (apikey, Authorization with and without its scheme). */
function credentialValues(headers: Record<string, string>): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!/^(authorization|apikey|x-api-key)$/i.test(name)) continue;
    values.push(value, value.replace(/^\S+\s+/, ""));
  }
  return values;
}

/** "an array", "null", "a JSON string"...: for messages about an answer of the wrong shape. */
export function describeJsonType(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : `a JSON ${typeof v}`;
}
