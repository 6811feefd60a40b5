import type { Config } from "../../config/config-schema.js";
import type { CrmPoster } from "../../delivery/delivery-service.js";
import { crmRejectsWrongToken, probeCrm } from "../probe-crm.js";
import { type CheckResult, fail, ok, skip, warn } from "./check-result.js";

/**
 * The CRM answers over verified TLS, accepts our token, and refuses a
 * made-up one (so the URL really is the CRM's order webhook). Uses the same
 * harmless ping as delivery's pause probe (probe-crm.ts).
 */
export async function checkCrm(config: Config, client: CrmPoster): Promise<CheckResult[]> {
  const url = config.crm.url;
  const ping = await probeCrm(client, config.crm);
  const c = ping.classification;
  const reason = "reason" in c ? c.reason : c.kind;
  if (ping.httpStatus === null) {
    const tls = c.kind === "endpoint";
    return [
      fail(
        "crm reachable",
        `no answer from ${url}: ${reason}`,
        tls
          ? "the CRM's certificate is not trusted: set [crm] ca_file to the CA that signs it, or fix the certificate"
          : "check [crm] url, DNS and the firewall from this host (curl -v the URL)",
      ),
      skip("crm token", "CRM unreachable"),
    ];
  }
  if (ping.httpStatus === 401 || ping.httpStatus === 403) {
    return [
      ok("crm reachable", `${url} answers (HTTP ${ping.httpStatus})`),
      fail(
        "crm token",
        `the CRM rejects the token (HTTP ${ping.httpStatus}): ${reason}`,
        "set [crm] token (or CVETY_SIDECAR_CRM_TOKEN in the service's secrets.env) to the CRM's webhook token; delivery stays paused until it is right",
      ),
    ];
  }
  if (c.kind === "endpoint" || c.kind === "rejected") {
    return [
      fail(
        "crm reachable",
        `${url} answered ${reason}`,
        "[crm] url must be the CRM's order webhook, e.g. https://crm.example.kz/webhooks/bitrix/order",
      ),
      skip("crm token", "the URL is not the CRM's webhook"),
    ];
  }
  if (c.kind !== "delivered") {
    return [
      warn(
        "crm reachable",
        `${url} answered ${reason}`,
        "the CRM is failing; deliveries wait and retry, check the CRM",
      ),
      skip("crm token", "unknown while the CRM fails"),
    ];
  }
  const reached = ok("crm reachable", `${url} answers (HTTP ${ping.httpStatus})`);
  const wrong = await crmRejectsWrongToken(client, config.crm);
  if (!wrong.ok) {
    return [
      reached,
      warn(
        "crm token",
        `accepted, but so is a made-up token (HTTP ${wrong.httpStatus ?? "no answer"})`,
        "the URL does not check tokens: is [crm] url the CRM's order webhook?",
      ),
    ];
  }
  return [reached, ok("crm token", `accepted (a made-up one gets HTTP ${wrong.httpStatus})`)];
}
