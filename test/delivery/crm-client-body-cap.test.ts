/**
 * The CRM client reads at most MAX_ANSWER_BYTES of an answer and then closes
 * the connection, against a real HTTPS server that streams 50 MB: memory and
 * the delivery slot are not held by a hostile or broken endpoint.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { classifyResponse } from "../../daemon/delivery/classify-response.js";
import { CrmClient, MAX_ANSWER_BYTES } from "../../daemon/delivery/crm-client.js";
import { closeServer, listenOnLoopback } from "../support/listen-on-loopback.js";
import { createTestPki } from "../support/test-pki.js";

const STREAM_BYTES = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, "x");

interface StreamResult {
  written: number;
  /** True when the client hung up before the server finished its 50 MB. */
  cutOff: boolean;
}

/** An HTTPS server whose every answer is `prefix` followed by up to 50 MB of `x`, sent with back-pressure. */
async function startStreamingServer(prefix: string, t: { after(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), "cvety-bodycap-"));
  const pki = await createTestPki(dir);
  const results: Promise<StreamResult>[] = [];
  const server = createServer(
    { cert: pki.certPem, key: pki.keyPem },
    (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      results.push(
        new Promise<StreamResult>((resolve) => {
          let written = 0;
          let done = false;
          const finish = (cutOff: boolean) => {
            if (done) return;
            done = true;
            resolve({ written, cutOff });
          };
          res.on("close", () => finish(written < STREAM_BYTES));
          res.writeHead(200, { "content-type": "application/json" });
          res.write(prefix);
          const pump = () => {
            while (written < STREAM_BYTES && !res.destroyed) {
              written += CHUNK.length;
              if (!res.write(CHUNK)) {
                res.once("drain", pump);
                return;
              }
            }
            if (!res.destroyed) res.end(() => finish(false));
          };
          pump();
        }),
      );
    },
  );
  const { port, sockets } = await listenOnLoopback(server);
  t.after(async () => {
    await closeServer(server, sockets);
    rmSync(dir, { recursive: true, force: true });
  });
  const client = new CrmClient({
    url: `https://127.0.0.1:${port}/webhooks/bitrix/order`,
    caFile: pki.caFile,
    connectTimeoutMs: 5_000,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    connections: 1,
  });
  t.after(() => client.close());
  return { client, results };
}

test("a 50 MB answer is cut off after 64 KB and the connection is closed, not read to the end", async (t) => {
  const { client, results } = await startStreamingServer('{"status":"success","pad":"', t);
  const rssBefore = process.memoryUsage().rss;
  const answer = await client.post({ "content-type": "application/json" }, "{}");
  assert.equal(answer.status, 200);
  assert.equal(answer.truncated, true);
  assert.equal(Buffer.byteLength(answer.body), MAX_ANSWER_BYTES);
  assert.equal(MAX_ANSWER_BYTES, 64 * 1024);
  const served = await results[0]!;
  assert.equal(served.cutOff, true, `the server could send all ${served.written} bytes`);
  assert.ok(served.written < STREAM_BYTES / 2, `the server wrote ${served.written} bytes before the cut`);
  // Not a timing or a tight memory bound: 50 MB read into memory would show as far more than 40 MB.
  assert.ok(process.memoryUsage().rss - rssBefore < 40 * 1024 * 1024, "the answer was not buffered");
  // A cut-off success is not trusted as one: the entry is sent again.
  const c = classifyResponse(answer.status, answer.headers, answer.body, Date.now(), {
    truncated: answer.truncated === true,
  });
  assert.equal(c.kind, "retry");
  assert.match((c as { reason: string }).reason, /too long, cut off/);
});

test("after a cut-off answer the client still works (a fresh connection)", async (t) => {
  const { client, results } = await startStreamingServer("garbage ", t);
  const first = await client.post({}, "{}");
  const second = await client.post({}, "{}");
  assert.equal(first.truncated, true);
  assert.equal(second.truncated, true);
  assert.equal(results.length, 2);
  for (const r of await Promise.all(results)) assert.equal(r.cutOff, true);
});
