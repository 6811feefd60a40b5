import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_STATUS_MAP } from "../../daemon/config/config-schema.js";
import { mapCrmStatus, type OrderStatusInfo } from "../../daemon/writeback/map-status.js";

const statuses = new Map<string, OrderStatusInfo>(
  ["N", "AP", "DE", "F", "RD"].map((id) => [id, { id, notify: true }]),
);

test("a CRM name maps through the shop's default mapping", () => {
  assert.deepEqual(mapCrmStatus("in_transit", DEFAULT_STATUS_MAP, statuses), {
    ok: true,
    statusId: "DE",
    via: "name",
  });
});

test("a configured name wins over the default and may name any order status", () => {
  const map = { ...DEFAULT_STATUS_MAP, in_transit: "RD", delivering: "DE" };
  assert.deepEqual(mapCrmStatus("in_transit", map, statuses), { ok: true, statusId: "RD", via: "name" });
  assert.deepEqual(mapCrmStatus("delivering", map, statuses), { ok: true, statusId: "DE", via: "name" });
});

test("a raw Bitrix code is accepted only when it is an order status", () => {
  assert.deepEqual(mapCrmStatus("AP", DEFAULT_STATUS_MAP, statuses), {
    ok: true,
    statusId: "AP",
    via: "code",
  });
  const dn = mapCrmStatus("DN", DEFAULT_STATUS_MAP, statuses);
  assert.equal(dn.ok, false, "DN is a shipment status here, not an order status");
});

test("unknown names, unknown codes and prototype keys are refused, never a fallback", () => {
  for (const name of ["cancelled", "XX", "n", "constructor", "__proto__", "toString"]) {
    const m = mapCrmStatus(name, DEFAULT_STATUS_MAP, statuses);
    assert.equal(m.ok, false, name);
    if (!m.ok) assert.match(m.reason, /neither a status name/);
  }
});

test("a name mapped to a code Bitrix does not have as an order status is refused with both named", () => {
  const m = mapCrmStatus("waiting_processing", DEFAULT_STATUS_MAP, statuses);
  assert.deepEqual(m, {
    ok: false,
    reason:
      "\"waiting_processing\" maps to DN ([writeback.status_map]), but b_sale_status has no order status (TYPE='O') DN",
  });
});
