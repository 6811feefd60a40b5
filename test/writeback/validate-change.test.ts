import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseCrmTimestamp,
  shiftCrmTimestamp,
  toBitrixWallClock,
} from "../../daemon/writeback/crm-timestamp.js";
import { validateFeedChange, validateSupabaseRow } from "../../daemon/writeback/validate-change.js";

const good = { id: "chg-1", order_id: 122401, status: "in_transit", changed_at: "2025-08-26T10:12:41.5Z" };

test("a well-formed feed change becomes a status change keyed by its id", () => {
  const v = validateFeedChange(good);
  assert.ok(v.ok);
  assert.equal(v.change.changeKey, "chg-1");
  assert.equal(v.change.orderId, 122401);
  assert.equal(v.change.crmStatus, "in_transit");
  assert.equal(validateFeedChange({ ...good, id: 77 }).ok, true, "a numeric change id is fine");
});

test("malformed and hostile rows are rejections with a reason, never exceptions", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, status: "N'; DROP TABLE b_sale_order; --" }, /status: has characters no status name has/],
    [{ ...good, status: "x".repeat(1024 * 1024) }, /status: Too big/],
    [{ ...good, order_id: -5 }, /order_id: Too small/],
    [{ ...good, order_id: 0 }, /order_id/],
    [{ ...good, order_id: 2 ** 31 }, /order_id: Too big/],
    [{ ...good, order_id: "122401" }, /order_id: Invalid input: expected number/],
    [{ ...good, order_id: 1.5 }, /order_id: Invalid input: expected int/],
    [{ id: "chg-2", status: "new", changed_at: good.changed_at }, /order_id: Invalid input/],
    [{ ...good, status: 7 }, /status: Invalid input: expected string/],
    [{ ...good, status: "" }, /status/],
    [{ ...good, status: " new" }, /status: has characters/],
    [{ ...good, changed_at: "yesterday" }, /changed_at: expected an ISO 8601 time/],
    [{ ...good, changed_at: "2025-02-30T10:00:00Z" }, /changed_at/],
    [{ ...good, changed_at: "1970-01-01T00:00:00Z" }, /changed_at/],
    [{ ...good, id: "x".repeat(1000) }, /id/],
    [null, /row: Invalid input: expected object/],
    [[good], /row: Invalid input: expected object, received array/],
    ["in_transit", /row: Invalid input/],
  ];
  for (const [raw, reason] of cases) {
    const v = validateFeedChange(raw);
    assert.equal(v.ok, false, JSON.stringify(raw)?.slice(0, 80));
    if (!v.ok) {
      assert.match(v.reason, reason);
      assert.ok(v.reason.length < 300, "the reason never quotes a huge value");
      assert.ok(v.changeKey.length <= 200);
    }
  }
});

test("a rejected row keeps its id as key, or a content hash that is the same on every re-read", () => {
  const bad = { ...good, order_id: -1 };
  const v = validateFeedChange(bad);
  assert.ok(!v.ok && v.changeKey === "chg-1");
  const noId = { order_id: "x", status: 1 };
  const a = validateFeedChange(noId);
  const b = validateFeedChange(JSON.parse(JSON.stringify(noId)));
  assert.ok(!a.ok && !b.ok && a.changeKey === b.changeKey && a.changeKey.startsWith("sha256:"));
});

test("a Supabase row is keyed by its id and updated_at; a negative order id is rejected but named", () => {
  const row = {
    id: "6f1c",
    bitrix_order_id: 5,
    status: "DE",
    updated_at: "2025-08-26T10:12:41.123456+00:00",
  };
  const v = validateSupabaseRow(row);
  assert.ok(v.ok && v.change.changeKey === "6f1c@2025-08-26T10:12:41.123456+00:00");
  const neg = validateSupabaseRow({ ...row, bitrix_order_id: -5 });
  assert.ok(!neg.ok && /bitrix_order_id/.test(neg.reason));
});

test("CRM times keep microseconds, read a missing offset as UTC, and convert to Bitrix's wall clock", () => {
  const t = parseCrmTimestamp("2025-08-26T10:12:41.123456+00:00")!;
  assert.equal(t.epochUs, 1756203161123456n);
  assert.equal(parseCrmTimestamp("2025-08-26T10:12:41.123456")!.epochUs, t.epochUs);
  assert.equal(parseCrmTimestamp("2025-08-26T15:12:41.123456+05:00")!.epochUs, t.epochUs);
  // Tokyo is UTC+9 all year; the fraction is cut, not rounded.
  assert.equal(
    toBitrixWallClock(parseCrmTimestamp("2025-08-26T10:12:41.999Z")!, "Asia/Tokyo"),
    "2025-08-26 19:12:41",
  );
  assert.equal(shiftCrmTimestamp(t, -10), "2025-08-26T10:12:31.123456+00:00");
  assert.equal(shiftCrmTimestamp(parseCrmTimestamp("2025-08-26T10:12:41")!, 5), "2025-08-26T10:12:46.000000");
});
