import type { TestContext } from "node:test";
import type { TomlTestValue } from "./sidecar-process.js";
import { type StatusFeedServer, startStatusFeedServer } from "./status-feed-server.js";
import type { SyncFixture } from "./sync-fixture.js";

export const TEST_FEED_TOKEN = "test-feed-token-abcdef0123456789";

/**
 * A status feed for a sync fixture, stopped with the test, and the `[writeback]` section that reads it:
 * the feed source over the fixture's CA, polled every 100 ms from the beginning. `extra` adds or
 * overrides keys (e.g. `notify_customer`).
 */
export async function startFeedWriteback(
  t: TestContext,
  f: Pick<SyncFixture, "pki">,
  extra: Record<string, TomlTestValue> = {},
): Promise<{ feed: StatusFeedServer; writeback: Record<string, TomlTestValue> }> {
  const feed = await startStatusFeedServer({ pki: f.pki, token: TEST_FEED_TOKEN });
  t.after(() => feed.stop());
  return {
    feed,
    writeback: {
      enabled: true,
      source: "feed",
      url: feed.url,
      token: TEST_FEED_TOKEN,
      ca_file: f.pki.caFile,
      poll_interval_ms: 100,
      start_from: "beginning",
      ...extra,
    },
  };
}
