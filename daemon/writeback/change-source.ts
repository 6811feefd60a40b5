import type { ValidatedRow } from "./validate-change.js";

/**
 * Where CRM status changes come from ([writeback] source). A source pages
 * through the changes after a cursor; the write-back service settles each
 * row and moves the cursor only past settled rows.
 */

export type WritebackCursor =
  /**
   * Keyset position (updated_at, id) in the CRM's `orders` table; null = from the beginning.
   * notBefore: the look-back never reaches rows before this (start_from = "now").
   */
  | { source: "supabase"; updatedAt: string | null; id: string | null; notBefore?: string }
  /** The feed's opaque next_cursor; null = from the beginning. */
  | { source: "feed"; since: string | null };

export interface SourceRow {
  /** The row exactly as the source sent it: validated before anything looks at it. */
  raw: unknown;
  /** The cursor once this row (and every row before it) is settled, when a single row defines one. */
  cursorAfter?: WritebackCursor;
}

export interface SourcePage {
  rows: SourceRow[];
  /** The cursor once every row of the page is settled (the feed's next_cursor). */
  cursorAtEnd?: WritebackCursor;
}

export type StartFrom = "now" | "beginning";

export interface ChangeSource {
  readonly kind: WritebackCursor["source"];
  /** Row -> status change or rejection; never throws. */
  validate(raw: unknown): ValidatedRow;
  /** Where to begin when the state has no cursor yet. */
  initialCursor(startFrom: StartFrom): Promise<WritebackCursor>;
  /** Pages of changes after `cursor`, fetched one at a time as the caller asks, until a short page. */
  pages(cursor: WritebackCursor, limit: number): AsyncGenerator<SourcePage>;
  close(): Promise<void>;
}
