/**
 * Wake-ups across managers: a call that must wait for a Redis-backed object (a get on an empty
 * queue, a put on a full one, a join) waits here until some manager changes that object. Every
 * script that changes an object PUBLISHes the object's key on the store's one wake channel; each
 * manager subscribes to it once and wakes its own callers waiting on that key, which then try
 * again. A caller registers before it tries, so a change made while it tries is never missed;
 * when the subscription comes back after a lost connection, every waiter tries again.
 */

import { CallCancelled, PyException } from '../exceptions';
import type { CallContext } from '../calls/methodDispatch';
import { isWithdrawn } from '../calls/methodDispatch';
import { TIMEOUT_MAX } from '../builtins/waiting';

/** The longest delay `setTimeout` takes as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Returned by an attempt that found nothing to do yet: wait for a change and try again. */
export const NOT_YET: unique symbol = Symbol('not yet');

/** One attempt at a blocked call: its result, or {@link NOT_YET}. */
export type Attempt<T> = () => Promise<T | typeof NOT_YET>;

/** A call that may have to wait, as {@link Wakeups.until} runs it. */
export interface BlockedCall<T> {
  /** The object's key: a change published under it wakes the call. */
  readonly key: string;
  /** The timeout, checked; null waits for ever. */
  readonly seconds: number | null;
  readonly context: CallContext;
  readonly attempt: Attempt<T>;
  /** The error at the deadline. */
  readonly expiry: () => Error;
  readonly undo?: (result: T) => Promise<void>;
  readonly beforeWait?: () => void;
}

/** The callers of this manager waiting on Redis-backed objects, by key. */
export class Wakeups {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** A change to `key` was published: its waiters try again. */
  changed(key: string): void {
    const set = this.#waiting.get(key);
    if (set) for (const poke of [...set]) poke();
  }

  /** The subscription was lost and is back: changes may have been missed, so everyone tries again. */
  all(): void {
    for (const set of [...this.#waiting.values()]) for (const poke of [...set]) poke();
  }

  /**
   * Tries `attempt` until it gives a result, waiting for a change of `key` between tries. At the
   * deadline (`seconds`; null waits forever) it fails with `expiry()`; if the caller's signal
   * aborts, with CallCancelled. A zero deadline fails after the first try; `beforeWait` may refuse
   * to wait at all (a NaN timeout). `undo` gives back what an attempt took when the caller was
   * withdrawn while it ran.
   */
  async until<T>(wait: BlockedCall<T>): Promise<T> {
    const { key, seconds, context, attempt, expiry, undo, beforeWait } = wait;
    if (seconds !== null && seconds > TIMEOUT_MAX) throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
    const deadline = seconds === null ? Infinity : Date.now() + Math.ceil(seconds * 1000);
    let set = this.#waiting.get(key);
    if (!set) this.#waiting.set(key, (set = new Set()));
    let poked = false;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      poked = true;
      wake?.();
    };
    set.add(poke);
    try {
      for (let first = true; ; first = false) {
        poked = false;
        const result = await attempt();
        if (result !== NOT_YET) {
          if (isWithdrawn(context)) {
            await undo?.(result);
            throw new CallCancelled();
          }
          return result;
        }
        if (first && seconds !== null && seconds <= 0) throw expiry();
        if (first) beforeWait?.();
        // Waiting from here on: the signal lists the call as blocked, and withdraws it.
        const signal = context.signal;
        if (signal?.aborted) throw new CallCancelled();
        if (poked) continue;
        const left = deadline - Date.now();
        if (left <= 0) throw expiry();
        const outcome = await new Promise<'changed' | 'timeout' | 'aborted'>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          const settle = (value: 'changed' | 'timeout' | 'aborted'): void => {
            if (timer) clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            wake = undefined;
            resolve(value);
          };
          const onAbort = (): void => settle('aborted');
          if (deadline !== Infinity) timer = setTimeout(() => settle('timeout'), Math.min(left, MAX_TIMER_MS));
          signal?.addEventListener('abort', onAbort, { once: true });
          wake = () => settle('changed');
        });
        if (outcome === 'aborted') throw new CallCancelled();
        if (outcome === 'timeout' && Date.now() >= deadline) throw expiry();
      }
    } finally {
      set.delete(poke);
      if (set.size === 0 && this.#waiting.get(key) === set) this.#waiting.delete(key);
    }
  }
}
