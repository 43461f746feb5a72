/** The queue proxies: Queue and JoinableQueue (FIFO), LifoQueue and PriorityQueue share one proxy. */

import { BaseProxy, type CallOptions } from '../baseProxy';
import { EmptyError } from '../errors';

/** Options of a blocking queue operation. */
export interface BlockingOptions extends CallOptions {
  /** Wait for room or an item (default true); false fails at once with Empty/Full. */
  block?: boolean;
  /** Seconds to wait at most (default: forever); then EmptyError or FullError. */
  timeout?: number | null;
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

  /** Takes the next item, waiting for one unless `block: false`. A timed-out or cancelled get takes nothing. */
  get(options?: BlockingOptions): Promise<T> {
    return this.callMethod('get', [], blockingKwargs(options), options) as Promise<T>;
  }

  /** Puts without waiting; FullError if there is no room. */
  async putNowait(item: T): Promise<void> {
    await this.callMethod('put_nowait', [item]);
  }

  /** Takes without waiting; EmptyError if there is none. */
  async getNowait(): Promise<T> {
    return (await this.callMethod('get_nowait')) as T;
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
