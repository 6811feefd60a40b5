import assert from "node:assert/strict";
import { test } from "node:test";
import { REDACTED_VALUE, redactSecretValues } from "../../daemon/log/redact-secret-values.js";

test("secret values are replaced as is, JSON-escaped and percent-encoded; short or absent ones are ignored", () => {
  const token = 'to"k/en@1';
  const text = `a ${token} b ${JSON.stringify(token)} c ${encodeURIComponent(token)} d`;
  const out = redactSecretValues(text, [token, undefined, "abc"]);
  assert.ok(!out.includes("k/en@1") && !out.includes("k\\/en") && !out.includes("k%2Fen"), out);
  assert.equal(out.split(REDACTED_VALUE).length - 1, 3);
  assert.equal(redactSecretValues("abc abc", ["abc"]), "abc abc", "3 characters are too short to redact");
});

test("a secret that contains another is replaced whole", () => {
  assert.equal(redactSecretValues("x secret-long y", ["secret", "secret-long"]), `x ${REDACTED_VALUE} y`);
});
