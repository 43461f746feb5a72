/**
 * The shared `Condition`: Python's `threading.Condition` as `SyncManager().Condition()` serves
 * it. A lock (its own RLock, or the Lock or RLock it was created with) and a line of waiters:
 * `wait()` gives up the lock entirely, waits for a notify (or its timeout), then takes the lock
 * back at the depth it had before its result is delivered; `notify(n)` wakes the n longest
 * waiters, `notify_all()` all of them, in arrival order.
 *
 * **A waiter that leaves.** A wait whose caller cancels or disconnects is withdrawn: while it
 * waits for a notify, it simply leaves the line; once notified, while it waits to take the lock
 * back, it leaves the lock's line and its notification passes to the longest waiter still
 * waiting, so no notify is lost on a caller that will never act on it. Either way the withdrawn
 * caller does not hold the lock afterwards: the wait gave it up when it began, and it is not
 * taken back for a caller that is gone (CallCancelled is the wait's answer).
 */

import { bindArguments, isWithdrawn, ownerOf, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { referent, SharedRef } from '../calls/sharedRef';
import { pyNumber, pyTypeName } from '../pythonSemantics';
import { Lock, RLock } from './locks';
import { park, release as releaseWaiter, TIMEOUT_MAX, type Waiter, WaiterList } from './waiting';

/** A waiting caller: its context, and the depth at which it held the lock. */
interface Sleeper {
  readonly context: CallContext;
  readonly saved: number;
}

/** What a wait's park resolves with when its timeout passed before any notify. */
const TIMED_OUT = Symbol('timed out');

/**
 * The seconds a `wait(timeout)` waits for a notify, as Python's `Condition.wait` reads them:
 * null for None (no deadline); 0 (no waiting at all) for `timeout > 0` false, NaN included.
 * @throws PyException TypeError for a non-number; OverflowError beyond TIMEOUT_MAX.
 */
export function waitTimeout(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const n = pyNumber(timeout);
  if (n === undefined) throw new PyException('TypeError', `'>' not supported between instances of '${pyTypeName(timeout)}' and 'int'`);
  const seconds = Number(n);
  if (!(seconds > 0)) return 0;
  if (seconds > TIMEOUT_MAX) throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
  return seconds;
}

/** A Condition's `wait()` by a caller that does not hold its lock. */
export function cannotWait(): PyException {
  return new PyException('RuntimeError', 'cannot wait on un-acquired lock');
}

/** A Condition's `notify()` by a caller that does not hold its lock. */
export function cannotNotify(): PyException {
  return new PyException('RuntimeError', 'cannot notify on un-acquired lock');
}

/** Python's repr of a Condition: its lock's repr, and how many wait. */
export function conditionRepr(lockRepr: string, waiting: number): string {
  return `<Condition(${lockRepr}, ${waiting})>`;
}

/** A shared condition variable over a Lock or RLock of this server. */
export class Condition {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Condition';
  /** What CPython's ConditionProxy exposes (its `wait_for` is a client-side loop over `wait`). */
  static readonly exposed: readonly string[] = ['acquire', 'release', 'wait', 'notify', 'notify_all'];
  /** Python signatures of the exposed methods (acquire and release are the lock's). */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    acquire: sig(['blocking', true], ['timeout', -1]),
    release: sig(),
    wait: sig(['timeout', null]),
    notify: sig(['n', 1]),
    notify_all: sig(),
  };

  readonly #lock: Lock | RLock;
  readonly #waiters = new WaiterList<Sleeper>();

  /** @param lock the lock to use; a new RLock when absent, as in Python. */
  constructor(lock?: Lock | RLock) {
    this.#lock = lock ?? new RLock();
  }

  /** The condition's lock. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  /** Python's `acquire(blocking=True, timeout=-1)`: the lock's. */
  acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): boolean | Promise<unknown> {
    return this.#lock.acquire(blocking, timeout, context);
  }

  /** Python's `release()`: the lock's. */
  release(context: CallContext = {}): undefined {
    return this.#lock.release(context);
  }

  /**
   * Python's `wait(timeout=None)`: true when notified, false when the timeout passed; delivered
   * once the lock is held again, at the depth it was held before. A Promise unless the timeout
   * is <= 0 and the lock could be taken back at once. Rejected with CallCancelled if the
   * caller's signal aborts (see the file's comment for what that leaves).
   * @throws PyException RuntimeError 'cannot wait on un-acquired lock'; TypeError, OverflowError for a bad timeout.
   */
  wait(timeout: unknown = null, context: CallContext = {}): unknown {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (!this.#lock.isOwnedBy(ownerOf(context))) throw cannotWait();
    // Checked before the lock is given up: Python raises these with the lock held again.
    const seconds = waitTimeout(timeout);
    const sleeper: Sleeper = { context, saved: this.#lock.releaseSave(context) };
    if (seconds === 0) return this.#reacquire(sleeper, false);
    return park(this.#waiters, sleeper, seconds, { resolve: TIMED_OUT }, context).then((r) => (r === TIMED_OUT ? this.#reacquire(sleeper, false) : r));
  }

  /**
   * Python's `notify(n=1)`: wakes the n longest waiters (none is a no-op). Each takes the lock
   * back in turn once the caller releases it.
   * @throws PyException RuntimeError 'cannot notify on un-acquired lock'; TypeError for an n that is not a number.
   */
  notify(n: unknown = 1, context: CallContext = {}): undefined {
    if (!this.#lock.isOwnedBy(ownerOf(context))) throw cannotNotify();
    // Python's `while waiters and n > 0`: n is only compared when somebody waits.
    let left: number | undefined;
    for (let w = this.#waiters.peek(); w; w = this.#waiters.peek()) {
      left ??= notifyCount(n);
      if (!(left > 0)) break;
      this.#wake(w);
      left -= 1;
    }
    return undefined;
  }

  /** Python's `notify_all()`: wakes every waiter. */
  notify_all(context: CallContext = {}): undefined {
    return this.notify(this.#waiters.size, context);
  }

  /** Takes a waiter out of the line; it goes straight into the lock's line, and its wait settles when it has the lock. */
  #wake(w: Waiter<Sleeper>): void {
    this.#waiters.remove(w);
    releaseWaiter(w);
    w.resolve(this.#reacquire(w.item, true));
  }

  /**
   * Takes the lock back for a sleeper, then gives its wait's result. A notified sleeper that
   * leaves before it has the lock passes its notification on.
   */
  #reacquire(sleeper: Sleeper, notified: boolean): unknown {
    const passOn = notified ? () => this.#passOn() : undefined;
    if (isWithdrawn(sleeper.context)) {
      passOn?.();
      return Promise.reject(new CallCancelled());
    }
    const got = this.#lock.acquireRestore(sleeper.saved, sleeper.context, passOn);
    return got === true ? notified : got.then(() => notified);
  }

  /** A notified waiter left before it took the lock back: the longest waiter gets its notification. */
  #passOn(): void {
    const next = this.#waiters.peek();
    if (next) this.#wake(next);
  }

  /** Python's repr: `<Condition(<lock repr>, n_waiters)>`. */
  __repr__(): string {
    return conditionRepr(this.#lock.__repr__(), this.#waiters.size);
  }

  /** The condition's state for inspection tools. */
  describeState(): { details: { lock: 'Lock' | 'RLock'; locked: boolean; owner: string | null; waiting: number } } {
    const lock = this.#lock.describeState().details;
    return { details: { lock: this.#lock instanceof RLock ? 'RLock' : 'Lock', locked: lock.locked, owner: lock.owner, waiting: this.#waiters.size } };
  }
}

/** notify's n, compared with 0 as Python's loop does. */
export function notifyCount(n: unknown): number {
  const count = pyNumber(n);
  if (count === undefined) throw new PyException('TypeError', `'>' not supported between instances of '${pyTypeName(n)}' and 'int'`);
  return Number(count);
}

const constructorSignature = sig(['lock', null]);

/** How a non-lock argument is named in the TypeError. */
function described(value: unknown): string {
  const obj = referent(value);
  if (value instanceof SharedRef) {
    const ctor = (obj as object).constructor as { builtin?: string; name?: string } | undefined;
    return `a proxy of a ${ctor?.builtin ?? ctor?.name ?? 'object'}`;
  }
  return `'${pyTypeName(value)}'`;
}

/**
 * Python's `threading.Condition(lock=None)` from wire arguments: a lock passed in arrives as a
 * reference (a `$proxy`) to a Lock or RLock of this server, and that very lock is used.
 * @throws PyException TypeError for bad arguments, or a lock that is not a Lock or RLock of this server.
 */
export function createCondition(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Condition {
  const lock = conditionLockArgument(args, kwargs);
  if (lock === null) return new Condition();
  if (lock instanceof Lock || lock instanceof RLock) return new Condition(lock);
  throw notALock(args, kwargs);
}

/**
 * Binds `Condition(lock=None)` wire arguments: the lock object a `$proxy` refers to, or null for none.
 * @throws PyException TypeError for bad arguments.
 */
export function conditionLockArgument(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object | null {
  const [lock] = bindArguments('Condition', constructorSignature, args, kwargs);
  if (lock === null || lock === undefined) return null;
  return referent(lock) as object;
}

/** The TypeError for a Condition's lock argument that is no lock of this manager. */
export function notALock(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): PyException {
  const [lock] = bindArguments('Condition', constructorSignature, args, kwargs);
  return new PyException('TypeError', `Condition() argument 'lock' must be a Lock or RLock proxy of this manager, not ${described(lock)}`);
}
