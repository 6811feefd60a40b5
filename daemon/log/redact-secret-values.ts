/**
 * Removes known secret values from text that came from outside, before it is
 * logged or stored: a CRM or feed that echoes the request back (FastAPI's 422
 * answers quote the offending input, the token included) must not put the
 * token into the log, the outbox's last_response or an error message.
 * Field-name redaction in the logger cannot catch these: they are free text.
 */

export const REDACTED_VALUE = "[redacted]";

/** Shorter values are too likely to occur by chance to be worth replacing. */
const MIN_SECRET_CHARS = 4;

export function redactSecretValues(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_CHARS) continue;
    forms.add(secret);
    // As it appears inside a JSON string, and percent-encoded in a URL or form body.
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join(REDACTED_VALUE);
  }
  return out;
}
