import { randomBytes } from "node:crypto";
import type { CrmIdentity } from "../delivery/build-request.js";
import { buildDeliveryRequest } from "../delivery/build-request.js";
import { type Classification, classifyError, classifyResponse } from "../delivery/classify-response.js";
import type { CrmPoster } from "../delivery/delivery-service.js";
import { redactSecretValues } from "../log/redact-secret-values.js";

/**
 * A harmless request to the CRM: an event it does not know. The live CRM
 * checks the token first (401 when wrong), then answers unknown events with
 * 200 `{"status":"success","action":"unknown_event"}` and changes nothing.
 */
export interface CrmProbeResult {
  ok: boolean;
  httpStatus: number | null;
  classification: Classification;
}

export async function probeCrm(
  client: CrmPoster,
  crm: CrmIdentity,
  nowMs: number = Date.now(),
): Promise<CrmProbeResult> {
  const req = buildDeliveryRequest({
    event: "sidecar.ping",
    payload: "{}",
    idempotencyKey: `sidecar-ping-${nowMs}`,
    crm,
    nowMs,
  });
  try {
    const posted = await client.post(req.headers, req.body);
    const answer = { ...posted, body: redactSecretValues(posted.body, [crm.token, ...crm.signing_secrets]) };
    const c = classifyResponse(answer.status, answer.headers, answer.body, Date.now(), {
      truncated: answer.truncated === true,
    });
    return { ok: c.kind === "delivered", httpStatus: answer.status, classification: c };
  } catch (err) {
    return { ok: false, httpStatus: null, classification: classifyError(err) };
  }
}

/** True when the CRM refuses a random token (401/403): it really checks tokens, and ours is the one it accepts. */
export async function crmRejectsWrongToken(client: CrmPoster, crm: CrmIdentity): Promise<CrmProbeResult> {
  const wrong = { ...crm, token: `wrong-${randomBytes(8).toString("hex")}` };
  const r = await probeCrm(client, wrong);
  return { ...r, ok: r.httpStatus === 401 || r.httpStatus === 403 };
}
