/**
 * A delivered item (`q.get({ ack: true })`, SPEC 20.3): the item stays in flight, held by this
 * client's session, until `ack()` says it was handled (gone for good) or `nack()` gives it back
 * to the front of its queue. Left unsettled, it goes back when the session ends (a crash, a lost
 * connection) or its visibility timeout passes, and comes out again marked `redelivered`.
 */

import type { DeliveryResult, Token } from '../common/protocol';
import type { ProxyHost } from './baseProxy';
import { DeliverySettledError } from './errors';

/** One delivery of an item; settle it once, with {@link ack} or {@link nack}. */
export class Delivery<T = unknown> {
  /** The item. */
  readonly value: T;
  /** The manager's name for this delivery. */
  readonly deliveryId: string;
  /** Whether the item was delivered before and came back (nack, visibility timeout, a session that ended). */
  readonly redelivered: boolean;
  /** How many times the item has been delivered, this time included (1 the first time). */
  readonly deliveryCount: number;
  #settled: 'acknowledged' | 'given back' | undefined;

  /** @internal made by the queue proxy's `get({ ack: true })` */
  constructor(
    private readonly host: ProxyHost,
    private readonly token: Token,
    result: DeliveryResult,
  ) {
    this.value = result.value as T;
    this.deliveryId = result.deliveryId;
    this.redelivered = result.redelivered;
    this.deliveryCount = result.deliveryCount;
  }

  /** Whether {@link ack} or {@link nack} was called. */
  get settled(): boolean {
    return this.#settled !== undefined;
  }

  /**
   * The item was handled: the manager forgets it for good.
   * @throws DeliverySettledError if already acknowledged or given back; UnknownDeliveryError if
   * the manager gave it back already (visibility timeout, or the session ended).
   */
  ack(): Promise<void> {
    return this.#settle('ack', 'acknowledged');
  }

  /**
   * Gives the item back to the front of its queue, to be delivered again (marked redelivered).
   * @throws DeliverySettledError if already acknowledged or given back; UnknownDeliveryError if
   * the manager gave it back already.
   */
  nack(): Promise<void> {
    return this.#settle('nack', 'given back');
  }

  #settle(how: 'ack' | 'nack', done: 'acknowledged' | 'given back'): Promise<void> {
    if (this.#settled) {
      const verb = how === 'ack' ? 'ack()' : 'nack()';
      return Promise.reject(new DeliverySettledError(`${verb} on delivery ${this.deliveryId} of ${this.token.typeid} #${this.token.id}, which was already ${this.#settled}: settle each delivery once`));
    }
    this.#settled = done;
    return this.host.settleDelivery(this.token, this.deliveryId, how);
  }

  /** For logs: `<Delivery d3 of Queue #5e1f-1 (redelivered, 2nd)>`. */
  toString(): string {
    return `<Delivery ${this.deliveryId} of ${this.token.typeid} #${this.token.id}${this.redelivered ? ` (redelivered, delivery ${this.deliveryCount})` : ''}${this.#settled ? ` ${this.#settled}` : ''}>`;
  }
}
