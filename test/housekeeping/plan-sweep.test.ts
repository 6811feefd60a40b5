import assert from "node:assert/strict";
import { test } from "node:test";
import {
  judgeSnapshotHash,
  type KnownOrder,
  planFullSweepChunk,
  planSweep,
  type SweepBounds,
} from "../../daemon/housekeeping/plan-sweep.js";

const T0 = "2026-11-25 10:00:00";
const T1 = "2026-11-25 11:00:00";
const bounds: SweepBounds = { captureFrom: "2026-11-27 07:59:00", floor: "2026-11-20 00:00:00" };

const row = (orderId: number, version: number, dateUpdate: string, running = false) => ({
  orderId,
  version,
  dateUpdate,
  running,
});
const key = (version: number, dateUpdate: string, hash = `h${version}`) => ({ version, dateUpdate, hash });

test("planSweep: in sync, missing, behind by DATE_UPDATE, and VERSION-only moves", () => {
  const known = new Map<number, KnownOrder>([
    [1, { captured: key(3, T0), delivered: key(3, T0) }],
    [2, { captured: key(3, T0), delivered: key(2, T0) }],
    [3, { captured: key(3, T0), delivered: key(3, T0) }],
    [4, { captured: key(3, T0), delivered: key(3, T0) }],
  ]);
  const plan = planSweep(
    [
      row(1, 3, T0), // same key
      row(2, 3, T0), // captured, not delivered (a dead letter, an echo): capture judged this key already
      row(3, 4, T0), // VERSION moved, DATE_UPDATE did not: raw SQL or a save in progress
      row(4, 4, T1), // DATE_UPDATE moved behind capture's back
      row(5, 0, T1), // never seen
    ],
    known,
    new Set(),
    bounds,
  );
  assert.deepEqual(
    plan.read.map((r) => r.orderId),
    [4, 5],
  );
  assert.deepEqual(
    plan.settle.map((r) => r.orderId),
    [3],
  );
  assert.equal(plan.inSync, 2);
});

test("planSweep skips RUNNING and pending orders, never-seen ones before the floor, and capture's own window", () => {
  const known = new Map<number, KnownOrder>([[3, { captured: key(1, T0) }]]);
  const plan = planSweep(
    [
      row(1, 0, T1, true),
      row(2, 5, T1),
      row(3, 2, T0),
      row(4, 0, "2026-11-01 00:00:00"),
      row(5, 0, "2026-11-27 07:59:30"),
    ],
    known,
    new Set([2, 3]),
    bounds,
  );
  assert.deepEqual(plan.read, []);
  assert.deepEqual(plan.settle, []);
  assert.deepEqual(plan.skipped, { running: 1, pending: 2, beforeFloor: 1, captureWindow: 1 });
});

test("planSweep: a Bitrix key older than what was delivered is in sync (the captured key may lag)", () => {
  const known = new Map<number, KnownOrder>([[1, { captured: key(2, T0), delivered: key(5, T1) }]]);
  const plan = planSweep([row(1, 5, T1)], known, new Set(), bounds);
  assert.equal(plan.inSync, 1);
  assert.deepEqual(plan.read, []);
});

test("planSweep without a floor sweeps every never-seen order of the window", () => {
  const plan = planSweep([row(9, 0, "2026-01-01 00:00:00")], new Map(), new Set(), {
    captureFrom: bounds.captureFrom,
    floor: undefined,
  });
  assert.deepEqual(
    plan.read.map((r) => r.orderId),
    [9],
  );
});

test("planFullSweepChunk reads every known order (content may differ under the same key)", () => {
  const known = new Map<number, KnownOrder>([
    [1, { captured: key(3, T0), delivered: key(3, T0) }],
    [2, { captured: key(3, T0) }],
    [6, { captured: key(3, T0) }],
  ]);
  const plan = planFullSweepChunk(
    [
      row(1, 3, T0),
      row(2, 4, T0),
      row(3, 0, T1, true),
      row(4, 0, "2026-11-01 00:00:00"),
      row(5, 0, T1),
      row(6, 4, "2026-11-27 08:00:00"),
      row(7, 1, T1),
    ],
    known,
    new Set([7]),
    bounds,
  );
  assert.deepEqual(
    plan.read.map((r) => r.orderId),
    [1, 2, 5],
  );
  assert.deepEqual(plan.skipped, { running: 1, pending: 1, beforeFloor: 1, captureWindow: 1 });
});

test("judgeSnapshotHash: same as delivered or as captured is left alone; other content is queued", () => {
  const known: KnownOrder = { captured: key(3, T0, "captured"), delivered: key(2, T0, "delivered") };
  const snap = (hash: string, version = 3, dateUpdate = T0) => ({ orderId: 1, version, dateUpdate, hash });
  assert.equal(judgeSnapshotHash(snap("delivered"), known), "same");
  assert.equal(judgeSnapshotHash(snap("captured"), known), "same", "capture judged this content already");
  assert.equal(judgeSnapshotHash(snap("basket price fixed by raw SQL"), known), "enqueue");
  assert.equal(judgeSnapshotHash(snap("new", 4, T1), known), "enqueue", "DATE_UPDATE moved");
  assert.equal(judgeSnapshotHash(snap("new", 4, T0), known), "settle", "VERSION-only move");
  assert.equal(judgeSnapshotHash(snap("anything"), undefined), "enqueue", "never seen");
});
