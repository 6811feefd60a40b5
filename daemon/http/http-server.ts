import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HttpHandlers {
  /** Liveness: the process runs its loops. JSON body. */
  health: () => Record<string, unknown>;
  /** Readiness: MySQL reachable and delivery not paused. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  /** Refreshes scrape-time gauges before /metrics is rendered. */
  beforeMetrics?: () => void;
  /** POST /wake: the CLI changed the outbox (retry, resync); deliver now instead of on the next tick. */
  wake?: () => void;
  registry: Registry;
}

export interface RunningHttpServer {
  server: Server;
  address: string;
  close(): Promise<void>;
}

/** Parses `host:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`invalid listen address ${listen}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * /healthz, /readyz, /metrics and POST /wake on a loopback address by default (DESIGN [http] listen).
 * /wake only cuts a wait short, it changes nothing, so it needs no credential.
 */
export async function startHttpServer(listen: string, h: HttpHandlers): Promise<RunningHttpServer> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    handle(req, res, h).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err instanceof Error ? err.message : err));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    address: `${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, h: HttpHandlers): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/wake" && h.wake) {
    if (req.method !== "POST") res.writeHead(405, { allow: "POST" }).end();
    else {
      h.wake();
      res.writeHead(204).end();
    }
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (path === "/healthz") {
    json(res, 200, { status: "ok", ...h.health() });
  } else if (path === "/readyz") {
    const r = await h.ready();
    json(res, r.ready ? 200 : 503, { ready: r.ready, ...r.checks });
  } else if (path === "/metrics") {
    h.beforeMetrics?.();
    const body = await h.registry.metrics();
    res.writeHead(200, { "content-type": h.registry.contentType }).end(body);
  } else {
    json(res, 404, { error: "not found", paths: ["/healthz", "/readyz", "/metrics"] });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
}
