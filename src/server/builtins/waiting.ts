/**
 * Blocked calls, shared by every type whose methods can wait (queues, locks, semaphores,
 * conditions, events, barriers): a first-come-first-served list of waiters with O(1) removal,
 * deadlines that outlast one timer, Python's checks on a timeout argument, and `park()`, which
 * turns a call that must wait into a Promise withdrawn without effect when its caller cancels
 * or leaves.
 */

import { CallCancelled, PyException } from '../exceptions';
import type { CallContext } from '../calls/methodDispatch';
import { pyCompare, pyIndex, pyNumber, pyTypeName } from '../pythonSemantics';

/** CPython's `threading.TIMEOUT_MAX`: a longer wait overflows there, so it is refused here too. */
export const TIMEOUT_MAX = 9223372036;
/** The longest delay `setTimeout` takes as given (a longer one would fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A blocked call, with what it brings (a queue item) or wants (a count of permits). */
export class Waiter<T = unknown> {
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  linked = false;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    /** What the waiter brings or needs: a putter's item, an acquirer's owner... */
    readonly item: T,
  ) {}
}

/** Waiters in arrival order, with O(1) removal from the middle (a cancelled or timed-out waiter). */
export class WaiterList<T = unknown> {
  #first: Waiter<T> | undefined;
  #last: Waiter<T> | undefined;
  size = 0;

  push(w: Waiter<T>): void {
    w.prev = this.#last;
    w.next = undefined;
    if (this.#last) this.#last.next = w;
    else this.#first = w;
    this.#last = w;
    w.linked = true;
    this.size++;
  }

  remove(w: Waiter<T>): void {
    if (!w.linked) return;
    if (w.prev) w.prev.next = w.next;
    else this.#first = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.#last = w.prev;
    w.prev = w.next = undefined;
    w.linked = false;
    this.size--;
  }

  /** The longest-waiting waiter, left in the list. */
  peek(): Waiter<T> | undefined {
    return this.#first;
  }

  shift(): Waiter<T> | undefined {
    const w = this.#first;
    if (w) this.remove(w);
    return w;
  }

  /** The waiters in arrival order (a copy: settling them while iterating is safe). */
  toArray(): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (let w = this.#first; w; w = w.next) out.push(w);
    return out;
  }
}

/** Drops a waiter's timer and abort listener, so settled waiters leave nothing behind. */
export function release(w: Waiter<unknown>): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
  w.timer = w.onAbort = w.signal = undefined;
}

/** Takes a waiter out of its list and resolves it with `value`. */
export function wake<T>(list: WaiterList<T>, w: Waiter<T>, value: unknown): void {
  list.remove(w);
  release(w);
  w.resolve(value);
}

/** Arms a waiter's deadline, in steps when it is longer than one timer can hold. */
function arm(w: Waiter<unknown>, ms: number, expire: () => void): void {
  w.timer = ms > MAX_TIMER_MS ? setTimeout(() => arm(w, ms - MAX_TIMER_MS, expire), MAX_TIMER_MS) : setTimeout(expire, ms);
}

/**
 * Python's checks on a blocking call's timeout: None means no deadline (null returned); a
 * negative one is a ValueError (worded by `negative`); a non-number fails `timeout < 0` with
 * Python's TypeError.
 */
export function timeoutSeconds(timeout: unknown, negative = "'timeout' must be a non-negative number"): number | null {
  if (timeout === null || timeout === undefined) return null;
  if (pyCompare(timeout, 0) < 0) throw new PyException('ValueError', negative);
  return Number(pyNumber(timeout));
}

/** 2**63 as CPython's float-to-nanoseconds conversion tests it. */
const NANOSECONDS_LIMIT = 2 ** 63;
/** The largest whole number of seconds whose nanoseconds fit CPython's 64-bit PyTime_t. */
const INT_SECONDS_MAX = 9223372036n;

/**
 * The OverflowError CPython raises when a wait's timeout does not fit its clock, worded as it
 * words it: an int is "too large to convert", a float "out of range". Only positive timeouts
 * get here (Python never converts the others).
 * @throws PyException OverflowError.
 */
export function refuseOverlongTimeout(timeout: unknown, seconds: number): void {
  const whole = pyIndex(timeout);
  if (whole !== undefined) {
    if (BigInt(whole) > INT_SECONDS_MAX) throw new PyException('OverflowError', 'timestamp too large to convert to C PyTime_t');
  } else if (seconds * 1e9 >= NANOSECONDS_LIMIT) {
    throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
  }
}

/** A timeout that fits CPython's clock but not the waiter list's: either way it is forever in practice. */
export function clampSeconds(seconds: number): number {
  return Math.min(seconds, TIMEOUT_MAX);
}

/**
 * A timeout as `_thread.lock.acquire` reads it, in seconds: None gives null (no deadline); NaN
 * gives null too, for the caller to refuse or read as forever (a Lock refuses it); the caller
 * checks the sign (the primitives word that error differently). A timeout CPython's clock can
 * hold but the waiter list cannot is clamped: it is forever in practice.
 * @throws PyException TypeError for a non-number, OverflowError beyond CPython's clock, worded as CPython's.
 */
export function waitSeconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const n = pyNumber(timeout);
  if (n === undefined) throw new PyException('TypeError', `'${pyTypeName(timeout)}' object cannot be interpreted as an integer`);
  const seconds = Number(n);
  if (Number.isNaN(seconds)) return null;
  if (seconds > 0) refuseOverlongTimeout(timeout, seconds);
  return clampSeconds(seconds);
}

/** How a parked call ends when its deadline passes: resolved with a value, or rejected. */
export type Expiry = { readonly resolve: unknown } | { readonly reject: () => unknown };

/**
 * Parks a call in `list` until something wakes it (see {@link wake}), its deadline passes (then
 * `expiry` decides the outcome), or its caller's signal aborts (rejected with CallCancelled,
 * having had no effect). `seconds` null or NaN waits forever. `onWithdraw` runs when the waiter
 * leaves without being woken (deadline or abort), before the promise settles, so a type can pass
 * on what the waiter would have taken.
 */
export function park<T>(list: WaiterList<T>, item: T, seconds: number | null, expiry: Expiry, context: CallContext, onWithdraw?: (w: Waiter<T>) => void): Promise<unknown> {
  const limited = seconds !== null && !Number.isNaN(seconds);
  if (limited && seconds > TIMEOUT_MAX) throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
  return new Promise((resolve, reject) => {
    const w = new Waiter<T>(resolve, reject, item);
    list.push(w);
    const withdraw = (settle: () => void): void => {
      if (!w.linked) return;
      list.remove(w);
      release(w);
      onWithdraw?.(w);
      settle();
    };
    if (limited) {
      arm(w, Math.ceil(seconds * 1000), () => withdraw(() => ('resolve' in expiry ? resolve(expiry.resolve) : reject(expiry.reject()))));
    }
    const signal = context.signal;
    if (signal) {
      w.signal = signal;
      w.onAbort = () => withdraw(() => reject(new CallCancelled()));
      signal.addEventListener('abort', w.onAbort, { once: true });
      // Cancelled before it could wait (see SessionCore.cancel): its signal came aborted.
      if (signal.aborted) w.onAbort();
    }
  });
}
