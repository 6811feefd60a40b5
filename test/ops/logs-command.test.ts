import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { PACKAGE_ROOT } from "../support/package-root.js";
import { runCli, SIDECAR_BIN } from "../support/sidecar-process.js";

const execFileAsync = promisify(execFile);
/** Local time in the output is the process's TZ: pin it so the expected text is exact. */
const UTC = { TZ: "UTC", NO_COLOR: "" };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "cvety-logs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The message of a human line: after the time (19), a space, the level (5) and a space. */
function msgOf(humanLine: string): string {
  return humanLine.slice(26).split("  ")[0]!;
}

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ pid: 4242, hostname: "shop", ...fields });
}

/** A log as the daemon writes it, plus one stray non-JSON line. */
function sampleLog(nowMs: number): string {
  const iso = (agoMs: number) => new Date(nowMs - agoMs).toISOString();
  return [
    line({
      level: "info",
      time: "2026-11-20T10:01:00.100Z",
      component: "capture",
      orderId: 122401,
      version: 3,
      dateUpdate: "2026-11-20 15:00:59",
      outboxId: 17,
      event: "order.update",
      msg: "order captured",
    }),
    line({
      level: "info",
      time: "2026-11-20T10:01:02.300Z",
      component: "delivery",
      orderId: 122401,
      version: 3,
      outboxId: 17,
      event: "order.update",
      attempt: 1,
      status: 200,
      durationMs: 1234,
      msg: "order delivered",
    }),
    "a stray line that is not JSON",
    line({
      level: "warn",
      time: iso(30 * 60_000),
      component: "delivery",
      orderId: 122402,
      version: 0,
      outboxId: 18,
      event: "order.create",
      attempt: 2,
      status: 500,
      durationMs: 41,
      outcome: "retry",
      error: "HTTP 500",
      dead: false,
      retryInMs: 2000,
      msg: "delivery failed",
    }),
    line({
      level: "debug",
      time: iso(5 * 60_000),
      component: "capture",
      orderIds: [122401, 122403],
      msg: "orders still moving",
    }),
    line({
      level: "error",
      time: iso(4 * 60_000),
      component: "delivery",
      reason: "HTTP 401",
      probeInMs: 30000,
      msg: "delivery paused",
    }),
    "",
  ].join("\n");
}

test("logs prints the JSON log as readable lines and filters it by level, order and time", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "sidecar.log");
  writeFileSync(file, sampleLog(Date.now()));

  const all = await runCli(["logs", "--file", file], { env: UTC });
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 6);
  assert.equal(
    lines[0],
    '2026-11-20 10:01:00 INFO  order captured  order=122401 v=3 event=order.update updated="2026-11-20 15:00:59" outbox=17',
  );
  assert.equal(
    lines[1],
    "2026-11-20 10:01:02 INFO  order delivered  order=122401 v=3 event=order.update status=200 1.2s outbox=17",
  );
  assert.equal(lines[2], "a stray line that is not JSON", "a line that is not JSON is printed as it is");
  assert.match(
    lines[3]!,
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARN {2}delivery failed {2}order=122402 v=0 event=order\.create status=500 outcome=retry error="HTTP 500" 41ms outbox=18 attempt=2 dead=false retryIn=2s$/,
  );
  assert.match(lines[4]!, / DEBUG orders still moving {2}orders=122401,122403$/);
  assert.match(lines[5]!, / ERROR delivery paused {2}reason="HTTP 401" probeIn=30s$/);
  assert.doesNotMatch(all.stdout, /pid|4242|hostname|component/, "pid, hostname and component are left out");
  assert.ok(!all.stdout.includes("\u001b["), "no colours when stdout is not a terminal");

  const warn = await runCli(["logs", "--file", file, "--level", "warn"], { env: UTC });
  assert.deepEqual(
    warn.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.slice(20, 25)),
    ["WARN ", "ERROR"],
    "warn and above, and the stray line is left out once something is filtered",
  );

  const order = await runCli(["logs", "--file", file, "--order", "122401"], { env: UTC });
  assert.deepEqual(
    order.stdout.trimEnd().split("\n").map(msgOf),
    ["order captured", "order delivered", "orders still moving"],
    "orderId fields and orderIds lists",
  );

  const recent = await runCli(["logs", "--file", file, "--since", "15m"], { env: UTC });
  assert.deepEqual(recent.stdout.trimEnd().split("\n").map(msgOf), [
    "orders still moving",
    "delivery paused",
  ]);
  const fromDate = await runCli(["logs", "--file", file, "--since", "2026-11-20 10:01:01"], { env: UTC });
  assert.equal(msgOf(fromDate.stdout.split("\n")[0]!), "order delivered", "a local date and time");

  const json = await runCli(["logs", "--file", file, "--order", "122401", "-n", "2", "--json"], { env: UTC });
  assert.equal(json.code, 0);
  const parsed = json.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((p) => p["msg"]),
    ["order delivered", "orders still moving"],
    "-n keeps the last matching lines",
  );
  assert.equal(
    json.stdout.split("\n")[0],
    readFileSync(file, "utf8").split("\n")[1],
    "--json passes the line through unchanged",
  );

  const last = await runCli(["logs", "--file", file, "-n", "1"], { env: UTC });
  assert.match(last.stdout, /^\S+ \S+ ERROR delivery paused/);
});

test("logs colours levels on a terminal, and not with NO_COLOR", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "sidecar.log");
  writeFileSync(file, sampleLog(Date.now()));
  // script(1) gives the command a pseudo-terminal as stdout.
  const onTty = (env: NodeJS.ProcessEnv) =>
    execFileAsync(
      "script",
      ["-q", "-e", "-c", `${process.execPath} ${SIDECAR_BIN} logs --file ${file} --level warn`, "/dev/null"],
      {
        env: { ...process.env, TZ: "UTC", ...env },
      },
    );
  const coloured = await onTty({ NO_COLOR: "" });
  const ESC = "\u001b";
  assert.ok(
    coloured.stdout.includes(`${ESC}[33mWARN ${ESC}[0m`),
    `warn in yellow: ${JSON.stringify(coloured.stdout)}`,
  );
  assert.ok(coloured.stdout.includes(`${ESC}[31mERROR${ESC}[0m`), "error in red");
  const plain = await onTty({ NO_COLOR: "1" });
  assert.match(plain.stdout, / WARN {2}delivery failed/);
  assert.ok(!plain.stdout.includes("\u001b["), "NO_COLOR turns colours off");
});

test("logs names what is wrong: a bad option exits 2, a missing file 1, [log] file comes from the config", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "sidecar.log");
  writeFileSync(file, sampleLog(Date.now()));

  const badLevel = await runCli(["logs", "--file", file, "--level", "loud"]);
  assert.equal(badLevel.code, 2);
  assert.match(
    badLevel.stderr,
    /--level: expected one of trace, debug, info, warn, error, fatal, got "loud"/,
  );
  const badSince = await runCli(["logs", "--file", file, "--since", "yesterday"]);
  assert.equal(badSince.code, 2);
  assert.match(badSince.stderr, /--since: expected a date .* got "yesterday"/);
  const badDate = await runCli(["logs", "--file", file, "--since", "2026-13-01"]);
  assert.equal(badDate.code, 2, "month 13 is not a date");
  const badLines = await runCli(["logs", "--file", file, "-n", "ten"]);
  assert.equal(badLines.code, 2);
  assert.match(badLines.stderr, /--lines/);

  const missing = await runCli(["logs", "--file", join(dir, "nope.log")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /log file .*nope\.log does not exist/);

  // A valid config: [log] file, relative to the config's folder.
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    '[mysql]\nurl = "mysql://u:p@127.0.0.1:3306/shop"\n[crm]\nurl = "https://crm.example/webhooks/bitrix/order"\ntoken = "t"\n[log]\nfile = "sidecar.log"\n',
  );
  const viaConfig = await runCli(["logs", "-c", config, "--level", "error"], { env: UTC });
  assert.equal(viaConfig.code, 0, viaConfig.stderr);
  assert.match(viaConfig.stdout, /ERROR delivery paused/);
  assert.equal(viaConfig.stderr, "");

  // A config with a bad key still says where the log is: that is when the log matters most.
  writeFileSync(
    config,
    '[crm]\nurl = "https://crm.example/webhooks/bitrix/order"\ntokn = "t"\n[log]\nfile = "sidecar.log"\n',
  );
  const broken = await runCli(["logs", "-c", config, "--level", "error"], { env: UTC });
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(broken.stdout, /ERROR delivery paused/);
  assert.match(
    broken.stderr,
    /the config does not load \(.*crm\.tokn: unknown key.*\); reading .*sidecar\.log anyway/,
  );

  const noConfig = await runCli(["logs", "-c", join(dir, "absent.toml")]);
  assert.equal(noConfig.code, 78);
  assert.match(noConfig.stderr, /config file not found/);
});

/**
 * A log writer built on the daemon's own logger (pino, 4 KB buffer, reopen on
 * SIGHUP): writes numbered lines, one every 10 ms, until SIGTERM; then
 * flushes, prints how many it wrote and exits.
 */
function writerScript(dir: string): string {
  const file = join(dir, "writer.mjs");
  const logger = join(PACKAGE_ROOT, "dist", "daemon", "log", "create-logger.js");
  writeFileSync(
    file,
    `import { createLogger } from ${JSON.stringify(logger)};
const h = createLogger({ file: process.argv[2], level: "info" });
process.on("SIGHUP", () => h.reopen());
let seq = 0;
const timer = setInterval(() => {
  for (let k = 0; k < 1; k++, seq++) h.log.info({ component: "delivery", orderId: 1000 + (seq % 3), seq }, "tick");
}, 10);
process.on("SIGTERM", () => {
  clearInterval(timer);
  h.flush();
  process.stdout.write(String(seq));
  process.exit(0);
});
`,
  );
  return file;
}

function spawnFollower(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [SIDECAR_BIN, "logs", ...args], {
    env: { ...process.env, ...UTC },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return { child, out: () => out, err: () => err };
}

function seqs(jsonLines: string): number[] {
  return jsonLines
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

async function until(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("logs -f follows across logrotate's rename + SIGHUP and copytruncate: every line once, in order", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "sidecar.log");
  const writer = spawn(process.execPath, [writerScript(dir), file], { stdio: ["ignore", "pipe", "ignore"] });
  t.after(() => writer.kill("SIGKILL"));
  let written = "";
  writer.stdout!.on("data", (d) => (written += d));
  const lastSeq = () => {
    const s = seqs(follower.out());
    return s.length === 0 ? -1 : s[s.length - 1]!;
  };
  await sleep(150); // some lines in the file before the followers start: they come from the backwards read
  const follower = spawnFollower(["--file", file, "-f", "--json", "-n", "100000"]);
  const oneOrder = spawnFollower(["--file", file, "-f", "--order", "1001", "-n", "100000"]);
  t.after(() => {
    follower.child.kill("SIGKILL");
    oneOrder.child.kill("SIGKILL");
  });
  await until("both followers to print", () => lastSeq() >= 0 && oneOrder.out() !== "");

  // Our own logrotate file's way: rename, create, then SIGHUP makes the writer reopen.
  const renameConf = join(dir, "rename.conf");
  writeFileSync(
    renameConf,
    `${file} {\n  rotate 5\n  nocompress\n  create 0640\n  postrotate\n    kill -HUP ${writer.pid}\n  endscript\n}\n`,
    { mode: 0o644 },
  );
  await execFileAsync("logrotate", ["-f", "-s", join(dir, "state1"), renameConf]);

  // copytruncate: the writer keeps its file; logrotate copies it, then truncates it. The writer is
  // stopped meanwhile, because what it writes between the copy and the truncation is lost by logrotate
  // itself (its documented caveat), not by us; lines written just before the copy are read from the copy.
  const copyConf = join(dir, "copy.conf");
  writeFileSync(copyConf, `${file} {\n  rotate 5\n  nocompress\n  copytruncate\n}\n`, { mode: 0o644 });
  // Rotations are a day apart in production, the follower long caught up with the new file: wait until
  // it has read into it (on a loaded machine it can lag the writer by seconds).
  let firstInNewFile = -1;
  await until("the writer to reopen", () => {
    const [first, second] = readFileSync(file, "utf8").split("\n");
    if (first && second !== undefined) firstInNewFile = (JSON.parse(first) as { seq: number }).seq;
    return firstInNewFile >= 0;
  });
  await until("lines before the second rotation", () => lastSeq() >= Math.max(300, firstInNewFile + 50));
  writer.kill("SIGSTOP");
  await execFileAsync("logrotate", ["-f", "-s", join(dir, "state2"), copyConf]);
  writer.kill("SIGCONT");
  await sleep(300);
  writer.kill("SIGTERM");
  await new Promise((resolve) => writer.on("exit", resolve));
  const total = Number(written);
  assert.ok(total > 0, "the writer says how many lines it wrote");

  await until("the last line", () => lastSeq() >= total - 1, 60_000);
  await sleep(500); // nothing more (no line twice) arrives after the last one
  follower.child.kill("SIGINT");
  const exit = await new Promise<number | null>((resolve) =>
    follower.child.on("exit", (code) => resolve(code)),
  );
  assert.equal(exit, 0, "Ctrl-C ends logs -f with 0");
  assert.equal(
    describeGaps(
      seqs(follower.out()),
      Array.from({ length: total }, (_, i) => i),
    ),
    "",
    "every line exactly once, in order",
  );
  assert.doesNotMatch(follower.err(), /missing/);

  const lastOf1001 = total - 1 - ((total - 2) % 3);
  await until("the filtered follower's last line", () => oneOrder.out().includes(`seq=${lastOf1001}\n`));
  const shown = oneOrder
    .out()
    .trimEnd()
    .split("\n")
    .map((l) => Number(/seq=(\d+)/.exec(l)?.[1]));
  assert.equal(
    describeGaps(
      shown,
      Array.from({ length: total }, (_, i) => i).filter((i) => i % 3 === 1),
    ),
    "",
    "--order 1001 while following: its lines, once each",
  );
  assert.match(oneOrder.out(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO {2}tick {2}order=1001 seq=1\n/);
});

/** "" when equal; else where the sequences part (a diff of 1,200 numbers is unreadable). */
function describeGaps(actual: number[], expected: number[]): string {
  const i = actual.findIndex((v, k) => v !== expected[k]);
  if (i === -1 && actual.length === expected.length) return "";
  const at = i === -1 ? Math.min(actual.length, expected.length) : i;
  return `${actual.length} lines, expected ${expected.length}; first difference at #${at}: got ${actual
    .slice(Math.max(0, at - 2), at + 5)
    .join(",")}, expected ${expected.slice(Math.max(0, at - 2), at + 5).join(",")}`;
}
