import type { ChangeSource, SourcePage, StartFrom, WritebackCursor } from "./change-source.js";
import { describeJsonType, type SourceHttpClient, WritebackSourceError } from "./source-http-client.js";
import { type ValidatedRow, validateFeedChange } from "./validate-change.js";

/**
 * A CRM that publishes its status changes itself (CONTRACT.md §2):
 *   GET <feed_url>?since=<cursor>&limit=<n>   Authorization: Bearer <token>
 *   -> {"changes":[{"id","order_id","status","changed_at"}], "next_cursor":"<opaque>"}
 * The cursor is opaque: it moves to next_cursor once the whole page is
 * settled; a page re-read after a failure is recognised by change id.
 */
export class FeedSource implements ChangeSource {
  readonly kind = "feed" as const;
  private readonly url: URL;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly http: SourceHttpClient,
    opts: { url: string; token: string },
  ) {
    this.url = new URL(opts.url);
    this.headers = { authorization: `Bearer ${opts.token}` };
  }

  validate(raw: unknown): ValidatedRow {
    return validateFeedChange(raw);
  }

  /** `now`: page to the end of the feed without applying anything; later changes are applied. */
  async initialCursor(startFrom: StartFrom): Promise<WritebackCursor> {
    let since: string | null = null;
    if (startFrom === "now") {
      for await (const page of this.pages({ source: "feed", since: null }, 1000)) {
        if (page.cursorAtEnd?.source === "feed") since = page.cursorAtEnd.since;
      }
    }
    return { source: "feed", since };
  }

  async *pages(cursor: WritebackCursor, limit: number): AsyncGenerator<SourcePage> {
    let since = cursor.source === "feed" ? cursor.since : null;
    for (;;) {
      const { changes, next } = await this.fetch(since, limit);
      yield {
        rows: changes.map((raw) => ({ raw })),
        ...(next === null ? {} : { cursorAtEnd: { source: "feed", since: next } }),
      };
      if (changes.length < limit || next === null || next === since) return;
      since = next;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async fetch(
    since: string | null,
    limit: number,
  ): Promise<{ changes: unknown[]; next: string | null }> {
    const url = new URL(this.url);
    if (since !== null) url.searchParams.set("since", since);
    url.searchParams.set("limit", String(limit));
    const body = await this.http.getJson(`${url.pathname}${url.search}`, this.headers);
    const answer = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as {
      changes?: unknown;
      next_cursor?: unknown;
    };
    const next = answer.next_cursor;
    if (
      !Array.isArray(answer.changes) ||
      !(typeof next === "string" || next === null || next === undefined)
    ) {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_FORMAT",
        `${this.url.origin}${this.url.pathname} answered ${describeJsonType(body)} that is not {"changes": [...], "next_cursor": "..."}`,
      );
    }
    if (answer.changes.length > 0 && typeof next !== "string") {
      throw new WritebackSourceError(
        "E_WRITEBACK_SOURCE_FORMAT",
        `${this.url.origin}${this.url.pathname} sent changes without a next_cursor: cannot page past them`,
      );
    }
    return { changes: answer.changes, next: typeof next === "string" ? next : null };
  }
}
