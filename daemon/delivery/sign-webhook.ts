import { createHmac } from "node:crypto";

/**
 * Standard Webhooks signature (standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` keyed with the base64 part of `whsec_<base64>`,
 * sent as `v1,<base64>`; several secrets (rotation) give several signatures
 * separated by spaces, any of which a receiver may verify.
 */
export function signWebhook(
  secrets: readonly string[],
  msgId: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) return {};
  const signed = `${msgId}.${timestampS}.${body}`;
  const signatures = secrets.map((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    return `v1,${createHmac("sha256", key).update(signed).digest("base64")}`;
  });
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": signatures.join(" "),
  };
}
