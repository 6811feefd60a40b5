import assert from "node:assert/strict";
import { test } from "node:test";
import { nextCrmMove } from "../../daemon/demo/crm-manager-flow.js";
import { type DemoProof, demoVerdict } from "../../daemon/demo/demo-report.js";

test("the CRM manager walks the oldest order through the whole flow before starting the next", () => {
  const steps = new Map<number, number>();
  const moves: string[] = [];
  for (let i = 0; i < 6; i++) {
    const move = nextCrmMove([12, 10, 11], steps);
    assert.ok(move);
    steps.set(move.orderId, (steps.get(move.orderId) ?? 0) + 1);
    moves.push(`${move.orderId}:${move.status}`);
  }
  assert.deepEqual(moves, [
    "10:confirmed",
    "10:assembled",
    "10:in_transit",
    "10:completed",
    "11:confirmed",
    "11:assembled",
  ]);
  assert.equal(nextCrmMove([10], steps), undefined, "a completed order is not moved again");
});

const applied = {
  id: 1,
  orderId: 7,
  crmStatus: "confirmed",
  statusId: "AP",
  oldStatusId: "N",
  outcome: "applied",
  reason: null,
  version: 1,
};
const bitrix = {
  statusId: "AP",
  version: 1,
  dateStatus: "2026-01-01 10:00:00",
  history: { data: 'a:2:{s:9:"STATUS_ID";s:2:"AP";s:13:"OLD_STATUS_ID";s:1:"N";}', dateCreate: "x" },
};
const forward = {
  orderId: 7,
  customer: "Айгерим",
  received: [{ event: "order.create", version: "0", statusId: "N" }],
};

test("the verdict needs both directions and the history row of the last applied status", () => {
  const both: DemoProof = { forward, back: { orderId: 7, applied: [applied], bitrix, echoedVersions: [] } };
  assert.deepEqual(demoVerdict(both), { ok: true, missing: [] });
  assert.deepEqual(demoVerdict({ forward, back: undefined }).missing, [
    "no CRM status change was applied in Bitrix (CRM → Bitrix not seen)",
  ]);
  assert.deepEqual(demoVerdict({ forward: undefined, back: both.back }).missing, [
    "no order reached the CRM (Bitrix → CRM not seen)",
  ]);
  const noHistory: DemoProof = {
    forward,
    back: { orderId: 7, applied: [applied], bitrix: { ...bitrix, history: undefined }, echoedVersions: [] },
  };
  assert.deepEqual(demoVerdict(noHistory).missing, ["order #7: no b_sale_order_change row for status AP"]);
});
