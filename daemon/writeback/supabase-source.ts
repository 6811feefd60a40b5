import type { ChangeSource, SourcePage, StartFrom, WritebackCursor } from "./change-source.js";
import { compareCrmTimestamps, parseCrmTimestamp, shiftCrmTimestamp } from "./crm-timestamp.js";
import { describeJsonType, type SourceHttpClient, WritebackSourceError } from "./source-http-client.js";
import { type ValidatedRow, validateSupabaseRow } from "./validate-change.js";

/**
 * The CRM as it is (CONTRACT.md §2): it keeps no queue of status changes,
 * only `orders` rows with `bitrix_order_id`, `status` and `updated_at`. We
 * read them through PostgREST in keyset order (updated_at, id):
 *   GET <url>/rest/v1/orders?select=id,bitrix_order_id,status,updated_at
 *       &bitrix_order_id=not.is.null&order=updated_at.asc,id.asc&limit=<n>
 *       &or=(updated_at.gt."<t>",and(updated_at.eq."<t>",id.gt."<id>"))
 * with headers `apikey` and `Authorization: Bearer`, both the project key.
 *
 * The CRM stamps updated_at before its UPDATE commits, so a row can become
 * visible after rows with a later updated_at: each poll starts `lookbackS`
 * before the cursor (re-read rows are recognised and skipped).
 */

type SupabaseCursor = Extract<WritebackCursor, { source: "supabase" }>;

const SELECT = "id,bitrix_order_id,status,updated_at";

export class SupabaseSource implements ChangeSource {
  readonly kind = "supabase" as const;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly lookbackS: number;

  constructor(
    private readonly http: SourceHttpClient,
    opts: { url: string; token: string; lookbackS: number },
  ) {
    const base = new URL(opts.url).pathname.replace(/\/+$/, "");
    // `url` is the project URL (https://x.supabase.co); a URL that already ends in /rest/v1 works too.
    this.path = `${base.endsWith("/rest/v1") ? base : `${base}/rest/v1`}/orders`;
    this.headers = { apikey: opts.token, authorization: `Bearer ${opts.token}` };
    this.lookbackS = opts.lookbackS;
  }

  validate(raw: unknown): ValidatedRow {
    return validateSupabaseRow(raw);
  }

  /** `now`: just after the newest row there is now (older rows are history, not changes to apply). */
  async initialCursor(startFrom: StartFrom): Promise<WritebackCursor> {
    if (startFrom === "beginning") return { source: "supabase", updatedAt: null, id: null };
    const [newest] = await this.fetchRows(
      new URLSearchParams({
        select: "id,updated_at",
        bitrix_order_id: "not.is.null",
        order: "updated_at.desc,id.desc",
        limit: "1",
      }),
    );
    if (newest === undefined) return { source: "supabase", updatedAt: null, id: null };
    const position = positionOf(newest);
    if (position === undefined) throw rowWithoutPosition();
    return { source: "supabase", ...position, notBefore: position.updatedAt };
  }

  async *pages(cursor: WritebackCursor, limit: number): AsyncGenerator<SourcePage> {
    const from =
      cursor.source === "supabase" ? cursor : { source: "supabase" as const, updatedAt: null, id: null };
    let keyset = this.scanStart(from);
    const notBefore = from.notBefore === undefined ? {} : { notBefore: from.notBefore };
    for (;;) {
      const query = new URLSearchParams({
        select: SELECT,
        bitrix_order_id: "not.is.null",
        order: "updated_at.asc,id.asc",
        limit: String(limit),
      });
      if (keyset.length === 2) query.append(keyset[0]!, keyset[1]!);
      const rows = await this.fetchRows(query);
      yield {
        rows: rows.map((raw) => {
          const position = positionOf(raw);
          return position !== undefined && isAfter(position, from)
            ? { raw, cursorAfter: { source: "supabase", ...position, ...notBefore } }
            : { raw };
        }),
      };
      if (rows.length < limit) return;
      const last = positionOf(rows.at(-1));
      if (last === undefined) throw rowWithoutPosition();
      keyset = [
        "or",
        `(updated_at.gt."${last.updatedAt}",and(updated_at.eq."${last.updatedAt}",id.gt."${last.id}"))`,
      ];
    }
  }

  /**
   * The first page's filter: from `lookbackS` before the cursor, but only
   * after notBefore (the newest row when write-back first started, and every
   * row with its updated_at, which sort before it); none = from the first row.
   */
  private scanStart(cursor: SupabaseCursor): string[] {
    const at = cursor.updatedAt === null ? undefined : parseCrmTimestamp(cursor.updatedAt);
    if (at === undefined) return [];
    const back = shiftCrmTimestamp(at, -this.lookbackS);
    const floor = cursor.notBefore === undefined ? undefined : parseCrmTimestamp(cursor.notBefore);
    if (floor !== undefined && compareCrmTimestamps(floor, parseCrmTimestamp(back)!) >= 0) {
      return ["updated_at", `gt.${cursor.notBefore}`];
    }
    return ["updated_at", `gte.${back}`];
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async fetchRows(query: URLSearchParams): Promise<unknown[]> {
    const body = await this.http.getJson(`${this.path}?${query.toString()}`, this.headers);
    if (!Array.isArray(body)) {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_FORMAT",
        `${this.http.origin}${this.path} answered ${describeJsonType(body)}, not an array of rows (is [writeback] url the Supabase project URL?)`,
      );
    }
    return body;
  }
}

interface Position {
  updatedAt: string;
  id: string;
}

/** The keyset position of a row, when its updated_at and id are usable. */
function positionOf(raw: unknown): Position | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const { updated_at: updatedAt, id } = raw as { updated_at?: unknown; id?: unknown };
  if (typeof updatedAt !== "string" || typeof id !== "string") return undefined;
  if (parseCrmTimestamp(updatedAt) === undefined || id.length === 0 || id.length > 200) return undefined;
  return { updatedAt, id };
}

/** (updated_at, id) strictly after the cursor; uuids order like their lower-case text. */
function isAfter(p: Position, cursor: SupabaseCursor): boolean {
  if (cursor.updatedAt === null || cursor.id === null) return true;
  const a = parseCrmTimestamp(p.updatedAt)!;
  const b = parseCrmTimestamp(cursor.updatedAt);
  if (b === undefined) return true;
  const byTime = compareCrmTimestamps(a, b);
  return byTime > 0 || (byTime === 0 && p.id > cursor.id);
}

function rowWithoutPosition(): WritebackSourceError {
  return new WritebackSourceError(
    "E_WRITEBACK_SOURCE_FORMAT",
    "the orders table returned a row without a usable id/updated_at: cannot page past it",
  );
}
