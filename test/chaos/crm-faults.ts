/**
 * Switches the CRM stand-in's (and the status feed's) faults on and off:
 * a 500 storm answers a share of requests with 500, an outage drops every
 * connection (and the feed answers 503, it is the same CRM), the slow
 * stretch answers a share of requests later than the daemon waits. A
 * request the daemon gave up on is still processed by the CRM when its
 * answer is finally written, as a real CRM would.
 */
import type { CrmServer } from "../support/crm-server.js";
import type { StatusFeedServer } from "../support/status-feed-server.js";
import { CRM_500_SHARE, CRM_SLOW_SHARE, type FaultKind } from "./fault-schedule.js";
import type { Random } from "./seeded-random.js";

export class CrmFaults {
  private storm = false;
  private slow = false;
  private outage = false;

  constructor(
    private readonly crm: CrmServer,
    private readonly feed: StatusFeedServer,
    private readonly random: Random,
    private readonly slowDelayMs: number,
  ) {
    crm.onRequest = () => {
      if (this.outage) return;
      if (this.storm && this.random.chance(CRM_500_SHARE)) {
        crm.queueResponses([{ kind: "http", status: 500 }]);
      } else if (this.slow && this.random.chance(CRM_SLOW_SHARE)) {
        crm.queueResponses([{ kind: "slow", delayMs: this.slowDelayMs }]);
      }
    };
  }

  set(kind: Exclude<FaultKind, "mysql-cut">, on: boolean): void {
    if (kind === "crm-500") this.storm = on;
    else if (kind === "crm-slow") this.slow = on;
    else {
      this.outage = on;
      this.crm.setMode(on ? { kind: "outage" } : { kind: "ok" });
      this.feed.failWith(on ? 503 : undefined);
    }
  }

  allOff(): void {
    this.set("crm-500", false);
    this.set("crm-slow", false);
    this.set("crm-outage", false);
  }
}
