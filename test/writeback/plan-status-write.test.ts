import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decideStatusChange,
  type LockedOrder,
  planStatusWrite,
} from "../../daemon/writeback/plan-status-write.js";

const order: LockedOrder = {
  id: 122401,
  siteId: "s1",
  statusId: "N",
  dateStatus: "2025-08-26 10:00:05",
  version: 3,
  dateUpdate: "2025-08-26 10:00:05",
  accountNumber: "122401",
  dateInsert: "2025-08-26 09:00:00",
  userId: "171540",
};
const at = (wallClock: string, epochUs = 0) => ({ wallClock, epochUs });

test("missing order, equal status, then the conflict rule, in that order", () => {
  assert.deepEqual(decideStatusChange(undefined, "DE", at("2025-08-26 10:00:00"), undefined), {
    kind: "missing",
  });
  assert.deepEqual(decideStatusChange(order, "N", at("2025-08-26 09:00:00"), undefined), {
    kind: "unchanged",
  });
  assert.deepEqual(decideStatusChange(order, "DE", at("2025-08-26 10:00:04"), undefined), {
    kind: "conflict",
    cause: "bitrix_newer",
    dateStatus: "2025-08-26 10:00:05",
  });
  assert.deepEqual(
    decideStatusChange(order, "DE", at("2025-08-26 10:00:05"), undefined),
    { kind: "apply" },
    "same second",
  );
  assert.deepEqual(decideStatusChange(order, "DE", at("2025-08-26 10:00:06"), undefined), { kind: "apply" });
  assert.deepEqual(
    decideStatusChange({ ...order, dateStatus: null }, "DE", at("2000-01-01 00:00:00"), undefined),
    {
      kind: "apply",
    },
  );
});

test("over our own write-back the CRM's times decide: a later CRM change applies, an older one does not", () => {
  // DATE_STATUS is our own clock here (later than both CRM times on Bitrix's wall clock).
  assert.deepEqual(decideStatusChange(order, "DE", at("2025-08-26 10:00:01", 2_000), 1_000), {
    kind: "apply",
  });
  assert.deepEqual(decideStatusChange(order, "DE", at("2025-08-26 10:00:01", 500), 1_000), {
    kind: "conflict",
    cause: "older_than_applied",
    appliedCrmTimeUs: 1_000,
  });
});

test("the planned write is what Bitrix writes on a status change", () => {
  const w = planStatusWrite(order, "DE", {
    now: "2025-08-26 10:05:00",
    employeeId: undefined,
    charset: "utf8",
  });
  assert.deepEqual(w.order, {
    STATUS_ID: "DE",
    DATE_STATUS: "2025-08-26 10:05:00",
    EMP_STATUS_ID: null,
    UPDATED_1C: "N",
    VERSION: 4,
    DATE_UPDATE: "2025-08-26 10:05:00",
  });
  assert.deepEqual(w.history, {
    ORDER_ID: 122401,
    TYPE: "ORDER_STATUS_CHANGED",
    DATA: 'a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}',
    USER_ID: 0,
    ENTITY: "ORDER",
    ENTITY_ID: 122401,
  });
  assert.equal(planStatusWrite(order, "DE", { now: "x", employeeId: 9, charset: "utf8" }).history.USER_ID, 9);
});
