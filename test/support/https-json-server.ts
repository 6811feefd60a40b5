/**
 * A small real HTTPS server answering JSON, the base of the CRM-side change
 * sources used by tests, the benchmark and the demo (PostgREST stand-in,
 * status feed). TLS uses the test CA, so clients verify certificates for real.
 */
import type { IncomingMessage } from "node:http";
import { createServer } from "node:https";
import { closeServer, listenOnLoopback } from "./listen-on-loopback.js";

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export interface HttpsJsonServer {
  /** https://127.0.0.1:<port> */
  readonly origin: string;
  readonly port: number;
  /** Requests answered so far. */
  readonly requestCount: number;
  stop(): Promise<void>;
}

export async function startHttpsJsonServer(opts: {
  pki: { certPem: string; keyPem: string };
  port?: number;
  handle: (request: IncomingMessage, url: URL) => JsonAnswer;
}): Promise<HttpsJsonServer> {
  let requestCount = 0;
  const https = createServer({ cert: opts.pki.certPem, key: opts.pki.keyPem }, (request, res) => {
    request.resume();
    request.on("end", () => {
      requestCount++;
      let answer: JsonAnswer;
      try {
        answer = opts.handle(request, new URL(request.url ?? "/", "https://127.0.0.1"));
      } catch (err) {
        answer = { status: 500, body: { message: (err as Error).message } };
      }
      const body = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  const { port, sockets } = await listenOnLoopback(https, opts.port);
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    get requestCount() {
      return requestCount;
    },
    stop: () => closeServer(https, sockets),
  };
}
