/** The queue proxies: Queue and JoinableQueue (FIFO), LifoQueue and PriorityQueue share one proxy. */

import type { DeliveryResult } from '../../common/protocol';
import { BaseProxy, type CallOptions } from '../baseProxy';
import { Delivery } from '../delivery';
import { AbortError, EmptyError } from '../errors';

/** Options of a blocking queue operation. */
export interface BlockingOptions extends CallOptions {
  /** Wait for room or an item (default true); false fails at once with Empty/Full. */
  block?: boolean;
  /** Seconds to wait at most (default: forever); then EmptyError or FullError. */
  timeout?: number | null;
}

/** Options of a get whose item is delivered, to be acknowledged (SPEC 20.3). */
export interface AckGetOptions extends BlockingOptions {
  /** Deliver the item: it stays in flight until `ack()`, and comes back if this client dies first. */
  ack: true;
  /** Seconds after which an unacknowledged delivery goes back to the queue by itself (default: none). */
  visibilityTimeout?: number;
}

/** Options of a plain get: the item is handed over. */
export interface PlainGetOptions extends BlockingOptions {
  ack?: false;
}

function blockingKwargs(options: BlockingOptions | undefined): Record<string, unknown> | undefined {
  if (!options || (options.block === undefined && options.timeout === undefined)) return undefined;
  const kwargs: Record<string, unknown> = {};
  if (options.block !== undefined) kwargs.block = options.block;
  if (options.timeout !== undefined) kwargs.timeout = options.timeout;
  return kwargs;
}

/**
 * A shared queue: Python's `queue.Queue` (FIFO), and under the LifoQueue and PriorityQueue
 * typeids the same methods in last-in-first-out or smallest-first order.
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  // put and get return the call's own promise: no async wrapper on the hot path.

  /** Puts an item, waiting for room if the queue is bounded and full. */
  put(item: T, options?: BlockingOptions): Promise<void> {
    return this.callMethod('put', [item], blockingKwargs(options), options) as Promise<void>;
  }

  /**
   * Takes the next item, waiting for one unless `block: false`. A timed-out or cancelled get takes
   * nothing. With `ack: true` the item is delivered instead: see {@link Delivery}.
   */
  get(options: AckGetOptions): Promise<Delivery<T>>;
  get(options?: PlainGetOptions): Promise<T>;
  get(options?: PlainGetOptions | AckGetOptions): Promise<T | Delivery<T>> {
    if (options?.ack) return this.#deliver('get', blockingKwargs(options), options);
    // `ack: false` reads as no ack all the way down.
    return this.callMethod('get', undefined, blockingKwargs(options), options as BlockingOptions | undefined) as Promise<T>;
  }

  /** Puts without waiting; FullError if there is no room. */
  async putNowait(item: T): Promise<void> {
    await this.callMethod('put_nowait', [item]);
  }

  /** Takes without waiting; EmptyError if there is none. With `ack: true`, delivers it (see {@link get}). */
  getNowait(options: { ack: true; visibilityTimeout?: number }): Promise<Delivery<T>>;
  getNowait(): Promise<T>;
  async getNowait(options?: { ack: true; visibilityTimeout?: number }): Promise<T | Delivery<T>> {
    if (options?.ack) return this.#deliver('get_nowait', undefined, options);
    return (await this.callMethod('get_nowait')) as T;
  }

  /**
   * A get with `ack`. A delivery that arrives after the caller's signal aborted (the cancel came
   * too late, SPEC 10) is given back at once, so a caller that gave up loses no item.
   */
  async #deliver(method: string, kwargs: Record<string, unknown> | undefined, options: AckGetOptions | { visibilityTimeout?: number; signal?: undefined; timeout?: undefined }): Promise<Delivery<T>> {
    const result = (await this.callMethod(method, [], kwargs, { signal: options.signal, timeout: options.timeout, ack: { visibilityTimeout: options.visibilityTimeout } })) as DeliveryResult;
    const delivery = new Delivery<T>(this.host, this.token, result);
    if (options.signal?.aborted) {
      await delivery.nack();
      throw new AbortError(`cancelled; the item delivered as the cancel was on its way (delivery ${delivery.deliveryId}) was given back (${method}() on ${this.token.typeid} #${this.token.id})`);
    }
    return delivery;
  }

  /** The number of items (approximate once other clients act on it). */
  async qsize(): Promise<number> {
    return (await this.callMethod('qsize')) as number;
  }

  async empty(): Promise<boolean> {
    return (await this.callMethod('empty')) as boolean;
  }

  async full(): Promise<boolean> {
    return (await this.callMethod('full')) as boolean;
  }

  /** Marks one got item as processed (for `join`). */
  async taskDone(): Promise<void> {
    await this.callMethod('task_done');
  }

  /** Waits until every item put has been marked done. */
  async join(options?: CallOptions): Promise<void> {
    await this.callMethod('join', [], undefined, options);
  }

  /**
   * Iterates over items as they arrive. With a `timeout`, the iteration ends when no item comes
   * within it (the seed worker's loop); without one it waits forever. Breaking out takes nothing more.
   */
  async *iter(options: { timeout?: number; signal?: AbortSignal } = {}): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.get({ timeout: options.timeout, signal: options.signal });
      } catch (error) {
        if (error instanceof EmptyError && options.timeout !== undefined) return;
        throw error;
      }
    }
  }

  /** `for await (const item of queue)`: items as they arrive, forever. */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.iter();
  }
}
