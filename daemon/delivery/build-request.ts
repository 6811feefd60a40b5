import type { CrmEvent } from "../outbox/outbox-store.js";
import { signWebhook } from "./sign-webhook.js";

export interface CrmIdentity {
  token: string;
  webhook_source: string;
  signing_secrets: readonly string[];
}

export interface DeliveryRequest {
  body: string;
  headers: Record<string, string>;
}

export const USER_AGENT = "cvety-sidecar/0.1";

/**
 * The envelope the live CRM accepts (CONTRACT.md §1): `{event, token, data}`.
 * The CRM reads the token only from the body; it is also sent as
 * `Authorization: Bearer` and `X-Webhook-Token` for older endpoints.
 * `webhook_source` must start with `production_real`, or the CRM mirrors the
 * order back into Bitrix (its loop guard).
 */
export function buildDeliveryRequest(opts: {
  event: CrmEvent | "sidecar.ping";
  /** JSON of `data` as stored in the outbox. */
  payload: string;
  idempotencyKey: string;
  crm: CrmIdentity;
  nowMs: number;
}): DeliveryRequest {
  const timestampS = Math.floor(opts.nowMs / 1000);
  const body = `{"event":${JSON.stringify(opts.event)},"token":${JSON.stringify(opts.crm.token)},"data":${withWebhookFields(opts.payload, timestampS, opts.crm.webhook_source)}}`;
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      authorization: `Bearer ${opts.crm.token}`,
      "x-webhook-token": opts.crm.token,
      "idempotency-key": opts.idempotencyKey,
      ...signWebhook(opts.crm.signing_secrets, opts.idempotencyKey, timestampS, body),
    },
  };
}

/**
 * Appends webhook_timestamp and webhook_source to the stored `data` JSON
 * without parsing it (it is our own JSON.stringify of an object, so it ends
 * with "}"); the hot path of a backfill sends thousands of these per second.
 */
function withWebhookFields(payload: string, timestampS: number, source: string): string {
  const body = payload.trimEnd();
  if (!body.startsWith("{") || !body.endsWith("}")) throw new Error("outbox payload is not a JSON object");
  const inner = body.slice(1, -1).trim();
  const extra = `"webhook_timestamp":${timestampS},"webhook_source":${JSON.stringify(source)}`;
  return `{${inner}${inner ? "," : ""}${extra}}`;
}
