/**
 * What the fake CRM keeps about one request it received, built once per request
 * (one JSON.parse), and the one-line summary used in logs and waitFor() errors.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";

export interface ReceivedRequest {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, or undefined when it did not parse. */
  body: unknown;
  /** Date.now() when the whole body had arrived. */
  receivedAt: number;
  /** Mode used for this request (after queued one-shot modes). */
  mode: "ok" | "http" | "status-error" | "slow" | "outage";
  /** HTTP status answered; 0 while pending, and for an outage (socket destroyed). */
  status: number;
  answerBody: string;
  /** True when the CRM stored an order event from it (a success answer). */
  accepted: boolean;
  event: string | undefined;
  /** `data.ID` as a string, when the body has one. */
  orderId: string | undefined;
  idempotencyKey: string | undefined;
}

export function receiveRequest(incoming: IncomingMessage, rawBody: string, seq: number): ReceivedRequest {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    body = undefined;
  }
  const envelope = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const data = envelope.data as Record<string, unknown> | undefined;
  const orderId = data?.ID;
  const idempotencyKey = incoming.headers["idempotency-key"];
  return {
    seq,
    method: incoming.method ?? "",
    path: (incoming.url ?? "").split("?")[0] ?? "",
    headers: incoming.headers,
    rawBody,
    body,
    receivedAt: Date.now(),
    mode: "ok",
    status: 0,
    answerBody: "",
    accepted: false,
    event: typeof envelope.event === "string" ? envelope.event : undefined,
    orderId: orderId === undefined || orderId === null ? undefined : String(orderId),
    idempotencyKey: typeof idempotencyKey === "string" ? idempotencyKey : undefined,
  };
}

export function describeRequest(request: ReceivedRequest): string {
  const order = request.orderId === undefined ? "" : ` order ${request.orderId}`;
  const version = (request.body as { data?: { VERSION?: unknown } } | undefined)?.data?.VERSION;
  const versionText = version === undefined ? "" : ` v${String(version)}`;
  const status = request.status === 0 ? "no answer" : String(request.status);
  return `#${request.seq} ${request.method} ${request.path} ${request.event ?? "-"}${order}${versionText} -> ${status} (${request.mode})`;
}
