import type { ConfigFile } from "../config/config-schema.js";
import { ConfigError } from "../errors.js";
import type { ChangeSource } from "./change-source.js";
import { FeedSource } from "./feed-source.js";
import { SourceHttpClient } from "./source-http-client.js";
import { SupabaseSource } from "./supabase-source.js";

export type ChangeSourceSettings = Pick<
  ConfigFile["writeback"],
  "source" | "url" | "token" | "ca_file" | "connect_timeout_ms" | "request_timeout_ms" | "lookback_s"
>;

/** The [writeback] source the config names, with its HTTPS client. */
export function createChangeSource(wb: ChangeSourceSettings): ChangeSource {
  // The loader requires both when write-back is enabled; this guards other callers.
  if (wb.url === undefined || wb.token === undefined) {
    const key = wb.url === undefined ? "writeback.url" : "writeback.token";
    throw new ConfigError(`${key}: required for write-back`, { key });
  }
  const http = new SourceHttpClient({
    url: wb.url,
    caFile: wb.ca_file,
    connectTimeoutMs: wb.connect_timeout_ms,
    requestTimeoutMs: wb.request_timeout_ms,
  });
  return wb.source === "supabase"
    ? new SupabaseSource(http, { url: wb.url, token: wb.token, lookbackS: wb.lookback_s })
    : new FeedSource(http, { url: wb.url, token: wb.token });
}
