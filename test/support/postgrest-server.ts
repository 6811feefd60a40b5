/**
 * A PostgREST stand-in serving the CRM's Supabase `orders` table over real
 * HTTPS (`GET /rest/v1/orders`), with the parts of PostgREST's query language
 * the sidecar uses: `select`, `order` (asc/desc, several columns), `limit`,
 * column filters (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `is`, `not.`) and
 * `or=(...)`/`and(...)` logic trees with double-quoted values. Timestamps
 * compare as instants to the microsecond, like timestamptz; anything else it
 * does not understand is answered 400, as PostgREST would, so a sidecar bug
 * shows up instead of passing silently. Both `apikey` and
 * `Authorization: Bearer` must carry the key.
 */
import { randomUUID } from "node:crypto";
import { type HttpsJsonServer, type JsonAnswer, startHttpsJsonServer } from "./https-json-server.js";

export interface CrmOrderRow {
  id: string;
  bitrix_order_id: number | null;
  status: string;
  /** PostgREST's text form: `2026-01-02T03:04:05.123456+00:00`. */
  updated_at: string;
  [column: string]: unknown;
}

export interface PostgrestServer {
  /** The Supabase project URL (what `[writeback] url` holds). */
  readonly url: string;
  readonly key: string;
  readonly rows: CrmOrderRow[];
  readonly requestCount: number;
  /**
   * What the CRM does on a status change (and on every forward delivery):
   * upsert the order's row by bitrix_order_id with a new updated_at.
   */
  setStatus(bitrixOrderId: number, status: string, opts?: { updatedAt?: Date }): CrmOrderRow;
  /** Puts any row in the table as is (hostile rows, odd types). */
  insertRaw(row: Record<string, unknown>): void;
  /** Answer every request with this HTTP status until cleared (undefined). */
  failWith(status: number | undefined): void;
  stop(): Promise<void>;
}

const COLUMN_TYPES: Record<string, "timestamp" | "number" | "text"> = {
  updated_at: "timestamp",
  bitrix_order_id: "number",
};

export async function startPostgrestServer(opts: {
  pki: { certPem: string; keyPem: string };
  key: string;
  port?: number;
}): Promise<PostgrestServer> {
  const rows: CrmOrderRow[] = [];
  let failure: number | undefined;
  let lastMicros = 0n;

  function handle(headers: Record<string, string | string[] | undefined>, url: URL): JsonAnswer {
    if (failure !== undefined) return { status: failure, body: { message: "stand-in failure" } };
    if (url.pathname !== "/rest/v1/orders") {
      return { status: 404, body: { code: "PGRST205", message: `no table for ${url.pathname}` } };
    }
    if (headers["apikey"] !== opts.key || headers["authorization"] !== `Bearer ${opts.key}`) {
      return { status: 401, body: { message: "Invalid API key" } };
    }
    try {
      return { status: 200, body: query(rows, url.searchParams) };
    } catch (err) {
      return { status: 400, body: { code: "PGRST100", message: (err as Error).message } };
    }
  }

  const server: HttpsJsonServer = await startHttpsJsonServer({
    pki: opts.pki,
    ...(opts.port === undefined ? {} : { port: opts.port }),
    handle: (request, url) => handle(request.headers, url),
  });

  return {
    url: server.origin,
    key: opts.key,
    rows,
    get requestCount() {
      return server.requestCount;
    },
    setStatus(bitrixOrderId, status, o = {}) {
      let micros = BigInt((o.updatedAt ?? new Date()).getTime()) * 1000n;
      // Two updates in the same millisecond still get distinct, increasing times.
      if (o.updatedAt === undefined && micros <= lastMicros) micros = lastMicros + 1n;
      if (o.updatedAt === undefined) lastMicros = micros;
      const updatedAt = formatMicros(micros);
      let row = rows.find((r) => r.bitrix_order_id === bitrixOrderId);
      if (row) {
        row.status = status;
        row.updated_at = updatedAt;
      } else {
        row = { id: randomUUID(), bitrix_order_id: bitrixOrderId, status, updated_at: updatedAt };
        rows.push(row);
      }
      return { ...row };
    },
    insertRaw(row) {
      rows.push(row as CrmOrderRow);
    },
    failWith(status) {
      failure = status;
    },
    stop: () => server.stop(),
  };
}

function query(table: CrmOrderRow[], params: URLSearchParams): Record<string, unknown>[] {
  let selected = table.slice();
  let order: Array<{ column: string; desc: boolean }> = [];
  let limit = Number.POSITIVE_INFINITY;
  let columns: string[] | undefined;
  for (const [name, value] of params) {
    if (name === "select") columns = value.split(",");
    else if (name === "limit") limit = Number(value);
    else if (name === "order") {
      order = value.split(",").map((part) => {
        const [column, direction = "asc"] = part.split(".");
        if (direction !== "asc" && direction !== "desc") throw new Error(`bad order ${part}`);
        return { column: column!, desc: direction === "desc" };
      });
    } else if (name === "or" || name === "and") {
      const test = logicTree(name, value);
      selected = selected.filter(test);
    } else {
      const test = condition(name, value);
      selected = selected.filter(test);
    }
  }
  selected.sort((a, b) => {
    for (const { column, desc } of order) {
      const c = compareValues(column, a[column], b[column]);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
  return selected
    .slice(0, limit)
    .map((row) => (columns ? Object.fromEntries(columns.map((c) => [c, row[c] ?? null])) : { ...row }));
}

type RowTest = (row: CrmOrderRow) => boolean;

/** `(a.gt.1,and(b.eq.2,c.lt."x"))` under `or` or `and`. */
function logicTree(kind: string, text: string): RowTest {
  if (!text.startsWith("(") || !text.endsWith(")")) throw new Error(`bad logic tree ${text}`);
  const parts = splitTopLevel(text.slice(1, -1)).map((part): RowTest => {
    const nested = /^(and|or)(\(.*\))$/s.exec(part);
    if (nested) return logicTree(nested[1]!, nested[2]!);
    const dot = part.indexOf(".");
    if (dot <= 0) throw new Error(`bad condition ${part}`);
    return condition(part.slice(0, dot), part.slice(dot + 1));
  });
  return kind === "or" ? (row) => parts.some((p) => p(row)) : (row) => parts.every((p) => p(row));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === "\\") {
        current += ch + (text[++i] ?? "");
        continue;
      }
      if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** `column` with `op.value` (`not.is.null`, `gte.2026-...`, `eq."x,y"`). */
function condition(column: string, opAndValue: string): RowTest {
  let negate = false;
  let rest = opAndValue;
  if (rest.startsWith("not.")) {
    negate = true;
    rest = rest.slice(4);
  }
  const dot = rest.indexOf(".");
  if (dot <= 0) throw new Error(`bad filter ${column}=${opAndValue}`);
  const op = rest.slice(0, dot);
  let value = rest.slice(dot + 1);
  if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, "$1");
  const test = (row: CrmOrderRow): boolean => {
    const cell = row[column];
    if (op === "is") {
      if (value === "null") return cell === null || cell === undefined;
      throw new Error(`unsupported is.${value}`);
    }
    if (cell === null || cell === undefined) return false;
    const c = compareValues(column, cell, value);
    switch (op) {
      case "eq":
        return c === 0;
      case "neq":
        return c !== 0;
      case "gt":
        return c > 0;
      case "gte":
        return c >= 0;
      case "lt":
        return c < 0;
      case "lte":
        return c <= 0;
      default:
        throw new Error(`unsupported operator ${op}`);
    }
  };
  return negate ? (row) => !test(row) : test;
}

function compareValues(column: string, a: unknown, b: unknown): number {
  // PostgreSQL sorts NULLs last in ascending order.
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  const type = COLUMN_TYPES[column] ?? "text";
  if (type === "timestamp") {
    const x = toMicros(String(a));
    const y = toMicros(String(b));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (type === "number") return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Parsed once per distinct text: a 5,000-row sort compares the same values many times. */
const microsCache = new Map<string, bigint>();

function toMicros(text: string): bigint {
  let micros = microsCache.get(text);
  if (micros === undefined) {
    micros = parseMicros(text);
    if (microsCache.size > 100_000) microsCache.clear();
    microsCache.set(text, micros);
  }
  return micros;
}

function parseMicros(text: string): bigint {
  const m = /^(.*?T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})?$/.exec(text.replace(" ", "T"));
  if (!m) throw new Error(`invalid input syntax for type timestamp with time zone: "${text}"`);
  const ms = Date.parse(`${m[1]}${m[3] ?? "Z"}`);
  if (Number.isNaN(ms)) throw new Error(`invalid input syntax for type timestamp with time zone: "${text}"`);
  return BigInt(ms) * 1000n + BigInt((m[2] ?? "").padEnd(6, "0"));
}

function formatMicros(micros: bigint): string {
  const ms = Number(micros / 1000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros % 1_000_000n).padStart(6, "0")}+00:00`;
}
