/**
 * Acknowledged gets (SPEC 20.3) on a queue kept in Redis. Redis holds the truth: an item taken
 * with `ack` moves, in the same script, from the queue's list into its in-flight hash (delivery id
 * to owner, delivery count and item), and the owner's manager's held index names the queue (see
 * `redisLeases.ts`), so if that manager dies a survivor gives its deliveries back. Ids come from
 * one counter per prefix: unique across the group. An ack, a nack, a visibility timeout or the
 * owner's session's end each settle in one script that checks the owner.
 *
 * This manager keeps only what Redis need not know: which of its sessions hold which deliveries
 * (for inspection, and to tell a session when it holds nothing more of the queue) and the timers
 * of their visibility timeouts. A manager that dies takes its timers with it; the survivors'
 * reaping gives back all it held, so no delivery waits for a timer nobody runs.
 */

import { Delivery } from '../builtins/deliveries';
import { ownerOf, type AckRequest, type CallContext, type HeldDelivery, type HeldResource } from '../calls/methodDispatch';
import { heldEntry } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { AnsweredInGroup, HOSTED_ELSEWHERE, NO_RECORD, type AnswerRecord } from './redisAnswers';

/** The kind of holding a delivery in flight is, in a manager's held index (see `redisReclaimers.ts`). */
export const DELIVERY_KIND = 'delivery';

/** The keys acknowledged gets use on one queue. */
export interface DeliveryKeys {
  /** The queue's key: changes are published under it, and the held index names it. */
  readonly key: string;
  readonly items: string;
  /** The in-flight hash: delivery id to its entry. */
  readonly inFlight: string;
}

/** Where a delivery's item is, in Redis: what a take into flight needs besides the owner. */
export interface IntoFlight {
  readonly owner: string;
  readonly since: number;
  /** When the visibility timeout gives it back (ms since the epoch), or '' for never. */
  readonly visibleAt: number | '';
  /** The held index entry naming the queue (the owner's manager's index). */
  readonly heldEntry: string;
}

/** What a take into flight found: nothing, or the delivery id, its count and how to read the item. */
export type TakenIntoFlight = { readonly id: string; readonly count: number; readonly value: () => unknown } | undefined;

/**
 * Takes the next item of a queue into flight in one atomic step (a queue's own script), and
 * reports the queue's length and the deliveries in flight as that step left them.
 */
export type TakeIntoFlight = (flight: IntoFlight, record: AnswerRecord) => Promise<[taken: TakenIntoFlight, length: number, inFlight: number]>;

/** How a delivery is settled in Redis: gone for good, back counted, or back as if never made. */
type Settling = 'ack' | 'back' | 'undelivered';

interface LocalDelivery {
  readonly count: number;
  readonly since: number;
  readonly visibleAt?: number;
  timer?: NodeJS.Timeout;
}

/** One queue's deliveries to this manager's sessions. */
export class RedisDeliveries {
  /** By session id: its deliveries in the order they were made, and what tells the session it holds none any more. */
  readonly #bySession = new Map<string, { ids: Map<string, LocalDelivery>; letGo: (() => void) | undefined }>();
  /** Deliveries in flight on the queue, over the whole group, as this manager's last call saw them. */
  #inFlightSeen = 0;

  constructor(
    private readonly host: RedisObjectHost,
    /** The queue, as the sessions' holdings know it. */
    private readonly resource: HeldResource,
    private readonly keys: DeliveryKeys,
    /** The queue's own take into flight. */
    private readonly takeIntoFlight: TakeIntoFlight,
    /** Tells the queue its length as a script left it. */
    private readonly seen: (length: number) => void,
  ) {}

  /** Deliveries in flight on the queue as this manager last saw them (inspection). */
  get inFlight(): number {
    return this.#inFlightSeen;
  }

  /**
   * Takes the next item into flight for the caller of `context`, or undefined when the queue is
   * empty. The caller's session holds the delivery from now on.
   */
  async take(context: CallContext, ack: AckRequest, record: AnswerRecord): Promise<Delivery | undefined> {
    const { host, keys } = this;
    const session = ownerOf(context);
    const since = Date.now();
    const ms = ack.visibilityTimeoutMs;
    const visibleAt = ms === null ? undefined : since + ms;
    const [taken, length, inFlight] = await this.takeIntoFlight({ owner: host.ownerId(session), since, visibleAt: visibleAt ?? '', heldEntry: heldEntry(DELIVERY_KIND, keys.key) }, record).catch((error: unknown) => {
      // Its reply lost, the delivery was read from its record (`redisStore.ts`): the session holds it here as any other.
      const made = error instanceof AnsweredInGroup ? error.value : undefined;
      if (made instanceof Delivery) this.#record(context, session, made.deliveryId, { count: made.deliveryCount, since, visibleAt });
      throw error;
    });
    this.seen(length);
    this.#inFlightSeen = inFlight;
    if (!taken) return undefined;
    const { id, count } = taken;
    this.#record(context, session, id, { count, since, visibleAt });
    let value: unknown;
    try {
      value = taken.value();
    } catch (error) {
      // The item cannot be read back (say, a reference to an object gone): it stays queued, not lost in flight.
      await this.settle(id, session, 'undelivered', record);
      throw error;
    }
    return new Delivery(id, value, count);
  }

  #record(context: CallContext, session: string, id: string, local: LocalDelivery): void {
    let mine = this.#bySession.get(session);
    if (!mine) {
      const letGo = context.letGo;
      mine = { ids: new Map(), letGo: letGo && (() => letGo.call(context, this.resource)) };
      this.#bySession.set(session, mine);
    }
    mine.ids.set(id, local);
    if (local.visibleAt !== undefined) this.#arm(session, id, local, local.visibleAt - Date.now());
    // Last: a session that has already ended gives it straight back (through ownerLeft).
    context.hold?.(this.resource);
  }

  /**
   * The visibility timeout: the delivery goes back by itself, as a nack would. While Redis is away
   * the give-back is kept and made once Redis is back (see `redisGiveBacks.ts`), however long that
   * takes: a worker that hangs holding its connection open must not keep the item for ever.
   */
  #arm(session: string, id: string, local: LocalDelivery, ms: number): void {
    local.timer = setTimeout(() => {
      this.host.giveBack(`delivery ${id} of ${this.keys.key} (its visibility timeout passed)`, async () => (await this.settle(id, session, 'back'), true), NO_RECORD);
    }, Math.max(0, ms));
    local.timer.unref();
  }

  /**
   * Settles delivery `id` if session `session` holds it: `ack` (gone for good), `back` (a nack:
   * to the front, counted as delivered) or `undelivered` (its answer never reached the caller:
   * `record`, the get's answer record, is forgotten with it). Resolves false when the session does not hold it.
   */
  async settle(id: string, session: string, how: Settling, record: AnswerRecord = NO_RECORD): Promise<boolean> {
    return (await this.#settle(id, session, how, record)) === 1;
  }

  /**
   * Gives back delivery `id` of session `session` as undelivered (its answer never reached the
   * caller), `record` its get's give-back record (see `RedisObjectHost.giveBack`). Resolves false
   * when another manager hosts the session now, and nothing was given back.
   */
  async undelivered(id: string, session: string, record: AnswerRecord): Promise<boolean> {
    return (await this.#settle(id, session, 'undelivered', record)) !== HOSTED_ELSEWHERE;
  }

  async #settle(id: string, session: string, how: Settling, record: AnswerRecord): Promise<number> {
    const { host, keys } = this;
    const [settled, length, inFlight] = (await host.run('smDeliverySettle', [keys.inFlight, keys.items], [id, host.ownerId(session), how, host.channel, keys.key, ...record])) as [number, number, number];
    this.seen(length);
    this.#inFlightSeen = inFlight;
    // Not held in Redis (given back by a survivor while this manager's lease had lapsed): not held here either.
    this.#forget(session, id);
    return settled;
  }

  #forget(session: string, id: string): void {
    const mine = this.#bySession.get(session);
    const local = mine?.ids.get(id);
    if (!mine || !local) return;
    clearTimeout(local.timer);
    mine.ids.delete(id);
    if (mine.ids.size > 0) return;
    this.#bySession.delete(session);
    mine.letGo?.();
  }

  /**
   * Session `session` ended: every delivery it holds goes back to the front, in the order they
   * were first delivered. Redis decides which those are, so a delivery this manager did not
   * record yet goes back too.
   */
  ownerLeft(session: string): void {
    const mine = this.#bySession.get(session);
    this.#bySession.delete(session);
    for (const local of mine?.ids.values() ?? []) clearTimeout(local.timer);
    // Kept and made once Redis is back however long it is away (see `redisGiveBacks.ts`): the
    // manager serves on meanwhile, so no survivor would give them back, and nobody else knows of them.
    const { host, keys } = this;
    // Its owner id now: once the session ended, the id would name this manager's session, not the session's own lease.
    const owner = host.ownerId(session);
    const check = host.hostCheck(owner);
    host.giveBack(
      `the deliveries of ${keys.key} an ended session held`,
      async () => (await host.run('smDeliveriesReturn', [keys.inFlight, keys.items], [owner, 'owner', host.channel, keys.key, ...check])) !== HOSTED_ELSEWHERE,
      NO_RECORD,
    );
  }

  /**
   * Session `session` was taken over from a manager of the group that is gone (SPEC 20.4.1):
   * the deliveries of this queue it holds in Redis are recorded here, held through `context`, and
   * their visibility timeouts run here from now on (one already past gives its delivery back at once).
   */
  async takenOver(context: CallContext): Promise<void> {
    const session = ownerOf(context);
    const found = (await this.host.run('smDeliveriesOf', [this.keys.inFlight], [this.host.ownerId(session)])) as string[];
    for (let i = 0; i + 3 < found.length; i += 4) {
      const visibleAt = found[i + 3] === '' ? undefined : Number(found[i + 3]);
      this.#record(context, session, found[i]!, { count: Number(found[i + 1]), since: Number(found[i + 2]), visibleAt });
    }
  }

  /** What inspection shows of session `session`'s deliveries. */
  deliveriesOf(session: string): HeldDelivery[] {
    const ids = this.#bySession.get(session)?.ids;
    if (!ids) return [];
    return [...ids].map(([deliveryId, local]) => {
      const summary: HeldDelivery = { deliveryId, deliveryCount: local.count, since: local.since };
      if (local.visibleAt !== undefined) summary.visibleAt = local.visibleAt;
      return summary;
    });
  }
}

/**
 * Gives back to the front of their queue every delivery held by a session of dead manager
 * `managerId` (see `redisLeases.ts`), counted as delivered, and wakes the getters. Idempotent.
 */
export async function returnDeliveriesOf(host: RedisObjectHost, keys: DeliveryKeys, managerId: string): Promise<void> {
  await host.run('smDeliveriesReturn', [keys.inFlight, keys.items], [managerId, 'manager', host.channel, keys.key]);
}
