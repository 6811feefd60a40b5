import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CHUNK_BYTES, readLastLines, readLinesForward } from "../../daemon/ops/logs/read-log-lines.js";

/** Lines of every length around the chunk size, some with multi-byte UTF-8 (Мадина) across chunk borders. */
function sampleLines(): string[] {
  const lines: string[] = [];
  const lengths = [0, 1, 17, 300, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 5, 2 * CHUNK_BYTES + 3, 40];
  for (let i = 0; i < 120; i++) {
    const len = lengths[i % lengths.length]!;
    lines.push(`${i}:${"Мадина ".repeat(Math.ceil(len / 13)).slice(0, len)}`);
  }
  return lines;
}

test("reading backwards in chunks gives the same last lines as reading the whole file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cvety-lines-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = sampleLines();
  for (const [name, text, complete] of [
    ["terminated.log", `${lines.join("\n")}\n`, lines],
    ["partial.log", `${lines.join("\n")}\n{"being":"writ`, lines],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const file = await open(path, "r");
    try {
      const size = (await file.stat()).size;
      for (const n of [0, 1, 2, 7, 150, 10_000]) {
        const nonEmpty = complete.filter((l) => l !== "");
        const { lines: got, next } = await readLastLines(file, size, n, () => true);
        assert.deepEqual(got, nonEmpty.slice(Math.max(0, nonEmpty.length - n)), `${name} n=${n}`);
        assert.equal(
          next,
          Buffer.byteLength(`${lines.join("\n")}\n`),
          "next: just after the last complete line",
        );
      }
      const even = await readLastLines(file, size, 3, (l) => Number(l.split(":")[0]) % 2 === 0);
      assert.deepEqual(
        even.lines.map((l) => l.split(":")[0]),
        ["114", "116", "118"],
        "the last lines the filter keeps",
      );
      const forward: string[] = [];
      const read = await readLinesForward(file, 0, size, (l) => {
        forward.push(l);
      });
      assert.deepEqual(forward, complete);
      assert.equal(read.partial.toString("utf8"), name === "partial.log" ? '{"being":"writ' : "");
    } finally {
      await file.close();
    }
  }
});
