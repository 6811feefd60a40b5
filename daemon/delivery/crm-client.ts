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
  body: string;
}

/** Answers longer than this are cut: we keep them for ops, not to process. */
const MAX_ANSWER_BYTES = 256 * 1024;

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
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (size < MAX_ANSWER_BYTES) chunks.push(buf.subarray(0, MAX_ANSWER_BYTES - size));
      size += buf.length;
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") };
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
