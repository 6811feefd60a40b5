/**
 * A real local HTTPS server that speaks the CRM's webhook contract (CONTRACT.md
 * §1), for tests, the benchmark and the demo. The answers come from
 * decideCrmAnswer(); this file adds TLS, recording and fault switches (HTTP
 * errors, slow answers, dropped connections, a rotated token).
 *
 * Built for >2,000 requests/s over keep-alive on loopback: per request it only
 * collects the body, runs JSON.parse once and appends to in-memory lists.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { decideCrmAnswer } from "./crm-answer.js";
import { describeRequest, type ReceivedRequest, receiveRequest } from "./crm-received-request.js";
import { type CrmStats, createCrmStats, recordAnswerInStats } from "./crm-stats.js";
import { closeServer, listenOnLoopback } from "./listen-on-loopback.js";

export type { ReceivedRequest } from "./crm-received-request.js";

export type CrmMode =
  | { kind: "ok" }
  | { kind: "http"; status: number; body?: string; headers?: Record<string, string> }
  | { kind: "status-error" }
  | { kind: "slow"; delayMs: number }
  | { kind: "outage" };

export interface CrmOrder {
  /** The CRM's own uuid for this order (`order_id` of `create_order`). */
  crmId: string;
  /** Latest accepted `data`, and the event that carried it. */
  data: Record<string, unknown>;
  event: string;
  /** Every accepted `data` for this order, oldest first. */
  history: Array<Record<string, unknown>>;
}

export interface AcceptedDelivery {
  event: string;
  data: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

export interface CrmServerOptions {
  token: string;
  pki: { certPem: string; keyPem: string };
  /** 0 or absent: a free port. */
  port?: number;
  /** Default /webhooks/bitrix/order (the live path). */
  path?: string;
  log?: (line: string) => void;
  /** Called once a request has been answered (or its connection dropped), e.g. to print it (the demo). */
  onAnswer?: (request: ReceivedRequest) => void;
  /** Keep every request and order in memory (default true). Off for long benchmark runs: only `stats`. */
  record?: boolean;
  /** uvicorn's default idle keep-alive is 5 s; clients must cope with the server closing idle sockets. */
  keepAliveTimeoutMs?: number;
}

export interface CrmServer {
  readonly url: string;
  readonly port: number;
  readonly path: string;
  readonly token: string;
  readonly requests: ReceivedRequest[];
  readonly orders: Map<string, CrmOrder>;
  readonly stats: CrmStats;
  /** Called when a request has fully arrived, before it is answered: may call setMode()/queueResponses(). */
  onRequest?: (request: ReceivedRequest) => void;
  setMode(mode: CrmMode): void;
  setToken(token: string): void;
  /** One-shot modes used by the next requests, in order, before falling back to the current mode. */
  queueResponses(modes: CrmMode[]): void;
  waitFor(predicate: (server: CrmServer) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  acceptedFor(orderId: string | number): AcceptedDelivery[];
  /** Forgets requests, orders, stats and queued modes; mode back to ok, token back to the initial one. */
  reset(): void;
  stop(): Promise<void>;
}

export const DEFAULT_CRM_PATH = "/webhooks/bitrix/order";
const WAIT_POLL_MS = 20;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;

const DEFAULT_ERROR_DETAIL: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export async function startCrmServer(opts: CrmServerOptions): Promise<CrmServer> {
  const path = opts.path ?? DEFAULT_CRM_PATH;
  const record = opts.record ?? true;
  const initialToken = opts.token;
  let token = opts.token;
  let mode: CrmMode = { kind: "ok" };
  let queued: CrmMode[] = [];
  let seq = 0;
  const requests: ReceivedRequest[] = [];
  const orders = new Map<string, CrmOrder>();
  const crmIds = new Map<string, string>();
  let stats = createCrmStats();
  const slowTimers = new Set<NodeJS.Timeout>();

  function answer(
    request: ReceivedRequest,
    res: ServerResponse,
    incoming: IncomingMessage,
    transformerFails: boolean,
  ) {
    const decided = decideCrmAnswer({
      method: request.method,
      path: request.path,
      expectedPath: path,
      rawBody: request.rawBody,
      token,
      transformerFails,
      knownCrmId: (orderId) => crmIds.get(orderId),
      newCrmId: randomUUID,
    });
    const accepted = decided.accepted;
    if (accepted !== undefined) {
      crmIds.set(accepted.orderId, accepted.crmId);
      request.accepted = true;
      if (record) {
        const previous = orders.get(accepted.orderId);
        orders.set(accepted.orderId, {
          crmId: accepted.crmId,
          data: accepted.data,
          event: accepted.event,
          history: [...(previous?.history ?? []), accepted.data],
        });
      }
    }
    send(request, res, incoming, decided.status, decided.body, undefined);
  }

  function send(
    request: ReceivedRequest,
    res: ServerResponse,
    incoming: IncomingMessage,
    status: number,
    body: string,
    headers: Record<string, string> | undefined,
  ) {
    request.status = status;
    request.answerBody = body;
    recordAnswerInStats(stats, request);
    opts.log?.(`crm: ${describeRequest(request)}`);
    opts.onAnswer?.(request);
    if (res.destroyed || incoming.socket.destroyed) return;
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }

  function handle(incoming: IncomingMessage, res: ServerResponse, rawBody: string) {
    const request = receiveRequest(incoming, rawBody, ++seq);
    if (record) requests.push(request);
    server.onRequest?.(request);

    const current = queued.shift() ?? mode;
    request.mode = current.kind;
    switch (current.kind) {
      case "outage":
        recordAnswerInStats(stats, request);
        opts.log?.(`crm: ${describeRequest(request)}`);
        opts.onAnswer?.(request);
        incoming.socket.destroy();
        return;
      case "http":
        send(
          request,
          res,
          incoming,
          current.status,
          current.body ?? JSON.stringify({ detail: DEFAULT_ERROR_DETAIL[current.status] ?? "Error" }),
          current.headers,
        );
        return;
      case "slow": {
        const timer = setTimeout(() => {
          slowTimers.delete(timer);
          answer(request, res, incoming, false);
        }, current.delayMs);
        slowTimers.add(timer);
        return;
      }
      case "status-error":
        answer(request, res, incoming, true);
        return;
      case "ok":
        answer(request, res, incoming, false);
        return;
    }
  }

  const https = createServer({ cert: opts.pki.certPem, key: opts.pki.keyPem }, (incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => handle(incoming, res, Buffer.concat(chunks).toString("utf8")));
  });
  https.keepAliveTimeout = opts.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
  const { port, sockets } = await listenOnLoopback(https, opts.port);

  const server: CrmServer = {
    url: `https://127.0.0.1:${port}${path}`,
    port,
    path,
    get token() {
      return token;
    },
    requests,
    orders,
    get stats() {
      return stats;
    },
    setMode(next) {
      mode = next;
    },
    setToken(next) {
      token = next;
    },
    queueResponses(modes) {
      queued.push(...modes);
    },
    async waitFor(predicate, timeoutMs = 10_000, what = "a condition") {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (predicate(server)) return;
        if (Date.now() >= deadline) {
          const shown = requests.slice(-20).map(describeRequest);
          const omitted = requests.length - shown.length;
          throw new Error(
            `CRM server: timed out after ${timeoutMs} ms waiting for ${what}; it received ${requests.length} ` +
              `request(s)${omitted > 0 ? ` (last 20 shown)` : ""}:\n  ${shown.join("\n  ") || "(none)"}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
    },
    acceptedFor(orderId) {
      const id = String(orderId);
      return requests
        .filter((request) => request.accepted && request.orderId === id)
        .map((request) => ({
          event: request.event ?? "",
          data: (request.body as { data: Record<string, unknown> }).data,
          idempotencyKey: request.idempotencyKey,
        }));
    },
    reset() {
      requests.length = 0;
      orders.clear();
      crmIds.clear();
      queued = [];
      mode = { kind: "ok" };
      token = initialToken;
      stats = createCrmStats();
    },
    async stop() {
      for (const timer of slowTimers) clearTimeout(timer);
      slowTimers.clear();
      await closeServer(https, sockets);
    },
  };
  return server;
}
