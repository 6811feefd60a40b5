/**
 * The fake CRM as its own process, for the benchmark (so the CRM's CPU is not the
 * sidecar's):
 *
 *   node dist/test/support/crm-server-main.js --token T [--port P] --pki-dir D [--path /x] [--record]
 *
 * Creates a test CA and server certificate in D, then prints ONE JSON line to stdout,
 * `{"url":..., "caFile":..., "port":..., "controlUrl":...}`, and serves until SIGTERM or
 * SIGINT. The plain-HTTP control URL (127.0.0.1 only) answers `GET /stats` with the
 * counters, and takes `POST /mode` (a CrmMode as JSON), `POST /queue` (an array of
 * modes) and `POST /reset`.
 */
import { createServer, type IncomingMessage } from "node:http";
import { parseArgs } from "node:util";
import { type CrmMode, type CrmServer, startCrmServer } from "./crm-server.js";
import { createTestPki } from "./test-pki.js";

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: crm-server-main --token T --pki-dir D [--port P] [--path /webhooks/bitrix/order] [--record]\n`,
  );
  process.exit(2);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

async function startControl(crm: CrmServer): Promise<string> {
  const control = createServer((request, response) => {
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(value));
    };
    readBody(request)
      .then((body) => {
        const route = `${request.method} ${request.url}`;
        if (route === "GET /stats") return reply(200, crm.stats);
        if (route === "POST /mode") crm.setMode(body as CrmMode);
        else if (route === "POST /queue") crm.queueResponses(body as CrmMode[]);
        else if (route === "POST /reset") crm.reset();
        else return reply(404, { detail: "Not Found" });
        return reply(200, { ok: true });
      })
      .catch((err: Error) => reply(400, { detail: err.message }));
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  control.unref();
  const address = control.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

async function main(): Promise<void> {
  let values: { token?: string; port?: string; "pki-dir"?: string; path?: string; record?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        token: { type: "string" },
        port: { type: "string" },
        "pki-dir": { type: "string" },
        path: { type: "string" },
        record: { type: "boolean" },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.token === undefined || values.token === "") usage("--token is required");
  if (values["pki-dir"] === undefined) usage("--pki-dir is required");
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a TCP port: ${values.port}`);

  const pki = await createTestPki(values["pki-dir"]);
  const crm = await startCrmServer({
    token: values.token,
    pki,
    port,
    ...(values.path === undefined ? {} : { path: values.path }),
    // A long benchmark would otherwise keep every request in memory.
    record: values.record ?? false,
  });
  const controlUrl = await startControl(crm);
  process.stdout.write(
    `${JSON.stringify({ url: crm.url, caFile: pki.caFile, port: crm.port, controlUrl })}\n`,
  );

  const shutdown = () => {
    crm.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`crm-server-main: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
