import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { WorkerLoop } from "../../daemon/loop/worker-loop.js";

test("notify cuts the wait short and stop awaits the tick in flight", async () => {
  let ticks = 0;
  let inTick = false;
  const loop = new WorkerLoop({
    name: "t",
    intervalMs: 60_000,
    tick: async () => {
      inTick = true;
      ticks++;
      await sleep(30);
      inTick = false;
      return undefined;
    },
    onError: () => 1000,
  });
  loop.start();
  await sleep(50);
  assert.equal(ticks, 1, "first tick at once, then a long wait");
  loop.notify();
  await sleep(10);
  assert.equal(ticks, 2, "notify woke the loop");
  await loop.stop();
  assert.equal(inTick, false, "stop waited for the tick in flight");
});

test("a failing tick does not kill the loop; onError decides the wait", async () => {
  let calls = 0;
  const failures: number[] = [];
  const loop = new WorkerLoop({
    name: "t",
    intervalMs: 5,
    tick: async () => {
      calls++;
      if (calls <= 2) throw new Error("boom");
      return { nextDelayMs: 60_000 };
    },
    onError: (_err, n) => {
      failures.push(n);
      return 1;
    },
  });
  loop.start();
  await sleep(50);
  await loop.stop();
  assert.deepEqual(failures, [1, 2]);
  assert.equal(calls, 3);
});
