import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findSinceOffset } from "../../daemon/ops/logs/find-since-offset.js";

test("--since bisects a large log to a line just before the first one in range", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cvety-since-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const t0 = Date.parse("2026-11-27T00:00:00Z");
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    lines.push(
      JSON.stringify({ level: "info", time: new Date(t0 + i * 1000).toISOString(), seq: i, msg: "tick" }),
    );
    if (i % 997 === 0) lines.push("a stray line without a time");
  }
  const text = `${lines.join("\n")}\n`;
  const path = join(dir, "big.log");
  writeFileSync(path, text);
  const file = await open(path, "r");
  try {
    const size = (await file.stat()).size;
    for (const seq of [0, 1, 12_345, 39_999]) {
      const offset = await findSinceOffset(file, size, t0 + seq * 1000);
      const firstInRange = text.indexOf(`"seq":${seq},`);
      const lineStart = text.lastIndexOf("\n", firstInRange) + 1;
      assert.ok(offset <= lineStart, `seq ${seq}: starts at or before the first line in range`);
      assert.ok(offset === 0 || text[offset - 1] === "\n", "at a line start");
      assert.ok(
        lineStart - offset <= 512 * 1024,
        `seq ${seq}: close to it (${lineStart - offset} bytes before)`,
      );
    }
    assert.ok((await findSinceOffset(file, size, t0 + 20_000 * 1000)) > size / 3, "skips most of the file");
    assert.ok((await findSinceOffset(file, size, t0 + 10_000_000 * 1000)) <= size, "past the end: the end");
  } finally {
    await file.close();
  }
});
