/**
 * What the live CRM answers to one webhook request (CONTRACT.md §1), as a pure
 * function so the fake server stays thin: POST only; JSON envelope
 * `{event, token, data}`; the token is read from the BODY only (401 `Invalid
 * token` otherwise); unparsable input is a 500 `{"detail":...}` like any exception
 * in the FastAPI handler; `order.create` answers `create_order` with the CRM's own
 * uuid, or `update_existing` when that Bitrix order is already known; the update
 * family answers `order_updated`; other events `unknown_event`. A transformer
 * failure is HTTP 200 with `{"status":"error"}`: not a success.
 */

export const CREATE_EVENT = "order.create";
/** The CRM treats all of these the same way (update by bitrix_order_id). */
export const UPDATE_EVENTS: ReadonlySet<string> = new Set([
  "order.update",
  "order.status_change",
  "order.status.change",
]);

export interface CrmAnswerInput {
  method: string;
  path: string;
  expectedPath: string;
  rawBody: string;
  token: string;
  /** Answer like a CRM whose transformer fails (after the token check, as the live one does). */
  transformerFails: boolean;
  /** The CRM's uuid for a Bitrix order it already has, if any. */
  knownCrmId: (bitrixOrderId: string) => string | undefined;
  newCrmId: () => string;
}

export interface AcceptedOrderEvent {
  orderId: string;
  event: string;
  data: Record<string, unknown>;
  crmId: string;
}

export interface CrmAnswer {
  status: number;
  body: string;
  /** Set only when the CRM stored an order event. */
  accepted?: AcceptedOrderEvent;
  parsed?: unknown;
}

function json(status: number, value: unknown): CrmAnswer {
  return { status, body: JSON.stringify(value) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function decideCrmAnswer(input: CrmAnswerInput): CrmAnswer {
  if (input.path !== input.expectedPath) return json(404, { detail: "Not Found" });
  if (input.method !== "POST") return json(405, { detail: "Method Not Allowed" });

  let envelope: unknown;
  try {
    envelope = JSON.parse(input.rawBody);
  } catch (err) {
    return json(500, { detail: `Error processing webhook: ${(err as Error).message}` });
  }
  const answer = decideForEnvelope(envelope, input);
  answer.parsed = envelope;
  return answer;
}

function decideForEnvelope(envelope: unknown, input: CrmAnswerInput): CrmAnswer {
  if (!isRecord(envelope)) return json(500, { detail: "Error processing webhook: body is not an object" });
  if (envelope.token !== input.token) return json(401, { detail: "Invalid token" });
  if (input.transformerFails) {
    return json(200, { status: "error", message: "Order data transformation failed" });
  }

  const event = envelope.event;
  const isCreate = event === CREATE_EVENT;
  const isUpdate = typeof event === "string" && UPDATE_EVENTS.has(event);
  if (!isCreate && !isUpdate) return json(200, { status: "success", action: "unknown_event", event });

  const data = envelope.data;
  if (!isRecord(data) || data.ID === undefined || data.ID === null) {
    return json(500, { detail: "Error processing webhook: data.ID is missing" });
  }
  const orderId = String(data.ID);
  const known = input.knownCrmId(orderId);
  const crmId = known ?? input.newCrmId();
  const accepted: AcceptedOrderEvent = { orderId, event: event as string, data, crmId };
  if (isCreate) {
    const action = known === undefined ? "create_order" : "update_existing";
    return { ...json(200, { status: "success", action, order_id: crmId }), accepted };
  }
  return { ...json(200, { status: "success", action: "order_updated", order_id: orderId }), accepted };
}
