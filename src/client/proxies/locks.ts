/**
 * Lock, RLock and Semaphore proxies, and what they share with Condition: `acquire`, `unlock`,
 * and the two scoped forms, `withLock(fn)` and `await using held = await lock.acquired()`.
 *
 * Python's `release()` is `unlock()` here: on every proxy `release()` gives back the proxy's
 * reference to the manager (and `await using lock = ...` calls it), so a lock proxy keeps that
 * meaning rather than have `await using` release the lock it names.
 *
 * The manager knows who holds what by session: a lock acquired through one client is released
 * when that client closes or dies, and an RLock's owner is the client, not an async task.
 */

import { BaseProxy, type CallOptions } from '../baseProxy';
import { AbortError, TimeoutError } from '../errors';

/** Options of `acquire`. */
export interface AcquireOptions extends CallOptions {
  /** Wait for the lock (default true); false tries once and returns at once. */
  blocking?: boolean;
  /** Seconds to wait at most (default: forever); only with `blocking` true. */
  timeout?: number | null;
}

/** A held lock (or permit), from {@link AcquirableProxy.acquired}: release it once, or let `await using` do it. */
export interface Held extends AsyncDisposable {
  /** Whether {@link release} was called. */
  readonly released: boolean;
  /** Releases what was acquired; later calls do nothing. */
  release(): Promise<void>;
}

/** The acquire/unlock pair and its scoped forms, shared by Lock, RLock, Semaphore and Condition. */
export abstract class AcquirableProxy extends BaseProxy {
  /**
   * Acquires, waiting unless `blocking: false`; true if acquired, false if not within the timeout
   * (or at once, when not blocking). A cancelled acquire (AbortError) acquired nothing.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    // Positional, as CPython's AcquirerProxy sends them, and only what is given: a Lock's default
    // timeout is -1 and a Semaphore's None, so an absent timeout must stay absent.
    const args = options.timeout == null ? (options.blocking === undefined ? [] : [options.blocking]) : [options.blocking ?? true, options.timeout];
    return (await this.callMethod('acquire', args, undefined, options)) as boolean;
  }

  /** Python's `release()`: unlocks (a Lock held by another client may be unlocked; an RLock only by its owner). */
  async unlock(): Promise<void> {
    await this.callMethod('release');
  }

  /**
   * Acquires, and returns a handle that unlocks once: `await using held = await lock.acquired()`
   * unlocks at the end of the block, however it ends.
   * @throws TimeoutError if not acquired within `timeout` (or at once with `blocking: false`).
   * @throws AbortError if `signal` aborted (nothing stays acquired).
   */
  async acquired(options: AcquireOptions = {}): Promise<Held> {
    if (!(await this.acquire(options))) {
      throw new TimeoutError(
        options.blocking === false || options.timeout === undefined || options.timeout === null
          ? `${this.typeid} #${this.id} is held elsewhere: not acquired without waiting`
          : `${this.typeid} #${this.id} was not acquired within ${options.timeout} s`,
      );
    }
    // The acquire completed before the cancel reached the manager: give it back, as the caller
    // asked to stop and will not run a critical section.
    if (options.signal?.aborted) {
      await this.unlock();
      throw new AbortError(`acquire of ${this.typeid} #${this.id} was cancelled (it had acquired: released again)`);
    }
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await this.unlock();
    };
    return {
      get released() {
        return released;
      },
      release,
      [Symbol.asyncDispose]: release,
    };
  }

  /**
   * Runs `fn` holding the lock, and unlocks when it settles (also when it throws); returns its result.
   * @example const n = await lock.withLock(async () => counter.increment(), { timeout: 5 })
   * @throws TimeoutError if not acquired within `timeout`; `fn` does not run.
   */
  async withLock<R>(fn: () => R | PromiseLike<R>, options: AcquireOptions = {}): Promise<R> {
    const held = await this.acquired(options);
    let result: R;
    try {
      result = await fn();
    } catch (error) {
      // The callback's error is the one to see; an unlock failing too (connection lost) adds nothing.
      await held.release().catch(() => {});
      throw error;
    }
    await held.release();
    return result;
  }
}

/** A shared `threading.Lock`: one holder at a time, unlockable by anyone. */
export class LockProxy extends AcquirableProxy {
  /** Whether some client holds it. */
  async locked(): Promise<boolean> {
    return (await this.callMethod('locked')) as boolean;
  }
}

/** A shared `threading.RLock`: its holder (this client) may acquire it again, and unlocks as many times. */
export class RLockProxy extends AcquirableProxy {
  /** Whether some client holds it (Python 3.14's `RLock.locked()`). */
  async locked(): Promise<boolean> {
    return (await this.callMethod('locked')) as boolean;
  }
}

/** A shared `threading.Semaphore` or `BoundedSemaphore`: a count of permits. */
export class SemaphoreProxy extends AcquirableProxy {
  /**
   * Python's `release(n)`: gives back `n` permits (default 1). A BoundedSemaphore refuses to go
   * above its initial value (ValueError).
   */
  override async unlock(n = 1): Promise<void> {
    await this.callMethod('release', n === 1 ? [] : [n]);
  }
}
