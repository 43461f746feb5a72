/** The Condition proxy. */

import { AcquirableProxy } from './locks';
import { timeoutArgs, type WaitOptions } from './options';

/**
 * A shared `threading.Condition`: a lock (its own RLock, or the Lock or RLock it was created
 * with) and waiters to notify. `acquire`/`unlock`/`withLock`/`acquired` act on that lock; `wait`
 * and the notifies need it held by this client.
 */
export class ConditionProxy extends AcquirableProxy {
  /**
   * Releases the lock, waits for a notify (or the timeout), and takes the lock back before
   * returning: true if notified, false on timeout.
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    return (await this.callMethod('wait', timeoutArgs(options), undefined, options)) as boolean;
  }

  /**
   * Waits until `predicate` is truthy, and returns its last value (falsy if the timeout passed
   * first): CPython's ConditionProxy.wait_for, run here, so the predicate may read other shared
   * objects (it may be async). It is called with the lock held, first before any wait.
   * @example await cond.withLock(() => cond.waitFor(async () => (await queue.qsize()) > 0, { timeout: 5 }))
   */
  async waitFor<R>(predicate: () => R | PromiseLike<R>, options: WaitOptions = {}): Promise<R> {
    let result = await predicate();
    if (result) return result;
    // A deadline on the monotonic clock, so each wait gets only what is left of the timeout.
    const deadline = options.timeout == null ? undefined : performance.now() + options.timeout * 1000;
    let waitTime: number | null = null;
    while (!result) {
      if (deadline !== undefined) {
        waitTime = (deadline - performance.now()) / 1000;
        if (waitTime <= 0) break;
      }
      await this.wait({ timeout: waitTime, signal: options.signal });
      result = await predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (default 1). */
  async notify(n = 1): Promise<void> {
    await this.callMethod('notify', n === 1 ? [] : [n]);
  }

  /** Wakes every waiter. */
  async notifyAll(): Promise<void> {
    await this.callMethod('notify_all');
  }
}
