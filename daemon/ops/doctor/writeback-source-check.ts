import type { Config } from "../../config/config-schema.js";
import { describeError } from "../../errors.js";
import type { ChangeSource, WritebackCursor } from "../../writeback/change-source.js";
import { type CheckResult, fail, ok } from "./check-result.js";

/**
 * With write-back enabled: the source answers one page from the beginning
 * (a read, never a change). Its errors already name the HTTP status and the
 * origin without the token (source-http-client.ts).
 */
export async function checkWritebackSource(config: Config, source: ChangeSource): Promise<CheckResult> {
  const name = "writeback source";
  const where = `${config.writeback.source} at ${config.writeback.url ? new URL(config.writeback.url).origin : "?"}`;
  const start: WritebackCursor =
    source.kind === "supabase"
      ? { source: "supabase", updatedAt: null, id: null }
      : { source: "feed", since: null };
  try {
    for await (const page of source.pages(start, 1)) {
      return ok(name, `${where} answers (${page.rows.length === 0 ? "no changes yet" : "changes readable"})`);
    }
    return ok(name, `${where} answers`);
  } catch (err) {
    const status = (err as { httpStatus?: number }).httpStatus;
    return fail(
      name,
      `${where}: ${describeError(err)}`,
      status === 401 || status === 403
        ? "set [writeback] token (or CVETY_SIDECAR_WRITEBACK_TOKEN) to the source's key"
        : "check [writeback] url, [writeback] ca_file and the network; write-back pauses until it answers",
    );
  }
}
