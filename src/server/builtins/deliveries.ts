/**
 * Acknowledged gets (SPEC 20.3): an item a caller took with `ack` is delivered, not handed over.
 * It stays in flight, owned by the session that took it, until that session acknowledges it
 * (gone for good) or gives it back: a nack, its visibility timeout, or the session's end (the
 * session's holdings give it back, as they give back a lock). An item given back returns to the
 * front of its queue carrying how many times it was delivered, so its next delivery says
 * `redelivered`. The queue keeps its items; this keeps what is in flight.
 */

import { ownerOf, type AckRequest, type CallContext, type HeldDelivery, type HeldResource } from '../calls/methodDispatch';

let deliveryCounter = 0;

/** The result of a get that asked for `ack`: the item, delivered under an id the session settles it by. */
export class Delivery {
  constructor(
    readonly deliveryId: string,
    readonly value: unknown,
    /** How many times the item has been delivered, this time included. */
    readonly deliveryCount: number,
    /** The item's place in its queue's take order (see `Queue`'s give-backs): where it goes back. */
    readonly taken = 0,
  ) {}

  /** Whether the item was delivered before and came back. */
  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }
}

/** An item that came back from a delivery, as its queue stores it: it remembers its deliveries. */
export class ReturnedItem {
  constructor(
    readonly value: unknown,
    readonly deliveries: number,
  ) {}
}

/** The item a queue stores, without what a returned item carries. */
export function itemValue(stored: unknown): unknown {
  return stored instanceof ReturnedItem ? stored.value : stored;
}

/** How an item in flight was settled: acknowledged, given back, or never received (its answer was lost). */
export type Settlement = 'ack' | 'nack' | 'expired' | 'undelivered';

interface InFlight {
  readonly delivery: Delivery;
  readonly owner: string;
  readonly since: number;
  readonly visibleAt?: number;
  timer?: NodeJS.Timeout;
}

/** One queue's deliveries in flight, by id and by owning session. */
export class InFlightDeliveries {
  readonly #byId = new Map<string, InFlight>();
  /** Each owner's deliveries, in the order they were made, and what tells its session it holds none any more. */
  readonly #byOwner = new Map<string, { ids: Set<string>; letGo: (() => void) | undefined }>();

  constructor(
    /** The queue, as the sessions' holdings know it. */
    private readonly resource: HeldResource,
    /**
     * Puts items given back into the queue, each with its place in the take order (`taken`, its
     * delivery's): to waiting getters, longest waiting first, and the rest at the front, in that order.
     */
    private readonly comeBack: (items: ReturnedItem[], taken: number[]) => void,
  ) {}

  /** Deliveries in flight. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Delivers `stored` (an item just taken from the queue) to the caller of `context`, which
   * asked for `ack`: the caller's session holds it from now on. `taken`: its place in the take order.
   */
  open(stored: unknown, context: CallContext, ack: AckRequest, taken: number): Delivery {
    const prior = stored instanceof ReturnedItem ? stored.deliveries : 0;
    const delivery = new Delivery(`d${++deliveryCounter}`, itemValue(stored), prior + 1, taken);
    const owner = ownerOf(context);
    const now = Date.now();
    const ms = ack.visibilityTimeoutMs;
    const entry: InFlight = ms === null ? { delivery, owner, since: now } : { delivery, owner, since: now, visibleAt: now + ms };
    if (ms !== null) {
      entry.timer = setTimeout(() => this.settle(delivery.deliveryId, owner, 'expired'), ms);
      entry.timer.unref();
    }
    this.#byId.set(delivery.deliveryId, entry);
    let mine = this.#byOwner.get(owner);
    if (!mine) {
      const letGo = context.letGo;
      mine = { ids: new Set(), letGo: letGo && (() => letGo.call(context, this.resource)) };
      this.#byOwner.set(owner, mine);
    }
    mine.ids.add(delivery.deliveryId);
    // Last: a session that has already ended gives it straight back (through ownerLeft).
    context.hold?.(this.resource);
    return delivery;
  }

  /**
   * Settles delivery `deliveryId` if `owner` holds it: gone for good (`ack`), or back to the queue
   * counted as delivered (`nack`, `expired`). Returns false when `owner` does not hold it.
   */
  settle(deliveryId: string, owner: string, how: Exclude<Settlement, 'undelivered'>): boolean {
    const entry = this.#byId.get(deliveryId);
    if (!entry || entry.owner !== owner) return false;
    this.#close(entry, true);
    if (how !== 'ack') this.comeBack([new ReturnedItem(entry.delivery.value, entry.delivery.deliveryCount)], [entry.delivery.taken]);
    return true;
  }

  /**
   * The answer carrying `delivery` never reached its caller: out of flight, as if this delivery had
   * not been made. Returns the item for the queue to take back, undefined when it was not in flight.
   */
  undelivered(delivery: Delivery): ReturnedItem | undefined {
    const entry = this.#byId.get(delivery.deliveryId);
    if (entry?.delivery !== delivery) return undefined;
    this.#close(entry, true);
    return new ReturnedItem(delivery.value, delivery.deliveryCount - 1);
  }

  /** The session `owner` ended: every delivery it holds goes back, so they come out again in the order they first did. */
  ownerLeft(owner: string): void {
    const mine = this.#byOwner.get(owner);
    if (!mine) return;
    const entries = [...mine.ids].map((id) => this.#byId.get(id)!);
    for (const entry of entries) this.#close(entry, false);
    this.comeBack(
      entries.map((entry) => new ReturnedItem(entry.delivery.value, entry.delivery.deliveryCount)),
      entries.map((entry) => entry.delivery.taken),
    );
  }

  /** The items in flight, in the order they were delivered. */
  values(): unknown[] {
    return [...this.#byId.values()].map((entry) => entry.delivery.value);
  }

  /** What inspection shows of `owner`'s deliveries. */
  deliveriesOf(owner: string): HeldDelivery[] {
    const ids = this.#byOwner.get(owner)?.ids;
    if (!ids) return [];
    return [...ids].map((id) => summaryOf(this.#byId.get(id)!));
  }

  /** Takes an entry out of flight; `letGo`: tell its session when it holds no more of this queue. */
  #close(entry: InFlight, letGo: boolean): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    const id = entry.delivery.deliveryId;
    this.#byId.delete(id);
    const mine = this.#byOwner.get(entry.owner)!;
    mine.ids.delete(id);
    if (mine.ids.size > 0) return;
    this.#byOwner.delete(entry.owner);
    if (letGo) mine.letGo?.();
  }
}

function summaryOf(entry: InFlight): HeldDelivery {
  const summary: HeldDelivery = { deliveryId: entry.delivery.deliveryId, deliveryCount: entry.delivery.deliveryCount, since: entry.since };
  if (entry.visibleAt !== undefined) summary.visibleAt = entry.visibleAt;
  return summary;
}
