/**
 * Property tests (fast-check): any value a write-back source hands over (any
 * JSON, a good row with one field replaced by anything, even values JSON cannot
 * carry) is validated without throwing, and only well-formed rows are accepted:
 * an order id in b_sale_order.ID's range, a status made of letters, digits and
 * `_.-` (no quote, backslash, semicolon or NUL ever reaches a lookup), a real
 * time, and a change key of bounded size.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type ValidatedRow,
  validateFeedChange,
  validateSupabaseRow,
} from "../../daemon/writeback/validate-change.js";

export const VALIDATE_RUNS = 2_000;

const goodFeed = {
  id: "chg-1",
  order_id: 122401,
  status: "in_transit",
  changed_at: "2025-08-26T10:12:41.5Z",
};
const goodSupabase = {
  id: "6f1c",
  bitrix_order_id: 5,
  status: "DE",
  updated_at: "2025-08-26T10:12:41.123456+00:00",
};

/** Checks written independently of the implementation: what "well-formed" means for the writer. */
function assertAcceptedIsWellFormed(v: ValidatedRow): void {
  assert.equal(typeof v.ok, "boolean");
  if (!v.ok) {
    assert.equal(typeof v.reason, "string");
    assert.ok(v.reason.length > 0);
    assert.ok(v.changeKey.length > 0 && v.changeKey.length <= 200, `change key of ${v.changeKey.length}`);
    if (v.orderId !== undefined) assert.ok(Number.isInteger(v.orderId) && v.orderId >= 1);
    return;
  }
  const c = v.change;
  assert.ok(
    Number.isInteger(c.orderId) && c.orderId >= 1 && c.orderId <= 2_147_483_647,
    `order ${c.orderId}`,
  );
  assert.equal(typeof c.crmStatus, "string");
  assert.ok(c.crmStatus.length >= 1 && c.crmStatus.length <= 64);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL is exactly what must never get through
  assert.doesNotMatch(c.crmStatus, /['"`\\;\u0000\n\r\t]|\/\*/, `status ${JSON.stringify(c.crmStatus)}`);
  assert.equal(c.crmStatus, c.crmStatus.trim());
  assert.equal(typeof c.changedAt.epochUs, "bigint");
  const ms = Number(c.changedAt.epochUs / 1000n);
  assert.ok(ms >= Date.UTC(1999, 11, 31) && ms <= Date.UTC(2101, 0, 2), `time ${c.changedAtText}`);
  assert.ok(c.changeKey.length > 0 && c.changeKey.length <= 300);
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom(
    "N'; DROP TABLE b_sale_order; --",
    "new\u0000",
    "new\\",
    "DE' OR '1'='1",
    "in_transit; UPDATE b_sale_order SET STATUS_ID='F'",
    "/*x*/new",
    "new -- x",
    "🌸",
    "x".repeat(100_000),
  ),
);

const anyField = fc.oneof(
  fc.jsonValue(),
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER, 1e308, -0, 1.5),
);

/** A good row with one field replaced, removed, or an extra field added. */
function mutated(good: Record<string, unknown>) {
  const keys = Object.keys(good);
  return fc
    .tuple(fc.constantFrom(...keys, "__proto__", "constructor", "extra"), anyField, fc.boolean())
    .map(([key, value, remove]) => {
      const row: Record<string, unknown> = { ...good };
      if (remove) delete row[key];
      else Object.defineProperty(row, key, { value, enumerable: true, configurable: true, writable: true });
      return row;
    });
}

const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
);

for (const [name, validate, good] of [
  ["feed", validateFeedChange, goodFeed],
  ["supabase", validateSupabaseRow, goodSupabase],
] as const) {
  test(`${name}: any value never throws, only well-formed rows are accepted (${VALIDATE_RUNS} runs)`, () => {
    fc.assert(
      fc.property(anyValue, (raw) => assertAcceptedIsWellFormed(validate(raw))),
      { numRuns: VALIDATE_RUNS },
    );
  });

  test(`${name}: a good row with one field hostile is accepted only if still well-formed (${VALIDATE_RUNS} runs)`, () => {
    fc.assert(
      fc.property(mutated(good), (raw) => assertAcceptedIsWellFormed(validate(raw))),
      { numRuns: VALIDATE_RUNS },
    );
  });

  test(`${name}: the same row read twice gets the same change key (${VALIDATE_RUNS / 4} runs)`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated(good)), (raw) => {
        const copy = JSON.parse(JSON.stringify(raw) ?? "null");
        const again = JSON.stringify(raw) === undefined ? validate(null) : validate(copy);
        const first = JSON.stringify(raw) === undefined ? validate(null) : validate(raw);
        assert.equal(
          first.ok ? first.change.changeKey : first.changeKey,
          again.ok ? again.change.changeKey : again.changeKey,
        );
      }),
      { numRuns: VALIDATE_RUNS / 4 },
    );
  });
}
