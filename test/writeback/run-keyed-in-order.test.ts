import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runKeyedInOrder } from "../../daemon/writeback/run-keyed-in-order.js";

interface Item {
  key: string;
  ms: number;
  fail?: boolean;
}

async function run(items: Item[], concurrency: number, stopAfter?: number) {
  const started: number[] = [];
  const finished: number[] = [];
  const prefixes: number[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const result = runKeyedInOrder(items, {
    concurrency,
    keyOf: (i) => i.key,
    stop: () => stopAfter !== undefined && started.length >= stopAfter,
    run: async (item, index) => {
      started.push(index);
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await sleep(item.ms);
      inflight--;
      if (item.fail) throw new Error(`item ${index} failed`);
      finished.push(index);
    },
    settled: (_index, prefix) => prefixes.push(prefix),
  });
  return { result, started, finished, prefixes, maxInflight: () => maxInflight };
}

test("one key's tasks run in order while other keys run alongside, within the concurrency", async () => {
  const r = await run(
    [
      { key: "a", ms: 40 },
      { key: "b", ms: 5 },
      { key: "a", ms: 5 },
      { key: "c", ms: 5 },
      { key: "b", ms: 5 },
    ],
    3,
  );
  assert.equal(await r.result, true);
  assert.ok(r.finished.indexOf(0) < r.finished.indexOf(2), "a's second change after its first");
  assert.ok(r.finished.indexOf(1) < r.finished.indexOf(4));
  assert.ok(r.maxInflight() <= 3);
  assert.ok(r.finished.indexOf(1) < r.finished.indexOf(0), "b did not wait for a");
  assert.equal(r.prefixes.at(-1), 5);
  // Nothing after item 0 can count as a settled prefix until item 0 is done.
  const beforeZero = r.prefixes.slice(0, r.finished.indexOf(0));
  assert.ok(beforeZero.every((p) => p === 0));
});

test("after a failure nothing new starts, later changes of the same order never run, and the failure is thrown", async () => {
  const r = await run(
    [
      { key: "a", ms: 10, fail: true },
      { key: "a", ms: 1 },
      { key: "b", ms: 30 },
      { key: "c", ms: 1 },
      { key: "d", ms: 1 },
    ],
    3,
  );
  await assert.rejects(r.result, /item 0 failed/);
  assert.ok(!r.started.includes(1), "a's later change did not run");
  assert.ok(r.finished.includes(2), "work in flight finished");
  assert.ok(!r.started.includes(4), "nothing started after the failure");
  assert.ok(
    r.prefixes.every((p) => p === 0),
    "the prefix never passes the failed item",
  );
});

test("stop ends the list early and says so", async () => {
  const items = Array.from({ length: 10 }, (_, i) => ({ key: String(i), ms: 2 }));
  const r = await run(items, 2, 3);
  assert.equal(await r.result, false);
  assert.ok(r.started.length < 10);
});
