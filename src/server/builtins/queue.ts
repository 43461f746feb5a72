/**
 * The shared queues: Python's `queue.Queue` as `SyncManager().Queue()` serves it (a FIFO with an
 * optional bound, blocking `get`/`put` with timeouts, and `task_done`/`join` accounting), and its
 * subclasses `LifoQueue` and `PriorityQueue`, which differ only in the order items come out.
 *
 * Calls that can complete do so synchronously (no Promise, no microtask on the server's hot path);
 * only a call that must wait returns a Promise. Waiters are served first come, first served, and a
 * waiter whose caller cancels or leaves is withdrawn at once without consuming or adding anything.
 */

import { bindArguments, isWithdrawn, looksInside, sig, type CallContext, type HeldDelivery, type HeldResource, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { Delivery, InFlightDeliveries, itemValue } from './deliveries';
import { FifoBlocks } from './fifoBlocks';
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
  /**
   * Puts `item` in the place of the one at `index` in get order and returns that one (inspection's
   * Edit Item); a heap orders the new item anew, or throws having changed nothing.
   */
  replaceAt(index: number, item: unknown): unknown;
  /** Adds items given in get order (a saved state read back), so they come out in that order. */
  fill(items: readonly unknown[]): void;
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

  replaceAt(index: number, item: unknown): unknown {
    const at = this.#items.length - 1 - index;
    const old = this.#items[at];
    this.#items[at] = item;
    return old;
  }

  fill(items: readonly unknown[]): void {
    // The first in get order is the last pushed.
    for (let i = items.length - 1; i >= 0; i--) this.push(items[i]);
  }
}

/** Python's `a < b`, the only comparison heapq makes (an item that came back from a delivery compares as its value). */
function lessThan(a: unknown, b: unknown): boolean {
  return pyCompare(itemValue(a), itemValue(b)) < 0;
}

/**
 * A binary min-heap laid out as Python's heapq lays it out, making the same `<` comparisons in
 * the same order, so items of equal priority come out in the order Python's PriorityQueue gives.
 * Unlike heapq, every comparison is made before anything moves: an unorderable item raises
 * Python's TypeError and leaves the heap as it was (heapq would leave it half-sifted).
 */
export class BinaryHeap implements ItemStore {
  /**
   * Items given back (SPEC 20.3) that cannot be ordered against what was put since they were
   * taken (a str put into a queue of ints that was empty meanwhile): they come out first, so
   * that nothing given back is lost.
   */
  #unordered: unknown[] = [];

  constructor(private readonly heap: unknown[] = []) {}

  /** A heap from {@link parts} saved earlier (a store keeping the heap whole reads it back). */
  static fromParts(heap: readonly unknown[], unordered: readonly unknown[]): BinaryHeap {
    const made = new BinaryHeap(heap.slice());
    made.#unordered = unordered.slice();
    return made;
  }

  /** The heap's layout and the unordered items given back, as {@link fromParts} takes them. */
  parts(): [heap: unknown[], unordered: unknown[]] {
    return [this.heap.slice(), this.#unordered.slice()];
  }

  get length(): number {
    return this.heap.length + this.#unordered.length;
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

  /**
   * An item given back takes its place by priority again; one that cannot be ordered against the
   * items put while it was out goes before them all instead (see #unordered).
   */
  putBack(item: unknown): void {
    try {
      this.push(item);
    } catch {
      this.#unordered.unshift(item);
    }
  }

  /**
   * heapq.heappop: the last item replaces the root, the smaller child rises into each hole down
   * to a leaf, then the item rises from there (heapq's bottom-up `_siftup`).
   */
  take(): unknown {
    if (this.#unordered.length > 0) return this.#unordered.shift();
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
    return this.range(0, this.length);
  }

  /** The items in get order without the one at `index`: an ascending array is a valid heap. */
  removeAt(index: number): unknown {
    if (index < this.#unordered.length) return this.#unordered.splice(index, 1)[0];
    const ordered = this.#heapRange(0, this.heap.length);
    const [item] = ordered.splice(index - this.#unordered.length, 1);
    this.#adopt(ordered);
    return item;
  }

  /**
   * The items in get order without the one at `index`, then `item` pushed (into the heap, by
   * priority, even in the place of an unordered item): its comparisons fail before anything changes.
   */
  replaceAt(index: number, item: unknown): unknown {
    const unordered = index < this.#unordered.length;
    const ordered = unordered ? this.heap.slice() : this.#heapRange(0, this.heap.length);
    const old = unordered ? this.#unordered[index] : ordered.splice(index - this.#unordered.length, 1)[0];
    const next = new BinaryHeap(ordered);
    next.push(item);
    if (unordered) this.#unordered.splice(index, 1);
    this.#adopt(next.heap);
    return old;
  }

  /** Takes `items` (a valid heap) as the heap's contents, in place; a loop, since a spread of a long queue overflows the call stack. */
  #adopt(items: readonly unknown[]): void {
    this.heap.length = 0;
    for (const item of items) this.heap.push(item);
  }

  /** Items in get order pushed in that order: each sits below its parent, so the heap is that very array. */
  fill(items: readonly unknown[]): void {
    for (const item of items) this.push(item);
  }

  /** Items `start` to `end` in get order: the unordered ones first, then the heap's. */
  range(start: number, end: number): unknown[] {
    const first = this.#unordered.slice(start, end);
    const skip = this.#unordered.length;
    return first.concat(this.#heapRange(Math.max(0, start - skip), Math.max(0, end - skip)));
  }

  /** Pops a copy to read the heap's items in get order; if two items cannot be ordered, the rest follow in heap order. */
  #heapRange(start: number, end: number): unknown[] {
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

/**
 * What a get does with the item it takes, `taken` being the item's place in the take order (see
 * `Queue`'s give-backs): a plain get answers the item's value; a get that asked for `ack` makes
 * a delivery of it. It remembers `taken`, should the item come back.
 */
type Receiver = (stored: unknown, taken: number) => unknown;

/**
 * A FIFO queue shared through the manager, with Python's `queue.Queue` methods, and acknowledged
 * gets (SPEC 20.3): a get with `ack` leaves its item in flight, held by the caller's session.
 *
 * Acknowledged gets and `task_done`/`join`: an item counts as unfinished from its put until a
 * `task_done`, as in Python, whoever takes it and however often. A delivery given back is not a
 * new put, so the count stays; the worker that finally handles it calls `task_done` once. A worker
 * SHOULD acknowledge before `task_done`: one that dies in between leaves its item redelivered and
 * its `task_done` already counted, and the next worker's `task_done` would count the item twice.
 */
export class Queue implements HeldResource {
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
    put: sig('=item', ['block', true], ['timeout', null]),
    put_nowait: sig('=item'),
    qsize: sig(),
    task_done: sig(),
  };

  readonly #maxsize: number;
  #items: ItemStore = this.newStore();
  readonly #getters = new WaiterList();
  readonly #putters = new WaiterList();
  readonly #joiners = new WaiterList();
  #unfinished = 0;
  /** Items delivered to a get with `ack` and not acknowledged yet. */
  readonly #inFlight = new InFlightDeliveries(this, (items, taken) => this.#giveBackAll(items, taken));
  /**
   * How many items were taken fresh (not given back before): a fresh take's place in the take order.
   * Each item taken has its place; one given back keeps it, and taken again takes it again.
   */
  #takes = 0;
  /**
   * The places in the take order of the items given back that are at the front of the store, in
   * get order (ascending): an item given back goes in among them at its place (see {@link #putBack}).
   */
  #returned: number[] = [];
  /** The place in the take order of the item {@link #take} took last. */
  #lastTaken = 0;
  /**
   * Whether items given back keep their take order among themselves at the front: not in a
   * PriorityQueue, which orders them by priority again.
   */
  protected readonly givenBackInOrder: boolean = true;
  /** Whether a put goes in front of the items given back (a LifoQueue's top): they are then no longer at the front. */
  protected readonly putsInFront: boolean = false;

  /**
   * @param maxsize the bound on the number of items; 0 or less means unbounded.
   * @throws PyException TypeError if maxsize is not an int.
   */
  constructor(maxsize: unknown = 0) {
    this.#maxsize = queueMaxsize(maxsize);
  }

  /** The item store, made once per queue: what a subclass changes to change the get order. */
  protected newStore(): ItemStore {
    return new FifoBlocks();
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
    return this.#items.range(offset, offset + limit).map(itemValue);
  }

  /**
   * Removes the item at `index` in get order (inspection's Remove Item; no queue method does
   * this). It counts as done for `join`, and a waiting putter fills the place it freed.
   */
  removeQueued(index: number): unknown {
    const item = this.#items.removeAt(index);
    if (index < this.#returned.length) this.#returned.splice(index, 1);
    if (this.#unfinished > 0) this.#oneDone();
    if (this.#putters.size > 0) this.#admitPutter();
    return itemValue(item);
  }

  /**
   * Puts `item` in the place of the one at `index` in get order and returns that one (inspection's
   * Edit Item; no queue method does this). Nothing is counted: the queue holds as many items as before.
   * @throws PyException a PriorityQueue's TypeError for an item that cannot be ordered against those queued, having changed nothing.
   */
  replaceQueued(index: number, item: unknown): unknown {
    return itemValue(this.#items.replaceAt(index, item));
  }

  /** A copy of the queued items in order, taking nothing (for inspection tools). */
  peekAll(): unknown[] {
    return this.#items.snapshot().map(itemValue);
  }

  /**
   * What a saved state keeps, in get order: the items in flight first (SPEC 20.3; after a restart
   * no session holds them, so they are at the front, where giving them back would put them),
   * then the queued items.
   */
  contentsToSave(): unknown[] {
    const inFlight = this.#inFlight.values();
    return inFlight.length > 0 ? inFlight.concat(this.peekAll()) : this.peekAll();
  }

  /** The count `join` waits on: items put and not yet marked done (a saved state keeps it). */
  get unfinishedTasks(): number {
    return this.#unfinished;
  }

  /**
   * Replaces the contents with items read back from a saved state, in get order, before anyone is
   * served: they go in even past maxsize (a bound lowered since they were saved loses nothing),
   * and `join` waits for at least each of them.
   * @throws PyException a PriorityQueue's TypeError for items that cannot be ordered, having changed nothing.
   */
  restoreContents(items: readonly unknown[], unfinished: number): void {
    const store = this.newStore();
    store.fill(items);
    this.#items = store;
    this.#returned = [];
    this.#unfinished = Math.max(unfinished, items.length);
  }

  /** The queue's state for the inspection sidebar. */
  describeState(): { size: number; details: Record<string, unknown> } {
    return {
      size: this.#items.length,
      details: {
        maxsize: this.#maxsize,
        unfinishedTasks: this.#unfinished,
        waitingGetters: this.#getters.size,
        waitingPutters: this.#putters.size,
        // Only when there are some: a queue nobody takes from with ack shows as it always has.
        ...(this.#inFlight.size > 0 ? { deliveriesInFlight: this.#inFlight.size } : {}),
      },
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
    const ack = context.ack;
    let place = 0;
    const receive: Receiver = ack
      ? (stored, taken) => this.#inFlight.open(stored, context, ack, taken)
      : (stored, taken) => {
          place = taken;
          return itemValue(stored);
        };
    // An item whose answer never reaches this caller comes back, at its place (see #takeBack).
    context.giveBack?.(ack ? this.#undeliver : (item) => this.#takeBack(item, place));
    if (!pyTruthy(block)) {
      if (this.#items.length === 0) throw new PyException('Empty', '');
      return receive(this.#take(), this.#lastTaken);
    }
    const seconds = timeoutSeconds(timeout);
    if (this.#items.length > 0) return receive(this.#take(), this.#lastTaken);
    return this.#wait(this.#getters, seconds, 'Empty', context, receive);
  }

  /**
   * Acknowledges delivery `deliveryId` (gone for good), or gives it back (`nack`: to the front,
   * counted as delivered). Returns false when session `ownerId` does not hold it.
   */
  settleDelivery(deliveryId: string, ownerId: string, how: 'ack' | 'nack'): boolean {
    return this.#inFlight.settle(deliveryId, ownerId, how);
  }

  /** A session ended: the deliveries it held go back to the front, counted as delivered. */
  ownerLeft(ownerId: string): void {
    this.#inFlight.ownerLeft(ownerId);
  }

  /** The deliveries session `ownerId` holds, for inspection. */
  deliveriesOf(ownerId: string): HeldDelivery[] {
    return this.#inFlight.deliveriesOf(ownerId);
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
      getter.resolve((getter.item as Receiver)(item, ++this.#takes));
    } else {
      // Counted after the push: a PriorityQueue refusing the item leaves the count as it was.
      this.#push(item);
      this.#unfinished++;
    }
  }

  /** Puts a new item in the store: in front of the items given back, if the store puts it there. */
  #push(item: unknown): void {
    this.#items.push(item);
    if (this.putsInFront) this.#returned.length = 0;
  }

  /**
   * Items given back together (`taken`: each one's place in the take order), in the order they
   * were taken: waiting getters get the first ones, the rest go back to the front (see
   * {@link #putBack}). Each was counted when it was put, so the unfinished count stays as it is.
   */
  #giveBackAll(items: readonly unknown[], taken: readonly number[]): void {
    const order = items.map((_, i) => i);
    if (items.length > 1) order.sort((x, y) => taken[x]! - taken[y]!);
    for (const i of order) {
      const getter = this.#getters.shift();
      if (getter) {
        release(getter);
        getter.resolve((getter.item as Receiver)(items[i], taken[i]!));
      } else {
        this.#putBack(items[i], taken[i]!);
      }
    }
  }

  /**
   * Puts back an item taken `taken`th (SPEC 20.3): at the front, among the other items given back
   * there in take order, ahead of every item never taken, so that however many turns their
   * give-backs are spread over (visibility timeouts expiring one by one, nacks, answers found
   * undeliverable in different turns), items given back come out in the order they were taken.
   * A PriorityQueue orders it by priority instead.
   */
  #putBack(item: unknown, taken: number): void {
    if (!this.givenBackInOrder) return this.#items.putBack(item);
    const returned = this.#returned;
    let place = returned.length;
    while (place > 0 && returned[place - 1]! > taken) place--;
    // The given-back items that go before it are taken off the front and put back on top of it.
    const ahead: unknown[] = [];
    for (let i = 0; i < place; i++) ahead.push(this.#items.take());
    this.#items.putBack(item);
    for (let i = place - 1; i >= 0; i--) this.#items.putBack(ahead[i]);
    returned.splice(place, 0, taken);
  }

  /** Items whose answers never reached their callers, given back in this run (see {@link #takeBack}), and their places in the take order. */
  readonly #takenBack: unknown[] = [];
  readonly #takenBackPlaces: number[] = [];

  /**
   * An item taken `taken`th by a caller its answer could not reach (its connection was gone, or
   * the answer too large to send) comes back at the end of this run, with the others given back
   * in it (see {@link #giveBackAll}): the longest-waiting getter gets the first taken of them.
   */
  readonly #takeBack = (item: unknown, taken: number): void => {
    this.#takenBackPlaces.push(taken);
    if (this.#takenBack.push(item) === 1) queueMicrotask(() => this.#giveBackAll(this.#takenBack.splice(0), this.#takenBackPlaces.splice(0)));
  };

  /** A delivery whose answer never reached its caller: the item goes back as if not delivered. */
  readonly #undeliver = (result: unknown): void => {
    const item = result instanceof Delivery ? this.#inFlight.undelivered(result) : undefined;
    if (item !== undefined) this.#takeBack(item, (result as Delivery).taken);
  };

  /**
   * Takes the next item; a waiting putter's item fills the freed place at once, so none can
   * barge. A putter whose item a PriorityQueue cannot order fails with that TypeError, as its
   * put would in Python, and the place goes to the next putter.
   */
  #take(): unknown {
    const item = this.#items.take();
    // An item given back keeps its place in the take order; any other takes the next.
    this.#lastTaken = this.#returned.length > 0 ? this.#returned.shift()! : ++this.#takes;
    if (this.#putters.size > 0) this.#admitPutter();
    return item;
  }

  /** Lets the longest-waiting putter whose item the store accepts put it in the place just freed. */
  #admitPutter(): void {
    for (let putter = this.#putters.shift(); putter; putter = this.#putters.shift()) {
      release(putter);
      try {
        this.#push(putter.item);
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

  protected override readonly putsInFront: boolean = true;

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
  /**
   * Queue's, but a put compares its item with others (heap order), so an item kept as text is
   * built once as it is put instead of at each comparison (`packedValues.ts`).
   */
  static override readonly signatures: Readonly<Record<string, Signature>> = {
    ...Queue.signatures,
    put: looksInside(Queue.signatures.put),
    put_nowait: looksInside(Queue.signatures.put_nowait),
  };

  protected override readonly givenBackInOrder: boolean = false;

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
