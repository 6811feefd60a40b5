import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ChaosObservation,
  checkBacklogEmpty,
  checkFinalStateDelivered,
  checkNoOlderAfterNewer,
  checkWriteback,
  countDuplicates,
} from "./check-invariants.js";

function data(version: number, dateUpdate: string, extra: Record<string, unknown> = {}) {
  const [d, t] = dateUpdate.split(" ");
  const [y, m, day] = d!.split("-");
  return {
    ID: "1",
    VERSION: String(version),
    DATE_UPDATE: `${day}.${m}.${y} ${t}`,
    STATUS_ID: "N",
    ...extra,
  };
}

function observation(over: Partial<ChaosObservation> = {}): ChaosObservation {
  return {
    orders: [
      {
        id: 1,
        version: 2,
        dateUpdate: "2026-11-27 08:00:02",
        statusId: "N",
        expectedData: data(2, "2026-11-27 08:00:02"),
      },
    ],
    writebackWrites: [],
    accepted: [
      { seq: 1, orderId: 1, data: data(1, "2026-11-27 08:00:01"), idempotencyKey: "k1" },
      {
        seq: 2,
        orderId: 1,
        data: { ...data(2, "2026-11-27 08:00:02"), webhook_timestamp: 1 },
        idempotencyKey: "k2",
      },
    ],
    completionOrder: new Map(),
    feedChanges: [],
    history: [],
    writebackOutcomes: [],
    outbox: { pending: 0, delivered: 2, dead: 0 },
    initialStatusId: "N",
    ...over,
  };
}

test("a run where the CRM ends with Bitrix's final snapshot, in order, passes", () => {
  const o = observation();
  assert.equal(checkFinalStateDelivered(o).ok, true);
  assert.equal(checkNoOlderAfterNewer(o).ok, true);
  assert.equal(checkBacklogEmpty(o).ok, true);
  assert.deepEqual(countDuplicates(o), { duplicates: 0, ordersAffected: 0 });
});

test("an older version arriving after a newer one, a stale final state and leftovers are violations", () => {
  const o = observation({
    accepted: [
      { seq: 1, orderId: 1, data: data(2, "2026-11-27 08:00:02"), idempotencyKey: "k2" },
      { seq: 2, orderId: 1, data: data(1, "2026-11-27 08:00:01"), idempotencyKey: "k1" },
      { seq: 3, orderId: 1, data: data(1, "2026-11-27 08:00:01"), idempotencyKey: "k1" },
    ],
    outbox: { pending: 1, delivered: 2, dead: 1 },
  });
  const order = checkNoOlderAfterNewer(o);
  assert.equal(order.ok, false);
  assert.match(order.violations[0]!, /order 1: VERSION 1 .* arrived after VERSION 2/);
  assert.equal(checkFinalStateDelivered(o).ok, false, "the CRM's last copy is VERSION 1");
  assert.equal(checkBacklogEmpty(o).violations.length, 2);
  assert.deepEqual(countDuplicates(o), { duplicates: 1, ordersAffected: 1 });
});

test("a final row written by write-back may differ only in the status columns", () => {
  const wbFinal = { id: 1, version: 3, dateUpdate: "2026-11-27 08:00:05", statusId: "DE" };
  const echo = observation({
    orders: [{ ...wbFinal, expectedData: data(3, "2026-11-27 08:00:05", { STATUS_ID: "DE" }) }],
    writebackWrites: [{ orderId: 1, version: 3, dateUpdate: "2026-11-27 08:00:05" }],
  });
  assert.equal(checkFinalStateDelivered(echo).ok, true);
  const swallowed = observation({
    orders: [
      { ...wbFinal, expectedData: data(3, "2026-11-27 08:00:05", { STATUS_ID: "DE", COMMENTS: "new" }) },
    ],
    writebackWrites: [{ orderId: 1, version: 3, dateUpdate: "2026-11-27 08:00:05" }],
  });
  const result = checkFinalStateDelivered(swallowed);
  assert.equal(result.ok, false, "a Bitrix change hidden in the write-back's row must reach the CRM");
  assert.match(result.violations[0]!, /differing: .*COMMENTS/);
});

test("each feed change must be exactly one history row in order, with one applied outcome", () => {
  const feedChanges = [
    { id: "c1", orderId: 1, statusId: "AP" },
    { id: "c2", orderId: 1, statusId: "DE" },
  ];
  const good = observation({
    orders: [{ id: 1, version: 2, dateUpdate: "x", statusId: "DE", expectedData: {} }],
    feedChanges,
    history: [
      { id: 1, orderId: 1, oldStatusId: "N", statusId: "AP" },
      { id: 2, orderId: 1, oldStatusId: "AP", statusId: "DE" },
    ],
    writebackOutcomes: [
      { changeKey: "c1", orderId: 1, outcome: "applied" },
      { changeKey: "c2", orderId: 1, outcome: "unchanged" },
    ],
  });
  assert.equal(checkWriteback(good).ok, true, checkWriteback(good).violations.join("\n"));

  const lost = observation({
    orders: [{ id: 1, version: 1, dateUpdate: "x", statusId: "AP", expectedData: {} }],
    feedChanges,
    history: [{ id: 1, orderId: 1, oldStatusId: "N", statusId: "AP" }],
    writebackOutcomes: [
      { changeKey: "c1", orderId: 1, outcome: "applied" },
      { changeKey: "c2", orderId: 1, outcome: "conflict" },
    ],
  });
  const v = checkWriteback(lost).violations.join("\n");
  assert.match(v, /history rows N->AP$/m);
  assert.match(v, /STATUS_ID is AP, the last feed change set DE/);
  assert.match(v, /feed change c2 .*: outcome conflict/);

  const twice = observation({
    orders: [{ id: 1, version: 2, dateUpdate: "x", statusId: "AP", expectedData: {} }],
    feedChanges: [feedChanges[0]!],
    history: [
      { id: 1, orderId: 1, oldStatusId: "N", statusId: "AP" },
      { id: 2, orderId: 1, oldStatusId: "N", statusId: "AP" },
    ],
    writebackOutcomes: [{ changeKey: "c1", orderId: 1, outcome: "applied" }],
  });
  assert.equal(checkWriteback(twice).ok, false, "a change applied twice");
});
