/**
 * The shared `Queue`: Python's `queue.Queue` as `SyncManager().Queue()` serves it. A FIFO with an
 * optional bound, blocking `get`/`put` with timeouts, and `task_done`/`join` accounting.
 *
 * Calls that can complete do so synchronously (no Promise, no microtask on the server's hot path);
 * only a call that must wait returns a Promise. Waiters are served first come, first served, and a
 * waiter whose caller cancels or leaves is withdrawn at once without consuming or adding anything.
 */

import { bindArguments, isWithdrawn, sig, type CallContext, type Signature } from '../signature';
import { CallCancelled, PyException } from '../exceptions';
import { pyCompare, pyIndex, pyNumber, pyTruthy, pyTypeName } from './pyValues';

/** CPython's `threading.TIMEOUT_MAX`: a longer wait overflows there, so it is refused here too. */
const TIMEOUT_MAX = 9223372036;
/** The longest delay `setTimeout` takes as given (a longer one would fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A blocked call: a getter, a putter (with the item it brings) or a joiner. */
class Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  linked = false;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    readonly item: unknown,
  ) {}
}

/** Waiters in arrival order, with O(1) removal from the middle (a cancelled or timed-out waiter). */
class WaiterList {
  #first: Waiter | undefined;
  #last: Waiter | undefined;
  size = 0;

  push(w: Waiter): void {
    w.prev = this.#last;
    w.next = undefined;
    if (this.#last) this.#last.next = w;
    else this.#first = w;
    this.#last = w;
    w.linked = true;
    this.size++;
  }

  remove(w: Waiter): void {
    if (!w.linked) return;
    if (w.prev) w.prev.next = w.next;
    else this.#first = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.#last = w.prev;
    w.prev = w.next = undefined;
    w.linked = false;
    this.size--;
  }

  shift(): Waiter | undefined {
    const w = this.#first;
    if (w) this.remove(w);
    return w;
  }
}

/** Drops a waiter's timer and abort listener, so settled waiters leave nothing behind. */
function release(w: Waiter): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
  w.timer = w.onAbort = w.signal = undefined;
}

/** Arms a waiter's deadline, in steps when it is longer than one timer can hold. */
function arm(w: Waiter, ms: number, expire: () => void): void {
  w.timer = ms > MAX_TIMER_MS ? setTimeout(() => arm(w, ms - MAX_TIMER_MS, expire), MAX_TIMER_MS) : setTimeout(expire, ms);
}

/** An array used as a FIFO: taking from the front is O(1), the dead front is trimmed now and then. */
class ItemBuffer {
  #items: unknown[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: unknown): void {
    this.#items.push(item);
  }

  shift(): unknown {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  snapshot(): unknown[] {
    return this.#items.slice(this.#head);
  }

  /** Items `start` to `end` (exclusive) in get order, copying only those. */
  range(start: number, end: number): unknown[] {
    return this.#items.slice(this.#head + start, this.#head + Math.min(end, this.length));
  }
}

/**
 * Python's checks on a blocking call's timeout: None means no deadline (null returned); a
 * negative one is a ValueError; a non-number fails `timeout < 0` with Python's TypeError.
 */
function timeoutSeconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  if (pyCompare(timeout, 0) < 0) throw new PyException('ValueError', "'timeout' must be a non-negative number");
  return Number(pyNumber(timeout));
}

/** A FIFO queue shared through the manager, with Python's `queue.Queue` methods. */
export class Queue {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Queue';
  /** The methods clients may call: queue.Queue's public methods. */
  static readonly exposed: readonly string[] = ['empty', 'full', 'get', 'get_nowait', 'join', 'put', 'put_nowait', 'qsize', 'task_done'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    empty: sig(),
    full: sig(),
    get: sig(['block', true], ['timeout', null]),
    get_nowait: sig(),
    join: sig(),
    put: sig('item', ['block', true], ['timeout', null]),
    put_nowait: sig('item'),
    qsize: sig(),
    task_done: sig(),
  };

  readonly #maxsize: number;
  readonly #items = new ItemBuffer();
  readonly #getters = new WaiterList();
  readonly #putters = new WaiterList();
  readonly #joiners = new WaiterList();
  #unfinished = 0;

  /**
   * @param maxsize the bound on the number of items; 0 or less means unbounded.
   * @throws PyException TypeError if maxsize is not an int.
   */
  constructor(maxsize: unknown = 0) {
    const n = pyIndex(maxsize);
    if (n === undefined) throw new PyException('TypeError', `'${pyTypeName(maxsize)}' object cannot be interpreted as an integer`);
    this.#maxsize = Number(n);
  }

  /** The bound given at construction (0 or less: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** The number of items in the queue. */
  get size(): number {
    return this.#items.length;
  }

  /** A page of the queued items in get order, taking nothing and copying only the page. */
  peekRange(offset: number, limit: number): unknown[] {
    return this.#items.range(offset, offset + limit);
  }

  /** A copy of the queued items in order, taking nothing (for inspection tools). */
  peekAll(): unknown[] {
    return this.#items.snapshot();
  }

  /** The queue's state for inspection tools, read without side effects. */
  inspect(): { size: number; maxsize: number; unfinished: number; getters: number; putters: number } {
    return { size: this.#items.length, maxsize: this.#maxsize, unfinished: this.#unfinished, getters: this.#getters.size, putters: this.#putters.size };
  }

  /** Python's `qsize()`: the number of items. */
  qsize(): number {
    return this.#items.length;
  }

  /** Python's `empty()`: whether there are no items. */
  empty(): boolean {
    return this.#items.length === 0;
  }

  /** Python's `full()`: whether a bounded queue holds maxsize items. */
  full(): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }

  /**
   * Python's `put(item, block=True, timeout=None)`. Returns undefined when the item went in at
   * once, else a Promise settled when it does (or rejected with Full at the deadline, or with
   * CallCancelled, having added nothing, if the caller's signal aborts).
   * @throws PyException Full (block false, or timeout 0), ValueError for a negative timeout.
   */
  put(item: unknown, block: unknown = true, timeout: unknown = null, context: CallContext = {}): undefined | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (this.#maxsize > 0) {
      if (!pyTruthy(block)) {
        if (this.full()) throw new PyException('Full', '');
      } else {
        // Python checks the timeout even when there is room, so a bad one fails either way.
        const seconds = timeoutSeconds(timeout);
        if (this.full()) return this.#wait(this.#putters, seconds, 'Full', context, item);
      }
    }
    this.#deliver(item);
    return undefined;
  }

  /** Python's `put_nowait(item)`: `put(item, False)`. */
  put_nowait(item: unknown, context: CallContext = {}): undefined {
    this.put(item, false, null, context);
    return undefined;
  }

  /**
   * Python's `get(block=True, timeout=None)`. Returns the item when there is one, else a Promise
   * of it (rejected with Empty at the deadline, or with CallCancelled, having taken nothing, if
   * the caller's signal aborts).
   * @throws PyException Empty (block false, or timeout 0), ValueError for a negative timeout.
   */
  get(block: unknown = true, timeout: unknown = null, context: CallContext = {}): unknown {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (!pyTruthy(block)) {
      if (this.#items.length === 0) throw new PyException('Empty', '');
      return this.#take();
    }
    const seconds = timeoutSeconds(timeout);
    if (this.#items.length > 0) return this.#take();
    return this.#wait(this.#getters, seconds, 'Empty', context, undefined);
  }

  /** Python's `get_nowait()`: `get(False)`. */
  get_nowait(context: CallContext = {}): unknown {
    return this.get(false, null, context);
  }

  /**
   * Python's `task_done()`: one fewer unfinished task; at zero, every `join` returns.
   * @throws PyException ValueError 'task_done() called too many times'.
   */
  task_done(): undefined {
    if (this.#unfinished <= 0) throw new PyException('ValueError', 'task_done() called too many times');
    if (--this.#unfinished === 0) {
      for (let w = this.#joiners.shift(); w; w = this.#joiners.shift()) {
        release(w);
        w.resolve(undefined);
      }
    }
    return undefined;
  }

  /**
   * Python's `join()`: returns when every item put has been marked done. Undefined at once when
   * none is pending, else a Promise (rejected with CallCancelled if the caller's signal aborts).
   */
  join(context: CallContext = {}): undefined | Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    if (this.#unfinished === 0) return undefined;
    return this.#wait(this.#joiners, null, 'Empty', context, undefined);
  }

  /** Counts a new item and gives it to the longest-waiting getter, or queues it. */
  #deliver(item: unknown): void {
    this.#unfinished++;
    const getter = this.#getters.shift();
    if (getter) {
      release(getter);
      getter.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  /** Takes the front item; a waiting putter's item fills the freed place at once, so none can barge. */
  #take(): unknown {
    const item = this.#items.shift();
    const putter = this.#putters.shift();
    if (putter) {
      release(putter);
      this.#items.push(putter.item);
      this.#unfinished++;
      putter.resolve(undefined);
    }
    return item;
  }

  /**
   * Parks a call in a waiter list until it is served, its deadline passes (rejected with
   * `expiry`), or its signal aborts (rejected with CallCancelled). A zero deadline fails at once.
   */
  #wait(list: WaiterList, seconds: number | null, expiry: 'Empty' | 'Full', context: CallContext, item: unknown): Promise<unknown> {
    // NaN never passes Python's `remaining <= 0` test, so a NaN timeout waits forever there too.
    const limited = seconds !== null && !Number.isNaN(seconds);
    if (limited && seconds <= 0) throw new PyException(expiry, '');
    if (limited && seconds > TIMEOUT_MAX) throw new PyException('OverflowError', 'timestamp out of range for platform time_t');
    return new Promise((resolve, reject) => {
      const w = new Waiter(resolve, reject, item);
      list.push(w);
      const withdraw = (error: unknown): void => {
        list.remove(w);
        release(w);
        reject(error);
      };
      if (limited) arm(w, Math.ceil(seconds * 1000), () => withdraw(new PyException(expiry, '')));
      const signal = context.signal;
      if (signal) {
        w.signal = signal;
        w.onAbort = () => withdraw(new CallCancelled());
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }
}

/** How `Queue(...)` binds its arguments. */
const constructorSignature = sig(['maxsize', 0]);

/**
 * Python's `queue.Queue(maxsize=0)` from wire arguments.
 * @throws PyException TypeError for extra arguments or a maxsize that is not an int.
 */
export function createQueue(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Queue {
  const [maxsize] = bindArguments('Queue', constructorSignature, args, kwargs);
  return new Queue(maxsize);
}
