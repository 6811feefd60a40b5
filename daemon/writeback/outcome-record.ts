import type { ApplyResult } from "./apply-status.js";
import type { PlannedStatusWrite } from "./plan-status-write.js";
import type { WritebackRecord } from "./writeback-store.js";

/** A settled change: its record, and for a dry run the write it did not make. */
export interface Settled {
  record: WritebackRecord;
  write?: PlannedStatusWrite;
}

/** The outcome record of a change apply-status decided, the reason put in words. */
export function recordOf(
  result: ApplyResult,
  common: Omit<WritebackRecord, "outcome">,
  crmChangedAt: string,
): WritebackRecord {
  switch (result.outcome) {
    case "applied":
    case "would_apply":
      return {
        ...common,
        outcome: result.outcome,
        oldStatusId: result.write.oldStatusId,
        version: result.write.order.VERSION,
        dateUpdate: result.write.order.DATE_UPDATE,
      };
    case "unchanged":
      return { ...common, outcome: "unchanged" };
    case "conflict": {
      const d = result.decision;
      const reason =
        d.cause === "bitrix_newer"
          ? `Bitrix set ${result.bitrixStatusId} at ${d.dateStatus}, after the CRM's change (${crmChangedAt} Bitrix time): Bitrix wins`
          : `older than the CRM change of ${new Date(d.appliedCrmTimeUs / 1000).toISOString()} already written (${result.bitrixStatusId})`;
      return { ...common, outcome: "conflict", oldStatusId: result.bitrixStatusId, reason };
    }
    case "rejected":
      return { ...common, outcome: "rejected", reason: result.reason };
  }
}
