/**
 * The CRM status-change feed of CONTRACT.md §2 over real HTTPS, for tests, the
 * benchmark and the demo:
 *   GET <path>?since=<cursor>&limit=<n>   Authorization: Bearer <token>
 *   -> {"changes":[{"id","order_id","status","changed_at"}],"next_cursor":"<opaque>"}
 * Use: `const feed = await startStatusFeedServer({ pki, token })`, then
 * `feed.push({ order_id, status })` for each CRM change, `feed.url` as
 * `[writeback] url`, and `feed.stop()`.
 */
import { type JsonAnswer, startHttpsJsonServer } from "./https-json-server.js";

export interface FeedChange {
  id: string;
  order_id: number;
  status: string;
  changed_at: string;
}

export interface StatusFeedServer {
  /** The feed URL (what `[writeback] url` holds). */
  readonly url: string;
  readonly token: string;
  /** Everything pushed, in feed order (raw rows included as given). */
  readonly changes: unknown[];
  readonly requestCount: number;
  /** Appends a CRM change; id and changed_at (now) are filled when absent. */
  push(change: Partial<FeedChange> & { order_id: number; status: string }): FeedChange;
  /** Appends any value as a change, as is (hostile and malformed rows). */
  pushRaw(row: unknown): void;
  /** Answer every request with this HTTP status until cleared (undefined). */
  failWith(status: number | undefined): void;
  stop(): Promise<void>;
}

export const DEFAULT_FEED_PATH = "/api/status-changes";
const CURSOR_PREFIX = "pos-";

export async function startStatusFeedServer(opts: {
  pki: { certPem: string; keyPem: string };
  token: string;
  port?: number;
  path?: string;
}): Promise<StatusFeedServer> {
  const path = opts.path ?? DEFAULT_FEED_PATH;
  const changes: unknown[] = [];
  let failure: number | undefined;
  let seq = 0;

  function handle(authorization: string | undefined, url: URL): JsonAnswer {
    if (failure !== undefined) return { status: failure, body: { detail: "stand-in failure" } };
    if (url.pathname !== path) return { status: 404, body: { detail: "Not Found" } };
    if (authorization !== `Bearer ${opts.token}`) return { status: 401, body: { detail: "Invalid token" } };
    const since = url.searchParams.get("since");
    const limit = Number(url.searchParams.get("limit") ?? "100");
    // The cursor is opaque to the client; here it is the position after the last change sent.
    const start = since === null ? 0 : Number(since.slice(CURSOR_PREFIX.length));
    if (since !== null && (!since.startsWith(CURSOR_PREFIX) || !Number.isInteger(start) || start < 0)) {
      return { status: 400, body: { detail: `bad cursor ${since}` } };
    }
    if (!Number.isInteger(limit) || limit < 1) return { status: 400, body: { detail: "bad limit" } };
    const page = changes.slice(start, start + limit);
    return { status: 200, body: { changes: page, next_cursor: `${CURSOR_PREFIX}${start + page.length}` } };
  }

  const server = await startHttpsJsonServer({
    pki: opts.pki,
    ...(opts.port === undefined ? {} : { port: opts.port }),
    handle: (request, url) => handle(request.headers.authorization, url),
  });

  return {
    url: `${server.origin}${path}`,
    token: opts.token,
    changes,
    get requestCount() {
      return server.requestCount;
    },
    push(change) {
      const full: FeedChange = {
        id: change.id ?? `chg-${++seq}`,
        order_id: change.order_id,
        status: change.status,
        changed_at: change.changed_at ?? new Date().toISOString(),
      };
      changes.push(full);
      return full;
    },
    pushRaw(row) {
      changes.push(row);
    },
    failWith(status) {
      failure = status;
    },
    stop: () => server.stop(),
  };
}
