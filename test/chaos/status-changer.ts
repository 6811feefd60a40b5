/**
 * The CRM side of a chaos run: managers moving orders through statuses,
 * published on the status feed (CONTRACT.md §2) that write-back pulls. Each
 * change names a status different from the order's previous one, so each
 * must end as exactly one ORDER_STATUS_CHANGED row in Bitrix. changed_at is
 * the push time: later pushes of an order are later CRM changes.
 */
import type { StatusFeedServer } from "../support/status-feed-server.js";
import type { Random } from "./seeded-random.js";

/** CRM status names of the shop's default map, and the Bitrix STATUS_ID each maps to. */
export const CRM_STATUSES: ReadonlyArray<readonly [string, string]> = [
  ["confirmed", "AP"],
  ["paid", "PD"],
  ["assembled", "CO"],
  ["ready_delivery", "RD"],
  ["in_transit", "DE"],
  ["completed", "F"],
  ["new", "N"],
];

/** Bitrix's status of a new order (createOrder's default). */
export const INITIAL_STATUS_ID = "N";

export interface PushedChange {
  id: string;
  orderId: number;
  crmStatus: string;
  statusId: string;
  pushedAt: number;
}

export class StatusChanger {
  readonly pushed: PushedChange[] = [];
  private readonly lastStatus = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly feed: StatusFeedServer,
    private readonly random: Random,
    private readonly pickOrder: () => number | undefined,
    private readonly opts: { minIntervalMs: number; maxIntervalMs: number },
  ) {}

  start(): void {
    const step = () => {
      this.pushOne();
      this.timer = setTimeout(step, this.random.int(this.opts.minIntervalMs, this.opts.maxIntervalMs));
    };
    this.timer = setTimeout(step, this.opts.maxIntervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pushOne(): void {
    const orderId = this.pickOrder();
    if (orderId === undefined) return;
    const previous = this.lastStatus.get(orderId) ?? INITIAL_STATUS_ID;
    const [crmStatus, statusId] = this.random.pick(CRM_STATUSES.filter(([, id]) => id !== previous));
    const change = this.feed.push({ order_id: orderId, status: crmStatus });
    this.lastStatus.set(orderId, statusId);
    this.pushed.push({ id: change.id, orderId, crmStatus, statusId, pushedAt: Date.now() });
  }
}
