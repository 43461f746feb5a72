/**
 * The shared `threading` locks: `Lock`, `RLock`, `Semaphore` and `BoundedSemaphore`, as
 * `SyncManager().Lock()` and the others serve them, with CPython's methods, results, reprs and
 * error messages.
 *
 * Calls that can complete do so synchronously; only an acquire that must wait returns a Promise.
 * Waiters are served first come, first served: a release hands the lock (or a permit) straight to
 * the longest waiter, so no later caller can barge in. A waiting acquire whose caller cancels or
 * leaves is withdrawn having taken nothing.
 *
 * **Ownership.** CPython's manager never gives back a lock or a permit held by a client that
 * died: the next acquirer waits forever. Here what a client holds is given back when its
 * connection closes. The owner of a call is its connection (`ownerOf(context)`: the session id,
 * or `LOCAL_OWNER` for in-process calls). The connection is the unit whose death the server can
 * see, and it is also the right owner for an RLock: each thread of a CPython client has a
 * connection of its own, so "the owning thread" and "the owning connection" are the same thing.
 * When a caller comes to hold something (it acquired, or a waiter was granted later) the
 * resource calls `context.hold(this)`; when that owner holds nothing of it any more, the
 * acquirer's `letGo(this)`. When a connection closes, the server calls `ownerLeft(sessionId)`:
 * - a Lock is unlocked if that connection acquired it (a Lock has no owner in Python: anyone
 *   may release it; the acquirer is who gets it back on death, and a release by anybody else
 *   still clears the acquirer's record);
 * - an RLock held by that connection is freed whatever its recursion depth;
 * - a Semaphore gets back the permits that connection acquired and did not release itself
 *   (counted per owner; a release by an owner holding none is a plain release, taken from
 *   nobody's count). A BoundedSemaphore never returns more than would take it past its initial
 *   value: permits already given back by someone else's plain release are not returned twice.
 * Then the waiters are served, in order. Blocked calls of the closing connection are withdrawn
 * first, so what it held goes to other clients, never to its own dead waiters.
 *
 * The trade-off is for a semaphore used as a signal rather than a pool (one client releases,
 * another acquires and never gives back): a permit taken by a client that dies is returned, so
 * the signal it consumed is seen again by the next acquirer. A pool, the common use, is what
 * this protects.
 */

import { bindArguments, isWithdrawn, ownerOf, sig, type CallContext, type HeldResource, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyCompare, pyIndex, pyNumber, pyTruthy, pyTypeName } from '../pythonSemantics';
import { park, release as releaseWaiter, TIMEOUT_MAX, waitSeconds, type Waiter, WaiterList } from './waiting';

/** A caller that takes a lock: its call's context (owner, hold/letGo), and how deep it holds it. */
interface Claim {
  readonly context: CallContext;
  /** The recursion to hold the lock at: 1, or an RLock's depth a Condition's wait restores. */
  readonly count: number;
}

/** `_thread.lock.acquire` and `_thread.RLock.acquire`: `(blocking=True, timeout=-1)`. */
const lockAcquireSignature = sig(['blocking', true], ['timeout', -1]);

/**
 * A lock's `acquire` arguments read as CPython's `lock_acquire_parse_args` reads them, in its
 * order: the timeout's type and range, then its combination with `blocking`, then its sign.
 * None is taken as the default (CPython's proxies never send it; here it means "no timeout").
 * @returns seconds to wait: 0 for a non-blocking call, null for no deadline.
 * @throws PyException TypeError, ValueError and OverflowError, worded as CPython 3.13 words them.
 */
export function lockWaitSeconds(blocking: unknown, timeout: unknown): number | null {
  const block = pyTruthy(blocking);
  let seconds: number | null = null;
  if (timeout !== null && timeout !== undefined) {
    const n = pyNumber(timeout);
    if (n !== undefined && Number.isNaN(Number(n))) throw new PyException('ValueError', 'Invalid value NaN (not a number)');
    seconds = waitSeconds(timeout);
    if (seconds !== null && seconds < -TIMEOUT_MAX) throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
  }
  const unset = seconds === null || seconds === -1;
  if (!block && !unset) throw new PyException('ValueError', "can't specify a timeout for a non-blocking call");
  if (!unset && seconds! < 0) throw new PyException('ValueError', 'timeout value must be a non-negative number');
  if (!block) return 0;
  return unset ? null : seconds;
}

/** Lock's `release()` when nobody holds it. */
export function releaseUnlocked(): PyException {
  return new PyException('RuntimeError', 'release unlocked lock');
}

/** RLock's `release()` (and a Condition's over it) by a caller that does not hold it. */
export function releaseUnacquired(): PyException {
  return new PyException('RuntimeError', 'cannot release un-acquired lock');
}

/** Python's repr of a Lock. */
export function lockRepr(locked: boolean, self: object): string {
  return `<${locked ? 'locked' : 'unlocked'} _thread.lock object at ${pyAddress(self)}>`;
}

/** Python's repr of an RLock, with the owner's id where CPython shows a thread id. */
export function rlockRepr(owner: string | undefined, count: number, self: object): string {
  return `<${owner !== undefined ? 'locked' : 'unlocked'} _thread.RLock object owner=${owner ?? 0} count=${count} at ${pyAddress(self)}>`;
}

/**
 * What Lock and RLock share: one holder (an owner, a depth, and the context that acquired, whose
 * `letGo` is called when the lock is freed whoever frees it), and a line of waiters granted the
 * lock in turn. Also the hooks a Condition uses to give up and take back its lock.
 */
abstract class LockCore implements HeldResource {
  /** The holder's owner id; undefined when unlocked. */
  protected owner: string | undefined;
  /** The holder's recursion depth (1 for a Lock); 0 when unlocked. */
  protected count = 0;
  /** The context of the call that acquired: its `letGo` clears the holder's record. */
  #holder: CallContext | undefined;
  readonly #waiters = new WaiterList<Claim>();

  /** Whether some caller holds the lock. */
  get isLocked(): boolean {
    return this.owner !== undefined;
  }

  /** How many acquires are waiting. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Takes the lock free for `claim`, or waits for it (seconds: 0 tries once, null forever). */
  protected acquireFor(claim: Claim, seconds: number | null, onWithdraw?: (w: Waiter<Claim>) => void): boolean | Promise<unknown> {
    if (this.owner === undefined) {
      this.#take(claim);
      return true;
    }
    if (seconds === 0) return false;
    return park(this.#waiters, claim, seconds, { resolve: false }, claim.context, onWithdraw);
  }

  #take(claim: Claim): void {
    this.owner = ownerOf(claim.context);
    this.count = claim.count;
    this.#holder = claim.context;
    claim.context.hold?.(this);
  }

  /** Frees the lock: its acquirer lets go, and the longest waiter gets it at once. */
  protected unlock(): void {
    const holder = this.#holder;
    this.owner = undefined;
    this.count = 0;
    this.#holder = undefined;
    holder?.letGo?.(this);
    const next = this.#waiters.shift();
    if (next) {
      releaseWaiter(next);
      this.#take(next.item);
      next.resolve(true);
    }
  }

  /** The session `ownerId` closed: if it holds the lock, at whatever depth, the lock is freed. */
  ownerLeft(ownerId: string): void {
    if (this.owner === ownerId) this.unlock();
  }

  /** Whether `owner` may wait and notify on a Condition over this lock (Python's `_is_owned`). */
  abstract isOwnedBy(owner: string): boolean;

  /** For a Condition's wait: frees the lock entirely; returns the depth to restore (Python's `_release_save`). */
  abstract releaseSave(context: CallContext): number;

  /**
   * For a Condition's wait: takes the lock back at depth `count`, waiting as long as it takes
   * (Python's `_acquire_restore`). `onWithdraw` runs if the caller leaves while waiting.
   */
  acquireRestore(count: number, context: CallContext, onWithdraw?: () => void): true | Promise<unknown> {
    return this.acquireFor({ context, count }, null, onWithdraw) as true | Promise<unknown>;
  }

  /** The owner for reprs and inspection: its session id, or null when unlocked. */
  protected get shownOwner(): string | null {
    return this.owner ?? null;
  }
}

/**
 * A shared `threading.Lock`: one holder at a time. As in Python it has no owner: any caller may
 * release it. Its acquirer is remembered only to give it back if that client leaves.
 */
export class Lock extends LockCore {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Lock';
  /** What CPython's AcquirerProxy exposes, plus `locked`, a real threading.Lock method. */
  static readonly exposed: readonly string[] = ['acquire', 'release', 'locked'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    acquire: lockAcquireSignature,
    release: sig(),
    locked: sig(),
  };

  /**
   * Python's `acquire(blocking=True, timeout=-1)`: true when acquired; false when not blocking
   * and held, or when the timeout passed. A Promise when it must wait (rejected with
   * CallCancelled, having taken nothing, if the caller's signal aborts).
   * @throws PyException ValueError, TypeError or OverflowError for bad arguments.
   */
  acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): boolean | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    return this.acquireFor({ context, count: 1 }, lockWaitSeconds(blocking, timeout));
  }

  /**
   * Python's `release()`: unlocks, whoever the caller is, and hands the lock to the longest waiter.
   * @throws PyException RuntimeError 'release unlocked lock'.
   */
  release(_context: CallContext = {}): undefined {
    if (!this.isLocked) throw releaseUnlocked();
    this.unlock();
    return undefined;
  }

  /** Python's `locked()`: whether some caller holds it. */
  locked(): boolean {
    return this.isLocked;
  }

  /** Python's rule for a plain lock under a Condition: "owned" means locked, by anyone. */
  isOwnedBy(_owner: string): boolean {
    return this.isLocked;
  }

  releaseSave(context: CallContext): number {
    this.release(context);
    return 1;
  }

  /** Python's repr: `<unlocked _thread.lock object at 0x...>`. */
  __repr__(): string {
    return lockRepr(this.isLocked, this);
  }

  /** The lock's state for inspection tools. */
  describeState(): { details: { locked: boolean; owner: string | null; waiting: number } } {
    return { details: { locked: this.isLocked, owner: this.shownOwner, waiting: this.waiting } };
  }
}

/**
 * A shared `threading.RLock`: its owner (the calling connection) may acquire it again, and must
 * release it as many times; only the owner may release it.
 */
export class RLock extends LockCore {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'RLock';
  /** What CPython's AcquirerProxy exposes (3.14 added `locked`, which RLock has from 3.14 too). */
  static readonly exposed: readonly string[] = ['acquire', 'release', 'locked'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    acquire: lockAcquireSignature,
    release: sig(),
    locked: sig(),
  };

  /** Python's `locked()`: whether some caller holds it, at any depth. */
  locked(): boolean {
    return this.isLocked;
  }

  /**
   * Python's `acquire(blocking=True, timeout=-1)`: the owner goes one deeper at once; others
   * take it free, or wait as a Lock's acquirers do.
   * @throws PyException ValueError, TypeError or OverflowError for bad arguments.
   */
  acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): boolean | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const seconds = lockWaitSeconds(blocking, timeout);
    if (this.owner !== undefined && this.owner === ownerOf(context)) {
      this.count++;
      return true;
    }
    return this.acquireFor({ context, count: 1 }, seconds);
  }

  /**
   * Python's `release()`: one level less; at zero the lock is free and goes to the longest waiter.
   * @throws PyException RuntimeError 'cannot release un-acquired lock' when the caller is not the owner.
   */
  release(context: CallContext = {}): undefined {
    if (this.owner === undefined || this.owner !== ownerOf(context)) throw releaseUnacquired();
    if (--this.count === 0) this.unlock();
    return undefined;
  }

  isOwnedBy(owner: string): boolean {
    return this.owner === owner;
  }

  releaseSave(context: CallContext): number {
    if (!this.isOwnedBy(ownerOf(context))) throw releaseUnacquired();
    const count = this.count;
    this.unlock();
    return count;
  }

  /** Python's repr, with the owning session's id where CPython shows a thread id. */
  __repr__(): string {
    return rlockRepr(this.owner, this.count, this);
  }

  /** The lock's state for inspection tools. */
  describeState(): { details: { locked: boolean; owner: string | null; count: number; waiting: number } } {
    return { details: { locked: this.isLocked, owner: this.shownOwner, count: this.count, waiting: this.waiting } };
  }
}

/** The int a semaphore's count argument stands for, once Python's own checks passed. */
export function permitCount(v: unknown): number {
  const n = pyIndex(v);
  // Python would take a float and count in floats; an int is what a count of permits can be.
  if (n === undefined) throw new PyException('TypeError', `'${pyTypeName(v)}' object cannot be interpreted as an integer`);
  return Number(n);
}

/**
 * A semaphore's initial value, checked as Python's constructor checks it.
 * @throws PyException ValueError 'semaphore initial value must be >= 0', TypeError for a non-int.
 */
export function semaphoreInitial(value: unknown): number {
  if (pyCompare(value, 0) < 0) throw new PyException('ValueError', 'semaphore initial value must be >= 0');
  return permitCount(value);
}

/**
 * Whether a semaphore's `acquire(blocking, timeout)` may wait, checked as Python checks it first.
 * @throws PyException ValueError "can't specify timeout for non-blocking acquire".
 */
export function semaphoreBlocks(blocking: unknown, timeout: unknown): boolean {
  const block = pyTruthy(blocking);
  if (!block && timeout !== null && timeout !== undefined) throw new PyException('ValueError', "can't specify timeout for non-blocking acquire");
  return block;
}

/**
 * The seconds a semaphore's acquire that must wait waits, read as Python reads them once it must:
 * null for None or NaN (Python's loop never gives up then), 0 when the timeout is already over.
 * @throws PyException TypeError for a timeout that is not a number.
 */
export function semaphoreWaitSeconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  // Python computes `_time() + timeout` before its first wait.
  const n = pyNumber(timeout);
  if (n === undefined) throw new PyException('TypeError', `unsupported operand type(s) for +: 'float' and '${pyTypeName(timeout)}'`);
  const seconds = Number(n);
  // Python's loop gives up once the time left is <= 0; NaN never compares so, and waits on.
  if (seconds <= 0) return 0;
  return Number.isNaN(seconds) ? null : seconds;
}

/**
 * The count of a semaphore's `release(n)`, checked as Python checks it.
 * @throws PyException ValueError 'n must be one or more', TypeError for a non-int.
 */
export function releaseCount(n: unknown): number {
  if (pyCompare(n, 1) < 0) throw new PyException('ValueError', 'n must be one or more');
  return permitCount(n);
}

/** BoundedSemaphore's `release(n)` past its initial value. */
export function releasedTooManyTimes(): PyException {
  return new PyException('ValueError', 'Semaphore released too many times');
}

/** Python's repr of a Semaphore (`initial` given: a BoundedSemaphore's). */
export function semaphoreRepr(value: number, self: object, initial?: number): string {
  return initial === undefined ? `<threading.Semaphore at ${pyAddress(self)}: value=${value}>` : `<threading.BoundedSemaphore at ${pyAddress(self)}: value=${value}/${initial}>`;
}

/**
 * A shared `threading.Semaphore`: a count of permits; `acquire` takes one (waiting while there is
 * none), `release(n)` gives back n. Each owner's permits are counted, to give them back if it leaves.
 */
export class Semaphore implements HeldResource {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin: string = 'Semaphore';
  /** What CPython's AcquirerProxy exposes. */
  static readonly exposed: readonly string[] = ['acquire', 'release'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    acquire: sig(['blocking', true], ['timeout', null]),
    release: sig(['n', 1]),
  };

  /** Free permits (0 whenever somebody waits: a release hands permits to waiters first). */
  protected value: number;
  readonly #waiters = new WaiterList<CallContext>();
  /** Permits each owner acquired and has not released itself. */
  readonly #holders = new Map<string, number>();
  /** The sum of #holders. */
  #held = 0;

  /**
   * @param value the initial number of permits.
   * @throws PyException ValueError 'semaphore initial value must be >= 0', TypeError for a non-int.
   */
  constructor(value: unknown = 1) {
    this.value = semaphoreInitial(value);
  }

  /**
   * Python's `acquire(blocking=True, timeout=None)`: true when a permit was taken; false when not
   * blocking, or when the timeout passed. A Promise when it must wait (rejected with
   * CallCancelled, having taken nothing, if the caller's signal aborts).
   * @throws PyException ValueError "can't specify timeout for non-blocking acquire"; TypeError
   * for a timeout that is not a number (only when it must wait, as in Python).
   */
  acquire(blocking: unknown = true, timeout: unknown = null, context: CallContext = {}): boolean | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const block = semaphoreBlocks(blocking, timeout);
    if (this.value > 0) {
      this.#grant(context);
      return true;
    }
    if (!block) return false;
    const seconds = semaphoreWaitSeconds(timeout);
    if (seconds === 0) return false;
    return park(this.#waiters, context, seconds, { resolve: false }, context);
  }

  /**
   * Python's `release(n=1)`: n more permits, handed to the longest waiters first. The caller's
   * own permits are the ones it gives back, as far as it has any.
   * @throws PyException ValueError 'n must be one or more'; BoundedSemaphore: 'Semaphore released too many times'.
   */
  release(n: unknown = 1, context: CallContext = {}): undefined {
    const count = releaseCount(n);
    this.checkRelease(count);
    const owner = ownerOf(context);
    const mine = this.#holders.get(owner) ?? 0;
    if (mine > 0) {
      const back = Math.min(mine, count);
      this.#held -= back;
      if (back === mine) {
        this.#holders.delete(owner);
        context.letGo?.(this);
      } else {
        this.#holders.set(owner, mine - back);
      }
    }
    this.value += count;
    this.#handOut();
    return undefined;
  }

  /** The session `ownerId` closed: the permits it acquired and still holds come back. */
  ownerLeft(ownerId: string): void {
    const mine = this.#holders.get(ownerId);
    if (mine === undefined) return;
    this.#holders.delete(ownerId);
    this.#held -= mine;
    this.value += this.returnable(mine);
    this.#handOut();
  }

  /** How many of a departed owner's `held` permits come back (a BoundedSemaphore caps them). */
  protected returnable(held: number): number {
    return held;
  }

  /** A hook for BoundedSemaphore's check, run before a release changes anything. */
  protected checkRelease(_n: number): void {}

  /** Permits held by owners that did not release them (for the bound on what comes back). */
  protected get heldTotal(): number {
    return this.#held;
  }

  #grant(context: CallContext): void {
    this.value--;
    const owner = ownerOf(context);
    this.#holders.set(owner, (this.#holders.get(owner) ?? 0) + 1);
    this.#held++;
    context.hold?.(this);
  }

  /** Free permits go to the waiters in arrival order, one each. */
  #handOut(): void {
    while (this.value > 0) {
      const w = this.#waiters.shift();
      if (!w) return;
      releaseWaiter(w);
      this.#grant(w.item);
      w.resolve(true);
    }
  }

  /** Python's repr: `<threading.Semaphore at 0x...: value=1>`. */
  __repr__(): string {
    return semaphoreRepr(this.value, this);
  }

  /** The semaphore's state for inspection tools. */
  describeState(): { details: Record<string, unknown> } {
    return { details: { value: this.value, waiting: this.#waiters.size, holders: Object.fromEntries(this.#holders) } };
  }
}

/** A shared `threading.BoundedSemaphore`: a Semaphore that refuses to go above its initial value. */
export class BoundedSemaphore extends Semaphore {
  /** The SyncManager typeid and the type name clients see. */
  static override readonly builtin: string = 'BoundedSemaphore';
  readonly #initial: number;

  /** @throws PyException as Semaphore's. */
  constructor(value: unknown = 1) {
    super(value);
    this.#initial = this.value;
  }

  protected override checkRelease(n: number): void {
    if (this.value + n > this.#initial) throw releasedTooManyTimes();
  }

  /**
   * Never past the initial value: if another owner's plain release already gave some of these
   * permits back, they are not returned twice (the ones others still hold stay counted).
   */
  protected override returnable(held: number): number {
    return Math.max(0, Math.min(held, this.#initial - this.value - this.heldTotal));
  }

  /** Python's repr: `<threading.BoundedSemaphore at 0x...: value=1/2>`. */
  override __repr__(): string {
    return semaphoreRepr(this.value, this, this.#initial);
  }

  override describeState(): { details: Record<string, unknown> } {
    const { details } = super.describeState();
    return { details: { ...details, initial: this.#initial } };
  }
}

const noArguments = sig();
/** `Semaphore(value=1)` and `BoundedSemaphore(value=1)`. */
export const semaphoreSignature = sig(['value', 1]);

/**
 * Binds `Lock()` or `RLock()` wire arguments: there are none.
 * @throws PyException TypeError for any argument.
 */
export function bindLockArguments(typeid: 'Lock' | 'RLock', args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): void {
  bindArguments(typeid, noArguments, args, kwargs);
}

/**
 * Python's `threading.Lock()` from wire arguments.
 * @throws PyException TypeError for any argument.
 */
export function createLock(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Lock {
  bindLockArguments('Lock', args, kwargs);
  return new Lock();
}

/**
 * Python's `threading.RLock()` from wire arguments.
 * @throws PyException TypeError for any argument.
 */
export function createRLock(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): RLock {
  bindLockArguments('RLock', args, kwargs);
  return new RLock();
}

/**
 * Python's `threading.Semaphore(value=1)` from wire arguments.
 * @throws PyException TypeError for bad arguments, ValueError for a negative value.
 */
export function createSemaphore(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Semaphore {
  const [value] = bindArguments('Semaphore', semaphoreSignature, args, kwargs);
  return new Semaphore(value);
}

/**
 * Python's `threading.BoundedSemaphore(value=1)` from wire arguments.
 * @throws PyException TypeError for bad arguments, ValueError for a negative value.
 */
export function createBoundedSemaphore(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): BoundedSemaphore {
  const [value] = bindArguments('BoundedSemaphore', semaphoreSignature, args, kwargs);
  return new BoundedSemaphore(value);
}
