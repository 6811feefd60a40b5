import { outboxSnapshotOf } from "../capture/build-order-data.js";
import { readSnapshots } from "../capture/read-snapshots.js";
import type { Logger } from "../log/create-logger.js";
import type { MysqlPool } from "../mysql/create-mysql-pool.js";
import type { OutboxStore } from "../outbox/outbox-store.js";

/**
 * Bitrix won a conflict: queue the order's current snapshot for delivery
 * (reason "conflict", even if that exact snapshot was delivered before), so
 * the CRM learns Bitrix's status. An order being saved right now is left to
 * capture, which sends that save anyway.
 */
export async function queueBitrixStateForCrm(
  deps: { mysql: MysqlPool; outbox: OutboxStore; log: Logger; onEnqueued: () => void },
  orderId: number,
): Promise<void> {
  const { snapshots } = await readSnapshots(deps.mysql, [orderId]);
  const [snapshot] = snapshots;
  if (!snapshot) {
    deps.log.debug({ component: "writeback", orderId }, "conflict: order is being saved, capture sends it");
    return;
  }
  const [outcome] = deps.outbox.enqueue([outboxSnapshotOf(snapshot)], "conflict", { force: true });
  if (outcome?.outcome === "enqueued" || outcome?.outcome === "replaced") deps.onEnqueued();
  deps.log.info(
    {
      component: "writeback",
      orderId,
      version: snapshot.version,
      outboxId: outcome?.outboxId,
      queued: outcome?.outcome,
    },
    "conflict: Bitrix's status queued for the CRM",
  );
}
