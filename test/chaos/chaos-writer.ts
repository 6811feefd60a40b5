/**
 * The shop during a chaos run: saves orders the way Bitrix does (through the
 * harness's createOrder / saveOrder: autocommit, statement by statement,
 * RUNNING='Y' while a new order is built, VERSION bumped first and
 * DATE_UPDATE written last), straight into MariaDB (never through the
 * daemon's proxy, so a MySQL cut of the daemon does not stop the shop).
 * Every save changes something, so every save is a new state the CRM must
 * end up with. STATUS_ID is left to the CRM side (write-back), so a feed
 * change can only be refused by a real fault, never by a race we made up.
 *
 * Saves of one order may overlap (two workers), except a stale-clock save:
 * overlapping it with another save can make DATE_UPDATE go back under the
 * same VERSION, which the daemon by design orders as older (DESIGN: by
 * VERSION, then DATE_UPDATE) and does not send (a known limit, named in the closing note of issue 6).
 */
import type { Pool, RowDataPacket } from "mysql2/promise";
import { bitrixNow, createOrder, type SaveChange, saveOrder } from "../support/bitrix-writer.js";
import type { Random } from "./seeded-random.js";

export type SaveKind =
  | "create"
  | "create-held-running"
  | "fields"
  | "properties"
  | "basket"
  | "same-second-burst"
  | "late-date-update"
  | "stale-clock";

export interface WriterStats {
  saves: Record<SaveKind, number>;
  errors: number;
  lastError?: string;
}

/** Share of the actions, in this order. */
const ACTION_WEIGHTS: Array<[SaveKind, number]> = [
  ["create", 18],
  ["create-held-running", 7],
  ["fields", 14],
  ["properties", 17],
  ["basket", 17],
  ["same-second-burst", 10],
  ["late-date-update", 10],
  ["stale-clock", 7],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ChaosWriter {
  /** Orders whose creation finished, oldest first. */
  readonly orders: number[] = [];
  readonly stats: WriterStats = {
    saves: Object.fromEntries(ACTION_WEIGHTS.map(([k]) => [k, 0])) as Record<SaveKind, number>,
    errors: 0,
  };
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private counter = 0;

  constructor(
    private readonly pool: Pool,
    private readonly random: Random,
    private readonly opts: { workers: number; minPauseMs: number; maxPauseMs: number },
  ) {}

  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.loops.push(this.loop());
  }

  /** Lets the saves in progress finish (a Bitrix save is never cut in half here), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  get totalSaves(): number {
    return Object.values(this.stats.saves).reduce((a, b) => a + b, 0);
  }

  /** A recently created order most of the time (they get the busy life), else any. */
  pickOrder(): number | undefined {
    if (this.orders.length === 0) return undefined;
    if (this.random.chance(0.7)) {
      const recent = this.orders.slice(-30);
      return this.random.pick(recent);
    }
    return this.random.pick(this.orders);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const kind = this.orders.length < 3 ? "create" : this.pickKind();
      try {
        if (await this.act(kind)) this.stats.saves[kind]++;
      } catch (err) {
        this.stats.errors++;
        this.stats.lastError = err instanceof Error ? err.message : String(err);
      }
      await sleep(this.random.int(this.opts.minPauseMs, this.opts.maxPauseMs));
    }
  }

  private pickKind(): SaveKind {
    const total = ACTION_WEIGHTS.reduce((a, [, w]) => a + w, 0);
    let r = this.random.next() * total;
    for (const [kind, weight] of ACTION_WEIGHTS) {
      r -= weight;
      if (r < 0) return kind;
    }
    return "fields";
  }

  /** Runs one action; false when there was no order to save (nothing happened). */
  private async act(kind: SaveKind): Promise<boolean> {
    const n = ++this.counter;
    switch (kind) {
      case "create":
      case "create-held-running": {
        const id = await createOrder(
          this.pool,
          { properties: { notes: `Заказ ${n}: позвонить за час` }, comments: `chaos ${n}` },
          // RUNNING='Y' stays visible while the children are written.
          kind === "create-held-running" ? { pauseBeforeFinalMs: this.random.int(300, 3000) } : {},
        );
        this.orders.push(id);
        return true;
      }
      case "fields":
        return this.withOrder(false, (id) => saveOrder(this.pool, id, { fields: this.fieldChange(n) }));
      case "properties":
        return this.withOrder(false, (id) =>
          saveOrder(this.pool, id, { properties: this.propertyChange(n) }),
        );
      case "basket":
        return this.withOrder(false, async (id) =>
          saveOrder(this.pool, id, { basket: await this.basketChange(id, n) }),
        );
      case "same-second-burst":
        // A manager clicking save again, a payment callback on top: several saves in one second.
        return this.withOrder(false, async (id) => {
          const count = this.random.int(2, 4);
          for (let i = 0; i < count; i++) {
            const m = ++this.counter;
            const change = this.random.chance(0.5)
              ? { fields: this.fieldChange(m) }
              : { properties: this.propertyChange(m) };
            await saveOrder(this.pool, id, change);
          }
        });
      case "late-date-update":
        // VERSION is bumped in the first UPDATE; DATE_UPDATE moves only seconds later, after the children.
        return this.withOrder(false, (id) =>
          saveOrder(
            this.pool,
            id,
            { properties: this.propertyChange(n), fields: this.fieldChange(n) },
            { pauseAfterVersionBumpMs: this.random.int(800, 4000) },
          ),
        );
      case "stale-clock":
        // A long PHP request that set DATE_UPDATE when it began (legacy CSaleOrder::Update): it lands
        // seconds behind the commit, behind orders saved meanwhile. Never overlapped (see above).
        return this.withOrder(true, (id) =>
          saveOrder(
            this.pool,
            id,
            { properties: this.propertyChange(n) },
            { dateUpdate: bitrixNow(), pauseAfterVersionBumpMs: this.random.int(1000, 3000) },
          ),
        );
    }
  }

  /** Saves in progress per order, and orders a stale-clock save holds alone. */
  private readonly saving = new Map<number, number>();
  private readonly alone = new Set<number>();

  /** Runs `save` on an order it may save now; `exclusive`: one nobody else is saving, kept alone meanwhile. */
  private async withOrder(exclusive: boolean, save: (id: number) => Promise<unknown>): Promise<boolean> {
    let id: number | undefined;
    for (let tries = 0; tries < 10 && id === undefined; tries++) {
      const candidate = this.pickOrder();
      if (candidate === undefined) return false;
      if (this.alone.has(candidate) || (exclusive && this.saving.has(candidate))) continue;
      id = candidate;
    }
    if (id === undefined) return false;
    this.saving.set(id, (this.saving.get(id) ?? 0) + 1);
    if (exclusive) this.alone.add(id);
    try {
      await save(id);
      return true;
    } finally {
      const left = (this.saving.get(id) ?? 1) - 1;
      if (left > 0) this.saving.set(id, left);
      else this.saving.delete(id);
      if (exclusive) this.alone.delete(id);
    }
  }

  private fieldChange(n: number): SaveChange["fields"] {
    return this.random.chance(0.5)
      ? { COMMENTS: `chaos ${n}` }
      : { USER_DESCRIPTION: `Доставить к ${n % 24}:00` };
  }

  private propertyChange(n: number): Record<string, string> {
    return this.random.chance(0.5)
      ? { notes: `Позвонить получателю за ${n} мин` }
      : { postcardText: `С любовью, №${n}`, addressRecipient: `ул. Абая ${n}` };
  }

  private async basketChange(id: number, n: number): Promise<NonNullable<SaveChange["basket"]>> {
    const [lines] = await this.pool.query<RowDataPacket[]>(
      "SELECT ID, QUANTITY FROM b_sale_basket WHERE ORDER_ID = ? ORDER BY ID",
      [id],
    );
    const roll = this.random.next();
    if (lines.length > 1 && roll < 0.25) return { removeIds: [Number(this.random.pick(lines).ID)] };
    if (lines.length === 0 || roll < 0.55) {
      return { add: [{ productId: 800000 + (n % 1000), name: `Роза «${n}»`, price: 990.5, quantity: 1 }] };
    }
    const line = this.random.pick(lines);
    return { updateQuantity: [{ basketId: Number(line.ID), quantity: Number(line.QUANTITY) + 1 }] };
  }
}
