/**
 * The people of the demo: customers placing orders and a Bitrix manager marking
 * one paid (written the way Bitrix writes them, by the test harness's
 * createOrder()/saveOrder(): RUNNING='Y', children, DATE_UPDATE last), and a
 * CRM manager moving orders along in the CRM (a row in the status feed that the
 * daemon's write-back reads).
 */

import { SHOP } from "../../test/support/bitrix-shop.js";
import { createOrder, saveOrder } from "../../test/support/bitrix-writer.js";
import type { CrmServer } from "../../test/support/crm-server.js";
import type { StatusFeedServer } from "../../test/support/status-feed-server.js";
import type { TestDatabase } from "../../test/support/test-database.js";
import { CRM_MANAGER_FLOW, nextCrmMove } from "./crm-manager-flow.js";
import { demoOrderSpec } from "./demo-orders.js";

/** `CO «Собран»`: a Bitrix status code with the shop's name for it. */
export function statusLabel(statusId: string | null | undefined): string {
  if (statusId === null || statusId === undefined) return "?";
  const status = SHOP.statuses.find((s) => s.id === statusId);
  return status === undefined ? statusId : `${statusId} «${status.name}»`;
}

function formatKzt(amount: number): string {
  return `${new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 2 }).format(amount)} ₸`;
}

/** Bitrix's status when a customer pays online (Kaspi QR). */
const PAID_STATUS = "PD";

export class DemoActivity {
  /** Every order the demo wrote, oldest first. */
  readonly orderIds: number[] = [];
  /** Steps of CRM_MANAGER_FLOW done per order. */
  readonly crmSteps = new Map<number, number>();
  bitrixStatusChanges = 0;
  crmStatusChanges = 0;
  private readonly paid = new Set<number>();

  constructor(
    private readonly deps: {
      db: TestDatabase;
      crm: CrmServer;
      feed: StatusFeedServer;
      event: (text: string) => void;
    },
  ) {}

  /** A customer checks out on the site. */
  async newOrder(): Promise<void> {
    const n = this.orderIds.length;
    const spec = demoOrderSpec(n, new Date().toISOString().slice(0, 10));
    const id = await createOrder(this.deps.db.pool, spec);
    this.orderIds.push(id);
    const total =
      (spec.basket ?? []).reduce((sum, line) => sum + line.price * line.quantity, 0) +
      (spec.priceDelivery ?? 0);
    this.deps.event(`Bitrix   new order #${id} from ${spec.properties?.["name"]}, ${formatKzt(total)}`);
  }

  /** The customer of the newest order still new (and untouched by the CRM manager) pays: Bitrix saves PD. */
  async paidInBitrix(): Promise<void> {
    const id = [...this.orderIds].reverse().find((o) => !this.paid.has(o) && !this.crmSteps.has(o));
    if (id === undefined) return;
    this.paid.add(id);
    await saveOrder(this.deps.db.pool, id, { fields: { STATUS_ID: PAID_STATUS, PAYED: "Y" } });
    this.bitrixStatusChanges++;
    this.deps.event(`Bitrix   manager set #${id} to ${statusLabel(PAID_STATUS)} (customer paid)`);
  }

  /** The CRM manager moves an order the CRM has one step along; false when there is none yet. */
  moveInCrm(): boolean {
    const inCrm = [...this.deps.crm.orders.keys()].map(Number).filter((id) => this.orderIds.includes(id));
    const move = nextCrmMove(inCrm, this.crmSteps);
    if (move === undefined) return false;
    this.crmSteps.set(move.orderId, CRM_MANAGER_FLOW.indexOf(move.status) + 1);
    this.deps.feed.push({ order_id: move.orderId, status: move.status });
    this.crmStatusChanges++;
    this.deps.event(`CRM      manager moved #${move.orderId} to "${move.status}"`);
    return true;
  }
}
