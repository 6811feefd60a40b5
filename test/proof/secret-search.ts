/**
 * Searches everything a user or an attacker with read access could see (log
 * file, stdout, stderr, the state directory's files) for secret values, in
 * every form they could take in text: as is, percent-encoded (URLs), escaped
 * in JSON, and the base64 key of a `whsec_` secret.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  if (secret.startsWith("whsec_")) forms.add(secret.slice("whsec_".length));
  return [...forms];
}

/** Every file under `dir` (state dir: outbox.db, its WAL, the lock...), as bytes. */
export function filesUnder(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) Object.assign(out, filesUnder(path));
    else if (info.isFile()) out[path] = readFileSync(path);
  }
  return out;
}

export function fileText(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** Fails naming the place and the secret's label (never printing the whole text). */
export function assertNoSecrets(
  places: Record<string, string | Buffer>,
  secrets: Record<string, string>,
): void {
  for (const [where, content] of Object.entries(places)) {
    const text = Buffer.isBuffer(content) ? content.toString("latin1") : content;
    const utf8 = Buffer.isBuffer(content) ? content.toString("utf8") : content;
    for (const [label, secret] of Object.entries(secrets)) {
      for (const form of secretForms(secret)) {
        const at = Math.max(text.indexOf(form), utf8.indexOf(form));
        assert.equal(
          at,
          -1,
          `${label} (${form}) found in ${where}: …${utf8.slice(Math.max(0, utf8.indexOf(form) - 120), utf8.indexOf(form) + form.length + 40)}…`,
        );
      }
    }
  }
}
