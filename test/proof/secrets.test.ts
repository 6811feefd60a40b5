/**
 * Proof: the CRM token, the MySQL password (in mysql.url and in Bitrix's
 * .settings.php), the write-back token and the signing secrets never appear in
 * the log file, stdout, stderr or the state directory: in normal operation,
 * when the CRM and the feed echo the request back in 401/422/400 answers, when
 * MySQL refuses the password, for a bad config (exit 78) and in a crash.
 * Every secret has a distinctive value, and each test first checks it was in
 * use (the CRM received the token), so a search that finds nothing means
 * something.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { pathToFileURL } from "node:url";
import mysql from "mysql2/promise";
import { createOrder } from "../support/bitrix-writer.js";
import { startHttpsJsonServer } from "../support/https-json-server.js";
import { runCli, type SidecarProcess } from "../support/sidecar-process.js";
import { startStatusFeedServer } from "../support/status-feed-server.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";
import { assertNoSecrets, filesUnder, fileText } from "./secret-search.js";

const SECRETS = {
  crmToken: "crmtok-S3cret-6d1f0a9e2b",
  mysqlPassword: "myPw@S3cret/77ab1c",
  writebackToken: "wbtok-S3cret-90fe33",
  signingA: `whsec_${Buffer.from("signing-secret-A-0123456789abcdef").toString("base64")}`,
  signingB: `whsec_${Buffer.from("signing-secret-B-fedcba9876543210").toString("base64")}`,
};

interface SecretSetup extends SyncFixture {
  mysqlUser: string;
  /** mysql://user:<password>@host:port/db with the distinctive password (URL-encoded). */
  mysqlUrlWith(password: string): string;
}

/** The sync fixture with a MySQL user that has the distinctive password, and the CRM expecting our token. */
async function setupSecrets(t: TestContext): Promise<SecretSetup> {
  const f = await setupSync(t, { prefix: "proof_secrets" });
  f.crm.setToken(SECRETS.crmToken);
  const user = `sec_${randomBytes(4).toString("hex")}`;
  const e = f.db.endpoint;
  const admin = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
  });
  try {
    for (const host of ["%", "localhost", "127.0.0.1"]) {
      await admin.query("CREATE USER ?@? IDENTIFIED BY ?", [user, host, SECRETS.mysqlPassword]);
      await admin.query(`GRANT ALL ON \`${f.db.name}\`.* TO ?@?`, [user, host]);
    }
  } finally {
    await admin.end();
  }
  t.after(async () => {
    const a = await mysql.createConnection({
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
    });
    for (const host of ["%", "localhost", "127.0.0.1"])
      await a.query("DROP USER IF EXISTS ?@?", [user, host]);
    await a.end();
  });
  const mysqlUrlWith = (password: string) =>
    `mysql://${user}:${encodeURIComponent(password)}@${e.host}:${e.port}/${f.db.name}`;
  return Object.assign(f, { mysqlUser: user, mysqlUrlWith });
}

function everythingVisible(
  f: SyncFixture,
  p?: { stdout: string; stderr: string },
): Record<string, string | Buffer> {
  return {
    "the log file": fileText(f.logFile),
    ...(p ? { stdout: p.stdout, stderr: p.stderr } : {}),
    ...filesUnder(f.stateDir),
  };
}

/**
 * What ops read: `status`, `outbox list` and `outbox show` of every entry (text and --json), with
 * the same environment the daemon had. Exit codes are not the point here (status may report a
 * problem on purpose): only that each command printed something and no secret.
 */
async function opsOutput(f: SyncFixture, env: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const run = async (args: string[]) => {
    const r = await runCli([...args, "--config", f.configFile], { env });
    assert.ok(r.stdout.length + r.stderr.length > 0, `${args.join(" ")} printed something`);
    out[`${args.join(" ")}: stdout`] = r.stdout;
    out[`${args.join(" ")}: stderr`] = r.stderr;
    return r;
  };
  await run(["status"]);
  await run(["status", "--json"]);
  const list = await run(["outbox", "list", "--json"]);
  await run(["outbox", "list"]);
  const entries = (JSON.parse(list.stdout) as { entries: Array<{ id: number }> }).entries;
  assert.ok(entries.length > 0, "there are outbox entries to show");
  for (const { id } of entries) {
    await run(["outbox", "show", String(id)]);
    await run(["outbox", "show", String(id), "--json"]);
  }
  return out;
}

function crmSawToken(f: SyncFixture): boolean {
  return f.crm.requests.some((r) => r.rawBody.includes(SECRETS.crmToken));
}

test("normal operation with every secret inline: delivered, written back, no secret in log, output or state", async (t) => {
  const f = await setupSecrets(t);
  const feed = await startStatusFeedServer({ pki: f.pki, token: SECRETS.writebackToken });
  t.after(() => feed.stop());
  f.writeConfig({
    mysqlUrl: f.mysqlUrlWith(SECRETS.mysqlPassword),
    crmToken: SECRETS.crmToken,
    sections: {
      crm: { signing_secrets: [SECRETS.signingA, SECRETS.signingB] },
      writeback: {
        enabled: true,
        source: "feed",
        url: feed.url,
        token: SECRETS.writebackToken,
        ca_file: f.pki.caFile,
        poll_interval_ms: 100,
        start_from: "beginning",
      },
    },
  });
  chmodSync(f.configFile, 0o640);
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "the order delivered");
  feed.push({ order_id: id, status: "in_transit" });
  await sidecar.waitForLog((l) => l.msg === "status applied" && l["orderId"] === id, 15_000, "write-back");
  assert.equal((await sidecar.stop()).code, 0);

  assert.ok(crmSawToken(f), "the CRM received the token: the search below is meaningful");
  assert.ok(f.crm.requests[0]!.headers["webhook-signature"], "signed with the secrets");
  assert.ok(sidecar.logLines().some((l) => l.msg === "cvety-sidecar started"));
  assertNoSecrets({ ...everythingVisible(f, sidecar), ...(await opsOutput(f)) }, SECRETS);
});

test("secrets from the environment and .settings.php; CRM and feed echo the token in 422/401/400 answers", async (t) => {
  const f = await setupSecrets(t);
  // A Bitrix site root whose .settings.php holds the MySQL password (no [mysql] url).
  const root = join(f.dir, "www");
  mkdirSync(join(root, "bitrix"), { recursive: true });
  const e = f.db.endpoint;
  writeFileSync(
    join(root, "bitrix", ".settings.php"),
    `<?php
return array (
  'connections' => array (
    'value' => array (
      'default' => array (
        'className' => '\\\\Bitrix\\\\Main\\\\DB\\\\MysqliConnection',
        'host' => '${e.host}:${e.port}',
        'database' => '${f.db.name}',
        'login' => '${f.mysqlUser}',
        'password' => '${SECRETS.mysqlPassword}',
        'options' => 2.0,
      ),
    ),
    'readonly' => true,
  ),
);
`,
  );
  // A change source that answers 400 quoting the request's Authorization header.
  const echoFeed = await startHttpsJsonServer({
    pki: f.pki,
    handle: (request) => ({
      status: 400,
      body: { detail: "bad request", echo: { authorization: request.headers.authorization } },
    }),
  });
  t.after(() => echoFeed.stop());
  f.writeConfig({
    crmToken: "placeholder-overridden-by-env",
    extraToml: `[bitrix]\nroot = "${root}"\n`,
    sections: {
      writeback: {
        enabled: true,
        source: "feed",
        url: `${echoFeed.origin}/api/status-changes`,
        ca_file: f.pki.caFile,
        poll_interval_ms: 100,
      },
    },
  });
  // No [mysql] url: the credentials come from .settings.php.
  writeFileSync(f.configFile, fileText(f.configFile).replace(/^url = "mysql:.*\n/m, ""));
  // FastAPI's 422 quotes the invalid input, the token included.
  f.crm.queueResponses([
    {
      kind: "http",
      status: 422,
      body: JSON.stringify({
        detail: [
          {
            type: "missing",
            loc: ["body", "data"],
            msg: "Field required",
            input: { token: SECRETS.crmToken },
          },
        ],
      }),
    },
  ]);
  const env = {
    CVETY_SIDECAR_CRM_TOKEN: SECRETS.crmToken,
    CVETY_SIDECAR_CRM_SIGNING_SECRETS: `${SECRETS.signingA},${SECRETS.signingB}`,
    CVETY_SIDECAR_WRITEBACK_TOKEN: SECRETS.writebackToken,
  };
  const sidecar = await f.startSidecar(env);
  const dead = await createOrder(f.db.pool);
  await sidecar.waitForLog((l) => l.msg === "delivery failed" && l["orderId"] === dead && l["dead"] === true);
  f.crm.setMode({
    kind: "http",
    status: 401,
    body: JSON.stringify({ detail: "Invalid token", token: SECRETS.crmToken }),
  });
  await createOrder(f.db.pool);
  await sidecar.waitForLog((l) => l.msg === "delivery paused", 15_000, "the 401 pause");
  await sidecar.waitForLog((l) => l.msg === "write-back paused, retrying", 15_000, "the feed's 400");
  assert.equal((await sidecar.stop()).code, 0);

  assert.ok(crmSawToken(f), "the CRM received the token");
  const paused = sidecar.logLines().find((l) => l.msg === "delivery paused")!;
  assert.match(String(paused["reason"]), /HTTP 401: .*\[redacted\]/, "the echo is kept, the token is not");
  // The dead letter keeps the CRM's 422 answer for ops (outbox show), without the token.
  const ops = await opsOutput(f, env);
  assert.ok(
    Object.values(ops).some((text) => text.includes("Field required") && text.includes("[redacted]")),
    "outbox show prints the kept answer",
  );
  assertNoSecrets({ ...everythingVisible(f, sidecar), ...ops }, SECRETS);
});

test("MySQL refusing the password: the failure is logged without it", async (t) => {
  const f = await setupSecrets(t);
  const wrong = "wrongPw-S3cret-5e5e";
  f.writeConfig({ mysqlUrl: f.mysqlUrlWith(wrong), crmToken: SECRETS.crmToken });
  const sidecar = await f.startSidecar();
  const failed = await sidecar.waitForLog((l) => l.msg === "capture failed", 15_000, "capture failed");
  assert.match(String(failed["err"]), /Access denied/);
  await sidecar.stop();
  assertNoSecrets(everythingVisible(f, sidecar), { ...SECRETS, wrong });
});

test("bad configurations exit 78 without quoting a secret", async (t) => {
  const f = await setupSecrets(t);
  const base = () => {
    f.writeConfig({ mysqlUrl: f.mysqlUrlWith(SECRETS.mysqlPassword), crmToken: SECRETS.crmToken });
    return fileText(f.configFile);
  };
  const cases: Array<[string, string, NodeJS.ProcessEnv, RegExp]> = [
    ["an invalid crm.url", base().replace(/^url = "https:.*$/m, 'url = "not a url"'), {}, /crm\.url/],
    [
      "a malformed signing secret",
      `${base()}\n`.replace("[crm]\n", `[crm]\nsigning_secrets = ["x${SECRETS.signingA}"]\n`),
      {},
      /crm\.signing_secrets/,
    ],
    [
      "a mysql.url with a bad port",
      base().replace(
        /^url = "mysql:.*$/m,
        `url = "mysql://u:${encodeURIComponent(SECRETS.mysqlPassword)}@h:99999/db"`,
      ),
      {},
      /mysql\.url/,
    ],
    [
      "an unknown key next to secrets from the environment",
      base().replace("[crm]\n", "[crm]\ntokn = 1\n"),
      {
        CVETY_SIDECAR_CRM_TOKEN: SECRETS.crmToken,
        CVETY_SIDECAR_WRITEBACK_TOKEN: SECRETS.writebackToken,
        CVETY_SIDECAR_MYSQL_PASSWORD: SECRETS.mysqlPassword,
      },
      /crm\.tokn/,
    ],
    [
      "write-back enabled with a token but no url",
      `${base()}\n[writeback]\nenabled = true\ntoken = "${SECRETS.writebackToken}"\n`,
      {},
      /writeback\.url/,
    ],
  ];
  for (const [what, toml, env, key] of cases) {
    writeFileSync(f.configFile, toml);
    const r = await runCli(["run", "--config", f.configFile], { env });
    assert.equal(r.code, 78, `${what}: ${r.stderr}`);
    assert.match(r.stderr, key, what);
    assertNoSecrets({ [`stdout (${what})`]: r.stdout, [`stderr (${what})`]: r.stderr }, SECRETS);
  }
  // A secrets file others may read: refused, naming it and the fix.
  base();
  const secretsFile = join(f.dir, "secrets.env");
  writeFileSync(secretsFile, `CVETY_SIDECAR_CRM_TOKEN=${SECRETS.crmToken}\n`);
  chmodSync(secretsFile, 0o644);
  const r = await runCli(["run", "--config", f.configFile], {
    env: { CVETY_SIDECAR_SECRETS_FILE: secretsFile },
  });
  assert.equal(r.code, 78, r.stderr);
  assert.ok(r.stderr.includes(`${secretsFile} (CVETY_SIDECAR_SECRETS_FILE)`), r.stderr);
  assert.ok(r.stderr.includes(`chmod 600 ${secretsFile}`), r.stderr);
  assertNoSecrets({ stdout: r.stdout, stderr: r.stderr }, SECRETS);
  chmodSync(secretsFile, 0o600);
  const ok = await f.startSidecar({ CVETY_SIDECAR_SECRETS_FILE: secretsFile });
  assert.equal((await ok.stop()).code, 0, "0600 is accepted");
});

test("a crash (uncaught exception) and a failed start print no secret", async (t) => {
  const f = await setupSecrets(t);
  const feed = await startStatusFeedServer({ pki: f.pki, token: SECRETS.writebackToken });
  t.after(() => feed.stop());
  f.writeConfig({
    mysqlUrl: f.mysqlUrlWith(SECRETS.mysqlPassword),
    crmToken: SECRETS.crmToken,
    sections: {
      writeback: {
        enabled: true,
        source: "feed",
        url: feed.url,
        token: SECRETS.writebackToken,
        ca_file: f.pki.caFile,
      },
    },
  });
  // An exception thrown on the daemon's event loop once it runs (preloaded module; no test hook in the daemon).
  const crash = join(f.dir, "crash.mjs");
  writeFileSync(
    crash,
    'process.on("SIGUSR2", () => { throw new Error("forced crash for the secrets test"); });\n',
  );
  const sidecar: SidecarProcess = await f.startSidecar({
    NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import=${pathToFileURL(crash).href}`.trim(),
  });
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 15_000, "a delivery before the crash");
  // Thrown on the daemon's event loop, from a handler the preloaded module installed (no hook in the daemon).
  sidecar.child.kill("SIGUSR2");
  const exit = await sidecar.exited;
  assert.equal(exit.code, 1, "a crash exits 1");
  const fatal = await sidecar.waitForLog(
    (l) => l.msg === "crashed" && l.level === "fatal",
    5_000,
    "the crash line",
  );
  assert.match(JSON.stringify(fatal["err"]), /forced crash for the secrets test/);
  assertNoSecrets(everythingVisible(f, sidecar), SECRETS);

  // A start that fails after the config loaded (the state dir is a file): a stack trace on stderr.
  const blocker = join(f.dir, "not-a-dir");
  writeFileSync(blocker, "x");
  f.writeConfig({ sections: { state: { dir: blocker } } });
  const r = await runCli(["run", "--config", f.configFile]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.length > 0);
  assertNoSecrets({ stdout: r.stdout, stderr: r.stderr, "the log file": fileText(f.logFile) }, SECRETS);
});
