/**
 * The shared `Barrier`: Python's `threading.Barrier` as `SyncManager().Barrier()` serves it.
 * `parties` callers meet at `wait()`; when the last one arrives, the barrier's action (if any)
 * runs and all of them are released together, each with its arrival index (0 for the first,
 * parties-1 for the last), and the barrier is ready for the next cycle. A wait that times out
 * breaks the barrier: every waiter, and every later wait until `reset()`, raises
 * BrokenBarrierError. `abort()` breaks it; `reset()` sends the current waiters away with
 * BrokenBarrierError and makes it usable again.
 *
 * CPython's draining and resetting states (threads still leaving the barrier after it tripped or
 * was reset) have no counterpart here: releasing or breaking settles every waiter at once, in
 * one step no other call can interleave with, so the next caller starts a fresh cycle at once.
 *
 * **A withdrawn waiter.** Python has no cancellation and no client death for a barrier; here a
 * waiting party's call is withdrawn when its client cancels it (`$/cancelRequest`) or its
 * connection closes. That party will never arrive, so the cycle cannot complete with `parties`
 * participants. It is treated as that party's timeout: the barrier breaks, so the other waiters
 * get BrokenBarrierError at once instead of waiting forever, and later waits get it too until
 * `reset()`. The withdrawn caller gets CallCancelled (RequestCancelled over the protocol); breaking
 * the barrier is its wait's only effect. A call
 * withdrawn before it arrives (already cancelled when it runs) has no effect at all, and one
 * withdrawn after the barrier released it keeps its place in that cycle (its index was given).
 *
 * **The action.** Over the protocol `action` can only be None: a JSON client cannot send a
 * callable. Server code can give one, and register the barrier for clients:
 * `manager.register('get_barrier', { callable: () => barrier })` with
 * `const barrier = new Barrier(3, () => log('all three arrived'))`. It runs synchronously in the
 * last arrival's call, before anyone is released (a Promise it returns is not awaited; its
 * failure becomes a process warning). If it throws, the barrier breaks, the last caller gets
 * that exception and the others BrokenBarrierError.
 */

import { bindArguments, isWithdrawn, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyCompare, pyEquals, pyNumber, pyRepr, pyTypeName } from '../pythonSemantics';
import { clampSeconds, park, refuseOverlongTimeout, release, WaiterList } from './waiting';

/** What the barrier runs when the last party arrives (Python's `action`). */
export type BarrierAction = () => unknown;

/** Python's `threading.BrokenBarrierError`, raised with no message. */
export function brokenBarrierError(): PyException {
  return new PyException('BrokenBarrierError', '');
}

/** The attributes BarrierProxy reads through `__getattribute__`. */
const ATTRIBUTES: ReadonlySet<string> = new Set(['parties', 'n_waiting', 'broken']);

/**
 * The attribute a BarrierProxy's `__getattribute__(name)` reads, checked.
 * @throws PyException AttributeError for any other name, TypeError for a name that is not a str.
 */
export function barrierAttribute(name: unknown): 'parties' | 'n_waiting' | 'broken' {
  if (typeof name !== 'string') throw new PyException('TypeError', `attribute name must be string, not '${pyTypeName(name)}'`);
  if (!ATTRIBUTES.has(name)) throw new PyException('AttributeError', `'Barrier' object has no attribute ${pyRepr(name)}`);
  return name as 'parties' | 'n_waiting' | 'broken';
}

/**
 * A barrier's `parties`, checked as Python's constructor checks it.
 * @throws PyException ValueError "parties must be > 0", TypeError for one that is not a number.
 */
export function checkParties(parties: unknown): unknown {
  if (pyCompare(parties, 1) < 0) throw new PyException('ValueError', 'parties must be > 0');
  return parties;
}

/**
 * A wait's timeout in seconds, as Python's `Condition.wait_for` reads it: null waits forever,
 * NaN too (Python polls forever then); a non-number fails its `time() + timeout`.
 */
export function barrierSeconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const n = pyNumber(timeout);
  if (n === undefined) throw new PyException('TypeError', `unsupported operand type(s) for +: 'float' and '${pyTypeName(timeout)}'`);
  const seconds = Number(n);
  if (Number.isNaN(seconds)) return null;
  if (seconds > 0) refuseOverlongTimeout(timeout, seconds);
  return clampSeconds(seconds);
}

/** Python's repr of a Barrier. */
export function barrierRepr(broken: boolean, waiting: number, parties: unknown, self: object): string {
  const state = broken ? 'broken' : `waiters=${waiting}/${pyRepr(parties)}`;
  return `<threading.Barrier at ${pyAddress(self)}: ${state}>`;
}

/** A meeting point for a fixed number of callers, with Python's `threading.Barrier` methods. */
export class Barrier {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Barrier';
  /** The methods clients may call: BarrierProxy's (it reads the properties through `__getattribute__`). */
  static readonly exposed: readonly string[] = ['__getattribute__', 'wait', 'abort', 'reset'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __getattribute__: sig('name'),
    wait: sig(['timeout', null]),
    abort: sig(),
    reset: sig(),
  };

  /** `parties` as given (2, or 2.0, or True), for `__getattribute__` and the repr. */
  readonly #parties: unknown;
  readonly #action: BarrierAction | null;
  /** The default timeout of `wait()`, as given; checked only when a wait uses it, as in Python. */
  readonly #timeout: unknown;
  /** The waiting parties, each with its arrival index. */
  readonly #waiters = new WaiterList<number>();
  #broken = false;
  /** Counts breaks and resets, so the last arrival learns whether its action broke the cycle. */
  #generation = 0;
  /** Whether the action is running (a wait it makes on its own barrier cannot be counted). */
  #releasing = false;

  /**
   * @param parties the number of callers that meet; a number (Python compares it, so 2.0 works).
   * @param action run by the last arrival before anyone is released; null for none.
   * @param timeout the default timeout of `wait()`, in seconds; null waits forever.
   * @throws PyException ValueError "parties must be > 0", TypeError for a parties that is not a number.
   */
  constructor(parties: unknown, action: BarrierAction | null = null, timeout: unknown = null) {
    this.#parties = checkParties(parties);
    this.#action = action ?? null;
    this.#timeout = timeout ?? null;
  }

  /** Python's `parties`: the number of callers the barrier waits for. */
  get parties(): unknown {
    return this.#parties;
  }

  /** Python's `n_waiting`: the callers waiting now (0 when broken). */
  get n_waiting(): number {
    return this.#broken ? 0 : this.#waiters.size;
  }

  /** Python's `broken`: whether the barrier is broken (until `reset()`). */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Reads `parties`, `n_waiting` or `broken`, as BarrierProxy does.
   * @throws PyException AttributeError for any other name, TypeError for a name that is not a str.
   */
  __getattribute__(name: unknown): unknown {
    return this[barrierAttribute(name)];
  }

  /**
   * Python's `wait(timeout=None)`: the caller's arrival index, once all parties have arrived.
   * The last arrival runs the action and returns its index at once; the others get a Promise of
   * theirs. `timeout` None uses the barrier's default; when it passes (at once for 0, a negative
   * timeout, or the last arrival's broken action) the barrier breaks. A withdrawn waiter breaks
   * it too (see the module's notes) and is rejected with CallCancelled.
   * @throws PyException BrokenBarrierError when broken, or broken by this call; the action's
   *   exception; TypeError for a timeout that is not a number, OverflowError for one too long.
   */
  wait(timeout: unknown = null, context: CallContext = {}): number | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (this.#broken) throw brokenBarrierError();
    if (this.#releasing) throw new PyException('RuntimeError', "a barrier's action cannot wait on its own barrier");
    const index = this.#waiters.size;
    if (pyEquals(index + 1, this.#parties)) {
      this.#release();
      return index;
    }
    const seconds = barrierSeconds(timeout ?? this.#timeout);
    if (seconds !== null && seconds <= 0) {
      this.#break();
      throw brokenBarrierError();
    }
    // Whether the deadline passes or the caller withdraws, this party will not arrive: break.
    return park(this.#waiters, index, seconds, { reject: brokenBarrierError }, context, () => this.#break());
  }

  /** Python's `abort()`: breaks the barrier; waiters and later waits get BrokenBarrierError. */
  abort(): undefined {
    this.#break();
    return undefined;
  }

  /**
   * Python's `reset()`: the current waiters get BrokenBarrierError, and the barrier, broken or
   * not, is ready for a new cycle.
   */
  reset(): undefined {
    this.#generation++;
    this.#broken = false;
    this.#rejectAll();
    return undefined;
  }

  /** Python's repr: `<threading.Barrier at 0x...: waiters=1/3>`, or `broken`. */
  __repr__(): string {
    return barrierRepr(this.#broken, this.n_waiting, this.#parties, this);
  }

  /** The barrier's state for inspection tools (plain JSON), read without side effects. */
  describeState(): { details: { parties: number; waiting: number; broken: boolean } } {
    return { details: { parties: Number(pyNumber(this.#parties)), waiting: this.n_waiting, broken: this.#broken } };
  }

  /** The last arrival: runs the action, then releases every waiter with its index. */
  #release(): void {
    const generation = this.#generation;
    if (this.#action) {
      this.#releasing = true;
      try {
        const result = this.#action();
        // Not awaited (the release cannot wait for it), but its failure must not go unhandled,
        // which would end the server's process.
        if (result instanceof Promise) result.catch((error: unknown) => process.emitWarning(`a Barrier action's promise failed: ${String(error)}`));
      } catch (error) {
        this.#break();
        throw error;
      } finally {
        this.#releasing = false;
      }
      // The action aborted or reset its own barrier: this cycle is over, as for the waiters.
      if (generation !== this.#generation) throw brokenBarrierError();
    }
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
      release(w);
      w.resolve(w.item);
    }
  }

  /** Breaks the barrier: every waiter gets BrokenBarrierError, and so will later waits. */
  #break(): void {
    this.#generation++;
    this.#broken = true;
    this.#rejectAll();
  }

  #rejectAll(): void {
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
      release(w);
      w.reject(brokenBarrierError());
    }
  }
}

/** How `Barrier(...)` binds its arguments. */
const constructorSignature = sig('parties', ['action', null], ['timeout', null]);

/**
 * Python's `threading.Barrier(parties, action=None, timeout=None)` from wire arguments. A
 * client cannot send a callable, so `action` must be None.
 * @throws PyException TypeError for any other action or bad arguments, ValueError for parties < 1.
 */
export function createBarrier(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Barrier {
  const [parties, timeout] = barrierArguments(args, kwargs);
  return new Barrier(parties, null, timeout);
}

/**
 * Binds `Barrier(parties, action=None, timeout=None)` wire arguments, checked as Python checks
 * them (parties first), refusing an action a client cannot send.
 * @throws PyException TypeError for an action or bad arguments, ValueError for parties < 1.
 */
export function barrierArguments(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): [parties: unknown, timeout: unknown] {
  const [parties, action, timeout] = bindArguments('Barrier', constructorSignature, args, kwargs);
  // Python checks parties first.
  checkParties(parties);
  if (action !== null && action !== undefined) {
    throw new PyException(
      'TypeError',
      `Barrier() action must be None over the protocol: a client cannot send a callable (got '${pyTypeName(action)}'); give the action in the server's code (new Barrier(parties, action)) and register that barrier`,
    );
  }
  return [parties, timeout ?? null];
}
