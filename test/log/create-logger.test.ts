import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../support/package-root.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-logger-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const loggerUrl = pathToFileURL(join(PACKAGE_ROOT, "dist", "daemon", "log", "create-logger.js")).href;

function runScript(body: string): { status: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `import { createLogger } from ${JSON.stringify(loggerUrl)};\n${body}`],
    { encoding: "utf8", timeout: 30_000 },
  );
  return { status: r.status, stderr: r.stderr };
}

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("createLogger", () => {
  it("keeps the fatal line of a crash in the first moment after start, and exits 1", () => {
    const file = join(dir, "crash.log");
    // The same crash handling as `run`: one fatal line, flush, exit 1; the throw comes before any I/O tick.
    const r = runScript(`
      const h = createLogger({ file: ${JSON.stringify(file)}, level: "info" });
      process.on("uncaughtException", (err) => { h.log.fatal({ err }, "crashed"); h.flush(); process.exit(1); });
      throw new Error("boom right after start");
    `);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /not ready/);
    const crashed = lines(file).find((l) => l.msg === "crashed");
    assert.ok(crashed, "the fatal line is in the log");
    assert.match(JSON.stringify(crashed.err), /boom right after start/);
  });

  it("reopens the file by its path after logrotate moved it", () => {
    const file = join(dir, "rotate.log");
    const rotated = `${file}.1`;
    const r = runScript(`
      import { renameSync } from "node:fs";
      const h = createLogger({ file: ${JSON.stringify(file)}, level: "info" });
      h.log.info("before rotation");
      setTimeout(() => {
        h.flush();
        renameSync(${JSON.stringify(file)}, ${JSON.stringify(rotated)});
        h.reopen();
        setTimeout(() => { h.log.info("after rotation"); h.flush(); process.exit(0); }, 200);
      }, 200);
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      lines(rotated).map((l) => l.msg),
      ["before rotation"],
    );
    assert.deepEqual(
      lines(file).map((l) => l.msg),
      ["after rotation"],
    );
    renameSync(file, join(dir, "done.log"));
  });
});
