/**
 * The shared queues: Python's `queue.Queue` as `SyncManager().Queue()` serves it (a FIFO with an
 * optional bound, blocking `get`/`put` with timeouts, and `task_done`/`join` accounting), and its
 * subclasses `LifoQueue` and `PriorityQueue`, which differ only in the order items come out.
 *
 * Calls that can complete do so synchronously (no Promise, no microtask on the server's hot path);
 * only a call that must wait returns a Promise. Waiters are served first come, first served, and a
 * waiter whose caller cancels or leaves is withdrawn at once without consuming or adding anything.
 */

import { bindArguments, isWithdrawn, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyCompare, pyIndex, pyTruthy, pyTypeName } from '../pythonSemantics';
import { park, release, timeoutSeconds, WaiterList } from './waiting';

/**
 * Where a queue keeps its items: the one thing Queue, LifoQueue and PriorityQueue differ in.
 * `take` removes the next item in get order; `snapshot` and `range` read items in that order.
 * `push` and `take` either complete or throw having changed nothing.
 */
export interface ItemStore {
  readonly length: number;
  push(item: unknown): void;
  take(): unknown;
  /** Puts back an item just taken, so it is the next taken again (a heap orders it anew). */
  putBack(item: unknown): void;
  snapshot(): unknown[];
  /** Items `start` to `end` (exclusive) in get order. */
  range(start: number, end: number): unknown[];
  /** Removes and returns the item at `index` in get order (inspection's Remove Item). */
  removeAt(index: number): unknown;
}

/** An array used as a FIFO: taking from the front is O(1), the dead front is trimmed now and then. */
class FifoBuffer implements ItemStore {
  #items: unknown[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: unknown): void {
    this.#items.push(item);
  }

  putBack(item: unknown): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  take(): unknown {
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

  range(start: number, end: number): unknown[] {
    return this.#items.slice(this.#head + start, this.#head + Math.min(end, this.length));
  }

  removeAt(index: number): unknown {
    return this.#items.splice(this.#head + index, 1)[0];
  }
}

/** A stack, as Python's LifoQueue keeps its items: the last put is the next got. */
class LifoStack implements ItemStore {
  readonly #items: unknown[] = [];

  get length(): number {
    return this.#items.length;
  }

  push(item: unknown): void {
    this.#items.push(item);
  }

  take(): unknown {
    return this.#items.pop();
  }

  putBack(item: unknown): void {
    this.#items.push(item);
  }

  snapshot(): unknown[] {
    return this.#items.slice().reverse();
  }

  range(start: number, end: number): unknown[] {
    const n = this.#items.length;
    const out: unknown[] = [];
    for (let i = start; i < Math.min(end, n); i++) out.push(this.#items[n - 1 - i]);
    return out;
  }

  removeAt(index: number): unknown {
    return this.#items.splice(this.#items.length - 1 - index, 1)[0];
  }
}

/** Python's `a < b`, the only comparison heapq makes. */
function lessThan(a: unknown, b: unknown): boolean {
  return pyCompare(a, b) < 0;
}

/**
 * A binary min-heap laid out as Python's heapq lays it out, making the same `<` comparisons in
 * the same order, so items of equal priority come out in the order Python's PriorityQueue gives.
 * Unlike heapq, every comparison is made before anything moves: an unorderable item raises
 * Python's TypeError and leaves the heap as it was (heapq would leave it half-sifted).
 */
class BinaryHeap implements ItemStore {
  constructor(private readonly heap: unknown[] = []) {}

  get length(): number {
    return this.heap.length;
  }

  /** heapq.heappush: the item rises from the end while it is less than its parent. */
  push(item: unknown): void {
    const h = this.heap;
    let target = h.length;
    while (target > 0 && lessThan(item, h[(target - 1) >> 1])) target = (target - 1) >> 1;
    // Every comparison succeeded: now move the parents down along the path and place the item.
    let pos = h.length;
    h.push(item);
    while (pos > target) {
      const parent = (pos - 1) >> 1;
      h[pos] = h[parent];
      pos = parent;
    }
    h[target] = item;
  }

  /** An item just taken was the smallest, so it compares with every item as it did: pushing it cannot fail. */
  putBack(item: unknown): void {
    this.push(item);
  }

  /**
   * heapq.heappop: the last item replaces the root, the smaller child rises into each hole down
   * to a leaf, then the item rises from there (heapq's bottom-up `_siftup`).
   */
  take(): unknown {
    const h = this.heap;
    const m = h.length - 1;
    if (m <= 0) return h.pop();
    const last = h[m];
    // Down to a leaf, choosing the smaller child as heapq does (the right one unless left < right).
    let leaf = 0;
    while (leaf < m >> 1) {
      const child = 2 * leaf + 1;
      leaf = child + 1 < m && !lessThan(h[child], h[child + 1]) ? child + 1 : child;
    }
    // Back up while `last` is less than what would sit above it: each path item moved up by one.
    let target = leaf;
    while (target > 0 && lessThan(last, h[target])) target = (target - 1) >> 1;
    // Every comparison succeeded: rotate the path from the root down to target, then drop the end.
    h.pop();
    let carried = last;
    for (let pos = target; ; pos = (pos - 1) >> 1) {
      const displaced = h[pos];
      h[pos] = carried;
      carried = displaced;
      if (pos === 0) break;
    }
    return carried;
  }

  snapshot(): unknown[] {
    return this.range(0, this.heap.length);
  }

  /** The items in get order without the one at `index`: an ascending array is a valid heap. */
  removeAt(index: number): unknown {
    const ordered = this.snapshot();
    const [item] = ordered.splice(index, 1);
    this.heap.splice(0, this.heap.length, ...ordered);
    return item;
  }

  /** Pops a copy to read items in get order; if two items cannot be ordered, the rest follow in heap order. */
  range(start: number, end: number): unknown[] {
    const copy = new BinaryHeap(this.heap.slice());
    const out: unknown[] = [];
    const stop = Math.min(end, this.heap.length);
    try {
      for (let i = 0; i < stop; i++) {
        const item = copy.take();
        if (i >= start) out.push(item);
      }
    } catch {
      // Inspection must not fail where a get would: show what is left as the heap holds it.
      const rest = copy.heap;
      const taken = this.heap.length - rest.length;
      for (let i = Math.max(taken, start); i < stop; i++) out.push(rest[i - taken]);
    }
    return out;
  }
}

/**
 * A queue's `maxsize` argument as a number (0 or less: unbounded), checked as Python checks it.
 * @throws PyException TypeError if it is not an int.
 */
export function queueMaxsize(maxsize: unknown): number {
  const n = pyIndex(maxsize);
  if (n === undefined) throw new PyException('TypeError', `'${pyTypeName(maxsize)}' object cannot be interpreted as an integer`);
  return Number(n);
}

/** Python's queue waits on a Condition with the time left, which is NaN: its clock refuses it. */
export function nanTimeout(): PyException {
  return new PyException('ValueError', 'Invalid value NaN (not a number)');
}

/** Python's error for a `task_done()` with no unfinished task. */
export function tooManyTaskDone(): PyException {
  return new PyException('ValueError', 'task_done() called too many times');
}

/** A FIFO queue shared through the manager, with Python's `queue.Queue` methods. */
export class Queue {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin: string = 'Queue';
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
  readonly #items: ItemStore = this.newStore();
  readonly #getters = new WaiterList();
  readonly #putters = new WaiterList();
  readonly #joiners = new WaiterList();
  #unfinished = 0;

  /**
   * @param maxsize the bound on the number of items; 0 or less means unbounded.
   * @throws PyException TypeError if maxsize is not an int.
   */
  constructor(maxsize: unknown = 0) {
    this.#maxsize = queueMaxsize(maxsize);
  }

  /** The item store, made once per queue: what a subclass changes to change the get order. */
  protected newStore(): ItemStore {
    return new FifoBuffer();
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

  /**
   * Removes the item at `index` in get order (inspection's Remove Item; no queue method does
   * this). It counts as done for `join`, and a waiting putter fills the place it freed.
   */
  removeQueued(index: number): unknown {
    const item = this.#items.removeAt(index);
    if (this.#unfinished > 0) this.#oneDone();
    if (this.#putters.size > 0) this.#admitPutter();
    return item;
  }

  /** A copy of the queued items in order, taking nothing (for inspection tools). */
  peekAll(): unknown[] {
    return this.#items.snapshot();
  }

  /** The queue's state for the inspection sidebar. */
  describeState(): { size: number; details: Record<string, unknown> } {
    return {
      size: this.#items.length,
      details: { maxsize: this.#maxsize, unfinishedTasks: this.#unfinished, waitingGetters: this.#getters.size, waitingPutters: this.#putters.size },
    };
  }

  /** Python's repr: `<queue.Queue object at 0x...>` (`queue.LifoQueue`, `queue.PriorityQueue`). */
  __repr__(): string {
    return `<queue.${(this.constructor as typeof Queue).builtin} object at ${pyAddress(this)}>`;
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
   * @throws PyException Full (block false, or timeout 0), ValueError for a negative timeout;
   * a PriorityQueue's TypeError for an item that cannot be ordered against those queued.
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
    // An item whose answer never reaches this caller comes back (see #giveBack).
    context.giveBack?.(this.#giveBack);
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
    if (this.#unfinished <= 0) throw tooManyTaskDone();
    this.#oneDone();
    return undefined;
  }

  /** One fewer unfinished task; at zero, every `join` returns. */
  #oneDone(): void {
    if (--this.#unfinished === 0) {
      for (let w = this.#joiners.shift(); w; w = this.#joiners.shift()) {
        release(w);
        w.resolve(undefined);
      }
    }
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

  /**
   * Gives a new item to the longest-waiting getter, or queues it, and counts it. A getter waits
   * only on an empty queue, where every store would give this very item next.
   */
  #deliver(item: unknown): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#unfinished++;
      release(getter);
      getter.resolve(item);
    } else {
      // Counted after the push: a PriorityQueue refusing the item leaves the count as it was.
      this.#items.push(item);
      this.#unfinished++;
    }
  }

  /**
   * An item taken by a caller its answer could not reach (its connection was gone, or the answer
   * too large to send): it goes to the longest-waiting getter, or back to the front, as if never
   * taken. It was counted when it was put, so the unfinished count stays as it is.
   */
  readonly #giveBack = (item: unknown): void => {
    const getter = this.#getters.shift();
    if (getter) {
      release(getter);
      getter.resolve(item);
    } else {
      this.#items.putBack(item);
    }
  };

  /**
   * Takes the next item; a waiting putter's item fills the freed place at once, so none can
   * barge. A putter whose item a PriorityQueue cannot order fails with that TypeError, as its
   * put would in Python, and the place goes to the next putter.
   */
  #take(): unknown {
    const item = this.#items.take();
    if (this.#putters.size > 0) this.#admitPutter();
    return item;
  }

  /** Lets the longest-waiting putter whose item the store accepts put it in the place just freed. */
  #admitPutter(): void {
    for (let putter = this.#putters.shift(); putter; putter = this.#putters.shift()) {
      release(putter);
      try {
        this.#items.push(putter.item);
      } catch (error) {
        putter.reject(error);
        continue;
      }
      this.#unfinished++;
      putter.resolve(undefined);
      return;
    }
  }

  /**
   * Parks a call in a waiter list until it is served, its deadline passes (rejected with
   * `expiry`), or its signal aborts (rejected with CallCancelled). A zero deadline fails at once.
   */
  #wait(list: WaiterList, seconds: number | null, expiry: 'Empty' | 'Full', context: CallContext, item: unknown): Promise<unknown> {
    if (seconds !== null && seconds <= 0) throw new PyException(expiry, '');
    // Python's queue waits on a Condition with the time left, which is NaN: its clock refuses it.
    if (Number.isNaN(seconds)) throw nanTimeout();
    return park(list, item, seconds, { reject: () => new PyException(expiry, '') }, context);
  }
}

/** How `Queue(...)` (and LifoQueue, PriorityQueue) binds its arguments. */
export const queueConstructorSignature = sig(['maxsize', 0]);

/**
 * Python's `queue.Queue(maxsize=0)` from wire arguments.
 * @throws PyException TypeError for extra arguments or a maxsize that is not an int.
 */
export function createQueue(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Queue {
  const [maxsize] = bindArguments('Queue', queueConstructorSignature, args, kwargs);
  return new Queue(maxsize);
}

/** Python's `queue.LifoQueue`: a Queue whose last item put is the first got. */
export class LifoQueue extends Queue {
  /** The SyncManager typeid and the type name clients see. */
  static override readonly builtin: string = 'LifoQueue';

  protected override newStore(): ItemStore {
    return new LifoStack();
  }
}

/**
 * Python's `queue.PriorityQueue`: a Queue whose smallest item (by Python's `<`, as heapq orders
 * them) is the first got; `(priority, data)` tuples are the usual items.
 */
export class PriorityQueue extends Queue {
  /** The SyncManager typeid and the type name clients see. */
  static override readonly builtin: string = 'PriorityQueue';

  protected override newStore(): ItemStore {
    return new BinaryHeap();
  }
}

/**
 * Python's `queue.LifoQueue(maxsize=0)` from wire arguments.
 * @throws PyException TypeError for extra arguments or a maxsize that is not an int.
 */
export function createLifoQueue(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): LifoQueue {
  const [maxsize] = bindArguments('LifoQueue', queueConstructorSignature, args, kwargs);
  return new LifoQueue(maxsize);
}

/**
 * Python's `queue.PriorityQueue(maxsize=0)` from wire arguments.
 * @throws PyException TypeError for extra arguments or a maxsize that is not an int.
 */
export function createPriorityQueue(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): PriorityQueue {
  const [maxsize] = bindArguments('PriorityQueue', queueConstructorSignature, args, kwargs);
  return new PriorityQueue(maxsize);
}
