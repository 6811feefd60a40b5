import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { openStateDb } from "../../daemon/outbox/open-state-db.js";
import { OutboxStore } from "../../daemon/outbox/outbox-store.js";
import { runCli, SIDECAR_BIN } from "../support/sidecar-process.js";

/** The CLI against a state without a daemon: no MySQL, no CRM needed. */

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configIn(dir: string): string {
  const file = join(dir, "config.toml");
  writeFileSync(
    file,
    `[mysql]\nurl = "mysql://u@127.0.0.1:1/shop"\n[crm]\nurl = "https://crm.example/webhooks/bitrix/order"\ntoken = "t"\n` +
      `[state]\ndir = "state"\n[log]\nfile = "sidecar.log"\n[http]\nlisten = "off"\n`,
  );
  return file;
}

function withPendingEntry(): { config: string; id: number } {
  const dir = mkdtempSync(join(tmpdir(), "cvety-outbox-cli-"));
  dirs.push(dir);
  const db = openStateDb(join(dir, "state"));
  const [o] = new OutboxStore(db).enqueue(
    [
      {
        orderId: 9,
        version: 1,
        dateUpdate: "2026-11-27 08:00:00",
        payload: '{"ID":"9"}',
        hash: "h",
        idempotencyKey: "k",
      },
    ],
    "capture",
  );
  db.close();
  return { config: configIn(dir), id: o!.outboxId! };
}

test("with no state yet, list and status say where they looked and create nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cvety-outbox-cli-"));
  dirs.push(dir);
  const config = configIn(dir);
  const list = await runCli(["outbox", "list", "-c", config]);
  assert.equal(list.code, 1);
  assert.match(list.stderr, new RegExp(`no state yet: ${join(dir, "state", "outbox.db")} does not exist`));
  const status = await runCli(["status", "-c", config]);
  assert.equal(status.code, 1);
  assert.match(status.stdout, /^state +none yet: .*outbox\.db does not exist$/m);
  assert.match(status.stdout, /✖ no state yet/);
  assert.equal(existsSync(join(dir, "state")), false);
});

const hasScript = existsSync("/usr/bin/script");

test("drop asks on a terminal and only a yes drops", {
  skip: !hasScript && "needs script(1) for a pty",
}, async () => {
  const { config, id } = withPendingEntry();
  const onTty = async (answer: string) => {
    const cmd = `printf '${answer}\\n' | script -qec "${process.execPath} ${SIDECAR_BIN} outbox drop ${id} -c ${config}; echo EXIT=\\$?" /dev/null`;
    const { stdout } = await promisify(execFile)("sh", ["-c", cmd]);
    return stdout;
  };
  const no = await onTty("n");
  assert.match(
    no,
    /Drop outbox entry #\d+: order 9 v1, pending\?\r?\nIt is still pending: the CRM will not get this change/,
  );
  assert.match(no, /not dropped\r?\nEXIT=1/);
  assert.equal((await runCli(["outbox", "show", String(id), "-c", config])).code, 0);
  const yes = await onTty("y");
  assert.match(yes, new RegExp(`dropped #${id} \\(order 9 v1, pending\\)\\r?\\nEXIT=0`));
  assert.equal((await runCli(["outbox", "show", String(id), "-c", config])).code, 1);
});

const isRoot = process.getuid?.() === 0;

test("status and list as root beside a stopped daemon leave no root-owned files the daemon could not open", {
  skip: !isRoot && "needs root to own files as another user",
}, async () => {
  const { config } = withPendingEntry();
  const stateDir = join(config, "..", "state");
  const nobody = 65534;
  for (const f of [stateDir, join(stateDir, "outbox.db")]) chownSync(f, nobody, nobody);
  assert.equal((await runCli(["status", "-c", config])).code, 1, "the daemon is not running");
  assert.equal((await runCli(["outbox", "list", "-c", config])).code, 0);
  for (const name of readdirSync(stateDir)) {
    assert.equal(statSync(join(stateDir, name)).uid, nobody, `${name} belongs to the daemon's user`);
  }
});
