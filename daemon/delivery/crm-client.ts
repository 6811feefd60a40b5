import { Pool } from "undici";
import { caWithExtra } from "../http/extra-ca.js";

export interface CrmClientOptions {
  url: string;
  /** Extra CA (PEM file) trusted besides the system roots. */
  caFile?: string | undefined;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connections: number;
}

export interface CrmAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first MAX_ANSWER_BYTES of the answer, decoded as UTF-8 (invalid bytes become U+FFFD). */
  body: string;
  /** True when the answer was longer than MAX_ANSWER_BYTES and the rest was not read. */
  truncated?: boolean;
}

/**
 * Answers longer than this are cut off: the CRM's real answers are a few
 * hundred bytes, we keep them for ops, not to process. The rest is never read:
 * the connection is closed instead, so a hostile or broken endpoint streaming
 * gigabytes costs neither memory nor a delivery slot.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A keep-alive connection pool to the CRM's origin (undici). TLS is always
 * verified; `caFile` adds a CA to the system's roots instead of replacing them.
 */
export class CrmClient {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(readonly opts: CrmClientOptions) {
    const url = new URL(opts.url);
    this.path = `${url.pathname}${url.search}`;
    const ca = caWithExtra(opts.caFile, "crm.ca_file");
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs, rejectUnauthorized: true, ...(ca ? { ca } : {}) },
    });
  }

  /** POSTs the body; resolves with any HTTP answer, rejects only when there is none. */
  async post(headers: Record<string, string>, body: string): Promise<CrmAnswer> {
    const res = await this.pool.request({ method: "POST", path: this.path, headers, body });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    // Leaving the loop early destroys the body stream, and undici closes that connection.
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (size + buf.length > MAX_ANSWER_BYTES) {
        chunks.push(Buffer.from(buf.subarray(0, MAX_ANSWER_BYTES - size)));
        truncated = true;
        break;
      }
      chunks.push(buf);
      size += buf.length;
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.concat(chunks).toString("utf8"),
      truncated,
    };
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
