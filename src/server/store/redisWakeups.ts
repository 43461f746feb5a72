/**
 * Wake-ups across managers: a call that must wait for a Redis-backed object (a get on an empty
 * queue, a put on a full one, a join) waits here until some manager changes that object. Every
 * script that changes an object PUBLISHes the object's key on the store's one wake channel; each
 * manager subscribes to it once and wakes its own callers waiting on that key, which then try
 * again. A caller registers before it tries, so a change made while it tries is never missed;
 * when the subscription comes back after a lost connection, every waiter tries again.
 *
 * A queue's put and get publish only while somebody waits on the queue (a message to every
 * manager for every call would cost each of them a wake-up, and Redis a write): a caller about to
 * wait first marks the key as waited on (`KEY:waited`, a key that expires unless renewed), then
 * tries once more, so a change made before the mark was set is seen by that try, and one made
 * after it is published. The manager renews the marks of the keys its callers wait on; a mark
 * found gone (evicted, or Redis restarted) makes those callers try again and mark it anew.
 */

import { CallCancelled, PyException } from '../exceptions';
import type { CallContext } from '../calls/methodDispatch';
import { isWithdrawn } from '../calls/methodDispatch';
import { TIMEOUT_MAX } from '../builtins/waiting';
import { WAITED_MARK_SUFFIX } from './redisScripts';

/** The longest delay `setTimeout` takes as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Returned by an attempt that found nothing to do yet: wait for a change and try again. */
export const NOT_YET: unique symbol = Symbol('not yet');

/** The deadline of a wait passed: thrown by a wait's `expiry`, caught around it (the call answers False). */
export class TimedOut extends Error {}

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
  /** Gives back what an attempt took for a caller withdrawn meanwhile (at once, or once the returned promise settles). */
  readonly undo?: (result: T) => Promise<void> | void;
  readonly beforeWait?: () => void;
}

/** How long a mark lasts unless renewed (ms); the waiting manager renews it every third of that. */
const MARK_MS = 6000;

/** How a manager sets and renews, in Redis, the marks saying that its callers wait on keys. */
export interface WaitedMarks {
  /** Marks `key` as waited on for `ms`. */
  mark(key: string, ms: number): Promise<void>;
  /** Renews the marks on `keys` for `ms`; for each, whether it was still there. */
  renew(keys: readonly string[], ms: number): Promise<boolean[]>;
}

/** The callers of this manager waiting on Redis-backed objects, by key. */
export class Wakeups {
  readonly #waiting = new Map<string, Set<() => void>>();
  /** The keys this manager has marked as waited on, with how long the mark surely lasts (performance.now() ms). */
  readonly #marked = new Map<string, number>();
  #renewing: NodeJS.Timeout | undefined;
  /** Counts the times every mark was forgotten (all()): a mark set across one may be gone already. */
  #forgotten = 0;

  /** `marks` sets the marks in Redis; without it every change must be published (nothing tests the marks). */
  constructor(private readonly marks?: WaitedMarks) {}

  /** A change to `key` was published: its waiters try again. */
  changed(key: string): void {
    const set = this.#waiting.get(key);
    if (set) for (const poke of [...set]) poke();
  }

  /** The subscription was lost and is back: changes may have been missed, so everyone tries again (and marks anew). */
  all(): void {
    this.#forgotten++;
    this.#marked.clear();
    for (const set of [...this.#waiting.values()]) for (const poke of [...set]) poke();
  }

  /** Stops renewing marks (the store closes). */
  stop(): void {
    clearInterval(this.#renewing);
    this.#renewing = undefined;
    this.#marked.clear();
  }

  /**
   * Whether this manager's callers wait on `key` often enough that it is marked now: a caller of
   * such a key is better registered before its first try, which then needs no second one.
   */
  waitedOn(key: string): boolean {
    const until = this.#marked.get(key);
    return until !== undefined && performance.now() < until;
  }

  /** Whether `key` needs marking before a caller waits on it: true when it was not marked, or its mark may have expired. */
  #unmarked(key: string): boolean {
    const until = this.#marked.get(key);
    return this.marks !== undefined && (until === undefined || performance.now() >= until);
  }

  async #mark(key: string): Promise<void> {
    const sent = performance.now();
    const forgotten = this.#forgotten;
    await this.marks!.mark(key + WAITED_MARK_SUFFIX, MARK_MS);
    // Redis may have restarted while the mark was set: then the next wait marks the key again.
    if (forgotten === this.#forgotten) this.#marked.set(key, sent + MARK_MS);
    this.#renewing ??= setInterval(() => void this.#renew(), MARK_MS / 3).unref();
  }

  /** Renews the marks of the keys callers still wait on; a mark found gone makes its waiters try again. */
  async #renew(): Promise<void> {
    const keys = [...this.#marked.keys()].filter((key) => this.#waiting.has(key));
    for (const key of this.#marked.keys()) if (!this.#waiting.has(key)) this.#marked.delete(key);
    if (keys.length === 0) {
      this.stop();
      return;
    }
    const sent = performance.now();
    const forgotten = this.#forgotten;
    let found: boolean[];
    try {
      found = await this.marks!.renew(keys.map((key) => key + WAITED_MARK_SUFFIX), MARK_MS);
    } catch {
      return; // Redis is away: its return makes everyone try again (all()).
    }
    keys.forEach((key, i) => {
      if (found[i]) {
        if (this.#marked.has(key) && forgotten === this.#forgotten) this.#marked.set(key, sent + MARK_MS);
      } else {
        // Changes made since the mark went were not published: try again, marking anew.
        this.#marked.delete(key);
        this.changed(key);
      }
    });
  }

  /**
   * Tries `attempt` until it gives a result, waiting for a change of `key` between tries. At the
   * deadline (`seconds`; null waits forever) it fails with `expiry()`; if the caller's signal
   * aborts, with CallCancelled. A zero deadline fails after the first try; `beforeWait` may refuse
   * to wait at all (a NaN timeout). `undo` gives back what an attempt took when the caller was
   * withdrawn while it ran. `triedOnce`: the caller tried once before calling, and found nothing;
   * then, when the key must be marked first, the try before marking is left out (the try after
   * marking sees whatever changed since).
   */
  async until<T>(wait: BlockedCall<T>, triedOnce = false): Promise<T> {
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
        if (!(first && triedOnce && this.#unmarked(key))) {
          const result = await attempt();
          if (result !== NOT_YET) {
            if (isWithdrawn(context)) {
              await undo?.(result);
              throw new CallCancelled();
            }
            return result;
          }
          if (first && seconds !== null && seconds <= 0) throw expiry();
        }
        if (first) beforeWait?.();
        // Waiting from here on: the signal withdraws it (and lists the call as blocked, if its method did not).
        const signal = context.signal;
        if (signal?.aborted) throw new CallCancelled();
        if (poked) continue;
        if (this.#unmarked(key)) {
          // Changes are published only once the key is marked: try once more after marking it.
          await this.#mark(key);
          continue;
        }
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
