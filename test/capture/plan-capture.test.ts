import assert from "node:assert/strict";
import { test } from "node:test";
import {
  shiftWallClock,
  toBitrixSiteFormat,
  wallClockDiffSeconds,
  wallClockNow,
} from "../../daemon/capture/bitrix-datetime.js";
import { advanceCursor, compareSnapshots, decideRow, scanStart } from "../../daemon/capture/plan-capture.js";

const row = (version: number, dateUpdate: string, running = false) => ({
  orderId: 7,
  version,
  dateUpdate,
  running,
});

test("a new order is captured, a RUNNING one waits", () => {
  assert.equal(decideRow(row(1, "2025-08-26 10:00:00"), undefined, undefined, 0, 2000), "capture");
  assert.equal(decideRow(row(1, "2025-08-26 10:00:00", true), undefined, undefined, 0, 2000), "running");
});

test("the same (VERSION, DATE_UPDATE) is a duplicate; a moved DATE_UPDATE is captured again at the same VERSION", () => {
  const captured = { version: 3, dateUpdate: "2025-08-26 10:00:00" };
  assert.equal(decideRow(row(3, "2025-08-26 10:00:00"), captured, undefined, 0, 2000), "duplicate");
  assert.equal(decideRow(row(3, "2025-08-26 10:00:04"), captured, undefined, 0, 2000), "capture");
  assert.equal(decideRow(row(4, "2025-08-26 10:00:04"), captured, undefined, 0, 2000), "capture");
});

test("a VERSION bump without a DATE_UPDATE move settles for settle_ms, then is captured", () => {
  const captured = { version: 3, dateUpdate: "2025-08-26 10:00:00" };
  const r = row(4, "2025-08-26 10:00:00");
  assert.equal(decideRow(r, captured, undefined, 10_000, 2000), "settling");
  assert.equal(decideRow(r, captured, 10_000, 11_999, 2000), "settling");
  assert.equal(decideRow(r, captured, 10_000, 12_000, 2000), "capture");
  assert.equal(decideRow(r, captured, undefined, 10_000, 0), "capture", "settle_ms = 0 disables waiting");
});

test("the cursor moves to the page end but never past an unsettled row and never back", () => {
  const cur = { dateUpdate: "2025-08-26 10:00:00", orderId: 5 };
  const last = { dateUpdate: "2025-08-26 10:00:09", orderId: 2 };
  assert.deepEqual(advanceCursor(cur, last, undefined), last);
  assert.deepEqual(advanceCursor(cur, last, "2025-08-26 10:00:03"), {
    dateUpdate: "2025-08-26 10:00:03",
    orderId: 0,
  });
  assert.deepEqual(advanceCursor(cur, { dateUpdate: "2025-08-26 09:59:00", orderId: 9 }, undefined), cur);
  assert.deepEqual(advanceCursor(cur, undefined, undefined), cur);
});

test("the scan starts lookback seconds before the cursor, across midnight", () => {
  assert.deepEqual(scanStart({ dateUpdate: "2025-08-27 00:00:30", orderId: 9 }, 60), {
    dateUpdate: "2025-08-26 23:59:30",
    orderId: 0,
  });
});

test("snapshots order by VERSION, then DATE_UPDATE", () => {
  assert.ok(
    compareSnapshots(
      { version: 2, dateUpdate: "2025-01-02 00:00:00" },
      { version: 3, dateUpdate: "2025-01-01 00:00:00" },
    ) < 0,
  );
  assert.ok(
    compareSnapshots(
      { version: 3, dateUpdate: "2025-01-02 00:00:00" },
      { version: 3, dateUpdate: "2025-01-01 00:00:00" },
    ) > 0,
  );
  assert.equal(compareSnapshots({ version: 3, dateUpdate: "x" }, { version: 3, dateUpdate: "x" }), 0);
});

test("Bitrix wall-clock strings convert to the site format and are never shifted by a zone", () => {
  assert.equal(toBitrixSiteFormat("2025-08-26 10:12:41"), "26.08.2025 10:12:41");
  assert.equal(toBitrixSiteFormat("2025-08-27"), "27.08.2025");
  assert.equal(toBitrixSiteFormat("Букет"), "Букет");
  assert.equal(shiftWallClock("2025-03-30 02:30:00", 3600), "2025-03-30 03:30:00");
  assert.equal(wallClockDiffSeconds("2025-08-26 10:00:00", "2025-08-26 10:01:05"), 65);
  assert.equal(wallClockNow("Asia/Almaty", Date.parse("2025-08-26T05:12:41Z")), "2025-08-26 10:12:41");
});
