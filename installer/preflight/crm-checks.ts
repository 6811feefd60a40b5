import { configSchema } from "../../daemon/config/config-schema.js";
import { CrmClient } from "../../daemon/delivery/crm-client.js";
import { describeError } from "../../daemon/errors.js";
import { crmRejectsWrongToken, probeCrm } from "../../daemon/ops/probe-crm.js";
import { PreflightError } from "../install-errors.js";

export interface CrmCheckInput {
  url: string;
  token: string;
  /** A readable path of the CA file (the input file, or the staged copy). */
  caFile?: string;
  webhookSource?: string;
  signingSecrets: string[];
}

/**
 * A harmless ping (an event the CRM does not know: it answers 200
 * "unknown_event" after checking the token), then the same with a made-up
 * token, which a real CRM refuses with 401. Both must hold: the first proves
 * URL, TLS and token; the second that the URL is the CRM and not something
 * that says yes to anything.
 */
export async function checkCrm(input: CrmCheckInput): Promise<string[]> {
  const crm = configSchema.shape.crm.parse({
    url: input.url,
    token: input.token,
    signing_secrets: input.signingSecrets,
    ...(input.webhookSource === undefined ? {} : { webhook_source: input.webhookSource }),
  });
  let client: CrmClient;
  try {
    client = new CrmClient({
      url: crm.url,
      caFile: input.caFile,
      connectTimeoutMs: crm.connect_timeout_ms,
      headersTimeoutMs: crm.headers_timeout_ms,
      bodyTimeoutMs: crm.body_timeout_ms,
      connections: 1,
    });
  } catch (err) {
    throw new PreflightError("crm", `cannot use the CRM's CA file: ${describeError(err)}`, { cause: err });
  }
  try {
    const ping = await probeCrm(client, crm);
    if (!ping.ok) {
      const reason = "reason" in ping.classification ? ping.classification.reason : ping.classification.kind;
      const why =
        ping.httpStatus === 401 || ping.httpStatus === 403
          ? `the CRM rejects the token (HTTP ${ping.httpStatus}): check --crm-token`
          : ping.httpStatus === null
            ? `cannot reach the CRM at ${crm.url}: ${reason}`
            : `the CRM at ${crm.url} answered ${reason}`;
      throw new PreflightError("crm", why);
    }
    const wrong = await crmRejectsWrongToken(client, crm);
    if (!wrong.ok) {
      throw new PreflightError(
        "crm",
        `${crm.url} accepted a made-up token (HTTP ${wrong.httpStatus ?? "none"}): it does not check tokens, or it is not the CRM's order webhook`,
      );
    }
    return [
      `CRM answers at ${crm.url} (HTTP ${ping.httpStatus})`,
      `CRM rejects a wrong token (HTTP ${wrong.httpStatus})`,
    ];
  } finally {
    await client.close();
  }
}
