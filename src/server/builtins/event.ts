/**
 * The shared `Event`: Python's `threading.Event` as `SyncManager().Event()` serves it. A flag,
 * false at first; `wait()` blocks until it is set, and `set()` wakes every waiter at once.
 *
 * Calls that can complete do so synchronously; only a wait on a clear flag with time to wait
 * returns a Promise. A waiter whose caller cancels or leaves is withdrawn with no effect.
 */

import { bindArguments, isWithdrawn, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyNumber, pyTypeName } from '../pythonSemantics';
import { clampSeconds, park, refuseOverlongTimeout, wake, WaiterList } from './waiting';

/** A flag shared through the manager, with Python's `threading.Event` methods. */
export class Event {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Event';
  /** The methods clients may call: EventProxy's. */
  static readonly exposed: readonly string[] = ['is_set', 'set', 'clear', 'wait'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    is_set: sig(),
    set: sig(),
    clear: sig(),
    wait: sig(['timeout', null]),
  };

  #flag = false;
  readonly #waiters = new WaiterList();

  /** Python's `is_set()`: whether the flag is true. */
  is_set(): boolean {
    return this.#flag;
  }

  /** Python's `set()`: sets the flag and wakes every waiter, each with True. */
  set(): undefined {
    this.#flag = true;
    for (let w = this.#waiters.peek(); w; w = this.#waiters.peek()) wake(this.#waiters, w, true);
    return undefined;
  }

  /** Python's `clear()`: the flag is false again; later waits block until the next `set()`. */
  clear(): undefined {
    this.#flag = false;
    return undefined;
  }

  /**
   * Python's `wait(timeout=None)`: True when the flag is set, False when the timeout passes
   * first. True at once when it is already set (the timeout is then not even looked at, as in
   * Python); False at once for a timeout of 0, a negative one or NaN (Python's `timeout > 0`
   * fails for them and it only polls). Else a Promise of the result, rejected with
   * CallCancelled if the caller's signal aborts first.
   * @throws PyException TypeError for a non-number timeout, OverflowError for one too long.
   */
  wait(timeout: unknown = null, context: CallContext = {}): boolean | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (this.#flag) return true;
    if (timeout === null || timeout === undefined) return park(this.#waiters, undefined, null, { resolve: false }, context);
    const n = pyNumber(timeout);
    if (n === undefined) throw new PyException('TypeError', `'>' not supported between instances of '${pyTypeName(timeout)}' and 'int'`);
    const seconds = Number(n);
    if (!(seconds > 0)) return false;
    refuseOverlongTimeout(timeout, seconds);
    return park(this.#waiters, undefined, clampSeconds(seconds), { resolve: false }, context);
  }

  /** Python's repr: `<threading.Event at 0x...: set>` or `unset`. */
  __repr__(): string {
    return `<threading.Event at ${pyAddress(this)}: ${this.#flag ? 'set' : 'unset'}>`;
  }

  /** The event's state for inspection tools, read without side effects. */
  describeState(): { details: { set: boolean; waiting: number } } {
    return { details: { set: this.#flag, waiting: this.#waiters.size } };
  }
}

/** How `Event()` binds its arguments: it takes none. */
const constructorSignature = sig();

/**
 * Python's `threading.Event()` from wire arguments.
 * @throws PyException TypeError for any argument.
 */
export function createEvent(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Event {
  bindArguments('Event', constructorSignature, args, kwargs);
  return new Event();
}
