/**
 * The shared `list`: Python's list as `SyncManager().list()` serves it (ListProxy's methods),
 * with Python's index rules and errors. Indices are ints or slices: a slice is sent as `$slice`
 * (`l[1:3]` is `__getitem__` with `{"$slice": [1, 3, null]}`), with Python 3.13's semantics and
 * messages. `__iter__` and `__reversed__` hand back Iterator proxies that read the live list.
 */

import { bindArguments, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { isTuple, Slice } from '../../common/valueTypes';
import { referent } from '../calls/sharedRef';
import { PyIterator, indexSource, type ItemSource } from './iterator';
import { pyCompare, pyEquals, pyIndex, pyIterate, pyRepr, pyTypeName } from '../pythonSemantics';

const SSIZE_MAX = 2n ** 63n - 1n;
const SSIZE_MIN = -SSIZE_MAX - 1n;
/**
 * The most items one repetition may make. A manager serves many clients: one `[0] * 4294967295`
 * must not exhaust its memory, so a longer product is Python's MemoryError, named as such.
 */
export const MAX_REPEAT_ITEMS = 10_000_000;

function outOfSsize(i: bigint): boolean {
  return i > SSIZE_MAX || i < SSIZE_MIN;
}

/** `list[i]`'s index as an array position, Python's errors for a non-int or one out of range. */
function itemPosition(index: unknown, length: number, outOfRange: string): number {
  const i = pyIndex(index);
  if (i === undefined) throw new PyException('TypeError', `list indices must be integers or slices, not ${pyTypeName(index)}`);
  if (typeof i === 'bigint' && outOfSsize(i)) throw new PyException('IndexError', "cannot fit 'int' into an index-sized integer");
  const n = Number(i);
  const position = n < 0 ? n + length : n;
  if (position < 0 || position >= length) throw new PyException('IndexError', outOfRange);
  return position;
}

/** An int argument (`pop`, `insert`, `reverse=`), with the TypeError/OverflowError Python gives. */
function intArgument(value: unknown, overflow = 'Python int too large to convert to C ssize_t'): number {
  const i = pyIndex(value);
  if (i === undefined) throw new PyException('TypeError', `'${pyTypeName(value)}' object cannot be interpreted as an integer`);
  if (typeof i === 'bigint' && outOfSsize(i)) throw new PyException('OverflowError', overflow);
  return Number(i);
}

/** One of a slice's start, stop and step: null for None, else an int (any size: it is only clamped). */
function sliceValue(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const i = pyIndex(value);
  if (i === undefined) throw new PyException('TypeError', 'slice indices must be integers or None or have an __index__ method');
  return Number(i);
}

/** A slice bound clamped to a sequence, as CPython's `PySlice_AdjustIndices` does. */
function adjust(bound: number, length: number, step: number): number {
  if (bound < 0) {
    bound += length;
    return bound < 0 ? (step < 0 ? -1 : 0) : bound;
  }
  return bound >= length ? (step < 0 ? length - 1 : length) : bound;
}

/** The positions a slice selects in a sequence: `count` of them, from `start`, `step` apart. */
export interface SliceRange {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/**
 * The positions a slice selects in a sequence of `length` items, as CPython's `PySlice_Unpack`
 * and `PySlice_AdjustIndices` work them out (step read first, then start, then stop).
 * @throws PyException ValueError 'slice step cannot be zero', TypeError for a bound that is not an int or None.
 */
export function sliceRange(slice: Slice, length: number): SliceRange {
  const step = sliceValue(slice.step) ?? 1;
  if (step === 0) throw new PyException('ValueError', 'slice step cannot be zero');
  const startValue = sliceValue(slice.start);
  const stopValue = sliceValue(slice.stop);
  const start = startValue === null ? (step < 0 ? length - 1 : 0) : adjust(startValue, length, step);
  const stop = stopValue === null ? (step < 0 ? -1 : length) : adjust(stopValue, length, step);
  let count = 0;
  if (step < 0 && stop < start) count = Math.floor((start - stop - 1) / -step) + 1;
  else if (step > 0 && start < stop) count = Math.floor((stop - start - 1) / step) + 1;
  return { start, step, count };
}

/** The items of `items` a slice range selects, as a new array. */
export function sliceItems<T>(items: ArrayLike<T>, { start, step, count }: SliceRange): T[] {
  const out = new Array<T>(count);
  for (let k = 0, i = start; k < count; k++, i += step) out[k] = items[i];
  return out;
}

/** Which positions of a sequence survive deleting those a slice range selects. */
function keepMask(length: number, { start, step, count }: SliceRange): boolean[] {
  const keep = new Array<boolean>(length).fill(true);
  for (let k = 0, i = start; k < count; k++, i += step) keep[i] = false;
  return keep;
}

/** A slice bound (`index`'s start and stop): huge ints are clamped, as Python clamps them. */
function sliceBound(value: unknown, length: number): number {
  const i = pyIndex(value);
  if (i === undefined) throw new PyException('TypeError', 'slice indices must be integers or have an __index__ method');
  const n = Number(i);
  const position = n < 0 ? n + length : n;
  return Math.max(0, Math.min(position, length));
}

/** `items * count` as a new array, with Python's errors for a non-int or an impossible size. */
function repeat(items: readonly unknown[], count: unknown): unknown[] {
  const n = intArgument(count, "cannot fit 'int' into an index-sized integer");
  if (n <= 0 || items.length === 0) return [];
  if (items.length * n > MAX_REPEAT_ITEMS) {
    throw new PyException('MemoryError', `repeating ${items.length} items ${n} times would make more than ${MAX_REPEAT_ITEMS.toLocaleString('en-US')} items, the limit of one repetition`);
  }
  const out = new Array<unknown>(items.length * n);
  for (let r = 0, k = 0; r < n; r++) for (let j = 0; j < items.length; j++) out[k++] = items[j];
  return out;
}

/** A list shared through the manager, with the methods Python's ListProxy calls. */
export class List {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'list';
  /** The methods clients may call: ListProxy's, plus `__iadd__` and `__iter__`. */
  static readonly exposed: readonly string[] = [
    '__add__', '__contains__', '__delitem__', '__getitem__', '__iter__', '__len__', '__mul__', '__reversed__', '__rmul__', '__setitem__',
    '__iadd__', '__imul__', 'append', 'clear', 'copy', 'count', 'extend', 'index', 'insert', 'pop', 'remove', 'reverse', 'sort',
  ];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    clear: sig(),
    copy: sig(),
    __add__: sig('value'),
    __contains__: sig('key'),
    __delitem__: sig('key'),
    __getitem__: sig('index'),
    __iter__: sig(),
    __len__: sig(),
    __mul__: sig('value'),
    __reversed__: sig(),
    __rmul__: sig('value'),
    __setitem__: sig('key', 'value'),
    __iadd__: sig('value'),
    __imul__: sig('value'),
    append: sig('=object'),
    count: sig('value'),
    extend: sig('iterable'),
    index: sig('value', ['start', 0], ['stop', SSIZE_MAX]),
    insert: sig('index', 'object'),
    pop: sig(['index', -1]),
    remove: sig('value'),
    reverse: sig(),
    // Keyword-only in Python; checked by hand to give its own messages.
    sort: sig('*args', '**kwargs'),
  };
  /** `iter(l)` and `reversed(l)` hand back Iterator proxies, as DictProxy's `__iter__` does. */
  static readonly methodToTypeid: Readonly<Record<string, string>> = { __iter__: 'Iterator', __reversed__: 'Iterator' };

  #items: unknown[];

  /** Python's `list(iterable=())`. @throws PyException TypeError for a non-iterable. */
  constructor(iterable: unknown = []) {
    this.#items = pyIterate(iterable);
  }

  /** The number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** A copy of the items (for server-side code and inspection tools). */
  snapshot(): unknown[] {
    return this.#items.slice();
  }

  /** Iterates over the items, as Python's `iter(l)` does (server-side code only). */
  [Symbol.iterator](): Iterator<unknown> {
    return this.#items.slice()[Symbol.iterator]();
  }

  /** The items as a wire value, so a list sent by value reads as its items. */
  toJSON(): unknown[] {
    return this.#items.slice();
  }

  /** For `#GETVALUE`: a copy of the items. */
  __getvalue__(): unknown[] {
    return this.#items.slice();
  }

  /** Python's repr: `[1, 'a']`. */
  __repr__(): string {
    return pyRepr(this.#items);
  }

  /** `l + other`: a new list (a value, not a proxy). @throws PyException TypeError unless other is a list. */
  __add__(value: unknown): unknown[] {
    const other = referent(value);
    if (other instanceof List) return this.#items.concat(other.#items);
    if (!Array.isArray(value) || isTuple(value)) {
      throw new PyException('TypeError', `can only concatenate list (not "${pyTypeName(other)}") to list`);
    }
    return this.#items.concat(value);
  }

  /** `value in l`. */
  __contains__(value: unknown): boolean {
    return this.#items.some((x) => pyEquals(x, value));
  }

  /**
   * `del l[i]`, or `del l[a:b:c]` for a slice.
   * @throws PyException IndexError 'list assignment index out of range', TypeError for a non-int, ValueError for a zero step.
   */
  __delitem__(index: unknown): undefined {
    if (index instanceof Slice) {
      const range = sliceRange(index, this.#items.length);
      if (range.step === 1) {
        this.#items.splice(range.start, range.count);
      } else if (range.count > 0) {
        const keep = keepMask(this.#items.length, range);
        this.#items = this.#items.filter((_, i) => keep[i]);
      }
      return undefined;
    }
    this.#items.splice(itemPosition(index, this.#items.length, 'list assignment index out of range'), 1);
    return undefined;
  }

  /**
   * `l[i]`, negative from the end; `l[a:b:c]` for a slice, a new list (a value, not a proxy).
   * @throws PyException IndexError 'list index out of range', TypeError for a non-int, ValueError for a zero step.
   */
  __getitem__(index: unknown): unknown {
    if (index instanceof Slice) return sliceItems(this.#items, sliceRange(index, this.#items.length));
    return this.#items[itemPosition(index, this.#items.length, 'list index out of range')];
  }

  /** `iter(l)`: a live iterator by index, as Python's list_iterator reads (changes show). */
  __iter__(): PyIterator {
    return new PyIterator(
      indexSource(
        () => this.#items.length,
        (i) => this.#items[i],
      ),
      'list_iterator',
    );
  }

  /** `reversed(l)`: from the last item down, ending early if the list shrinks below it, as Python's does. */
  __reversed__(): PyIterator {
    let index = this.#items.length - 1;
    const source: ItemSource = () => {
      if (index >= 0 && index < this.#items.length) return { done: false, value: this.#items[index--] };
      index = -1;
      return { done: true };
    };
    return new PyIterator(source, 'list_reverseiterator');
  }

  /** `len(l)`. */
  __len__(): number {
    return this.#items.length;
  }

  /** `l * n`: a new list. @throws PyException TypeError for a non-int. */
  __mul__(value: unknown): unknown[] {
    return repeat(this.#items, value);
  }

  /** `n * l`: a new list. */
  __rmul__(value: unknown): unknown[] {
    return repeat(this.#items, value);
  }

  /**
   * `l[i] = value`, or `l[a:b:c] = iterable` for a slice: a step-1 slice takes any number of
   * items (the list grows or shrinks), an extended slice exactly as many as it selects.
   * @throws PyException IndexError 'list assignment index out of range'; for a slice, TypeError
   * 'must assign iterable to extended slice', ValueError 'attempt to assign sequence of size 2 to
   * extended slice of size 3' or 'slice step cannot be zero'.
   */
  __setitem__(index: unknown, value: unknown): undefined {
    if (index instanceof Slice) {
      this.#assignSlice(index, value);
      return undefined;
    }
    this.#items[itemPosition(index, this.#items.length, 'list assignment index out of range')] = value;
    return undefined;
  }

  #assignSlice(slice: Slice, value: unknown): void {
    const range = sliceRange(slice, this.#items.length);
    const source = referent(value);
    let items: unknown[];
    try {
      // A copy first, so `l[::-1] = l` reads the list as it was.
      items = pyIterate(source);
    } catch (error) {
      if (error instanceof PyException && error.type === 'TypeError') throw new PyException('TypeError', 'must assign iterable to extended slice');
      throw error;
    }
    const { start, step, count } = range;
    if (step === 1) {
      this.#items = this.#items.slice(0, start).concat(items, this.#items.slice(start + count));
      return;
    }
    if (items.length !== count) {
      throw new PyException('ValueError', `attempt to assign sequence of size ${items.length} to extended slice of size ${count}`);
    }
    for (let k = 0, i = start; k < count; k++, i += step) this.#items[i] = items[k];
  }

  /** `l += iterable`, in place. Returns None rather than the list, which the proxy keeps anyway. */
  __iadd__(value: unknown): null {
    this.extend(value);
    return null;
  }

  /** `l *= n`, in place. Returns None rather than the list, which the proxy keeps anyway. */
  __imul__(value: unknown): null {
    this.#items = repeat(this.#items, value);
    return null;
  }

  /** Appends an item. */
  append(object: unknown): undefined {
    this.#items.push(object);
    return undefined;
  }

  /** How many items equal value. */
  count(value: unknown): number {
    let n = 0;
    for (const x of this.#items) if (pyEquals(x, value)) n++;
    return n;
  }

  /**
   * Appends an iterable's items (a str's characters, a dict's keys, a shared list's items...).
   * @throws PyException TypeError if not iterable.
   */
  extend(iterable: unknown): undefined {
    // pyIterate copies first, so extending a list with itself doubles it once.
    for (const x of pyIterate(referent(iterable))) this.#items.push(x);
    return undefined;
  }

  /** The first position of value within [start, stop). @throws PyException ValueError "x is not in list". */
  index(value: unknown, start: unknown = 0, stop: unknown = SSIZE_MAX): number {
    const from = sliceBound(start, this.#items.length);
    const to = sliceBound(stop, this.#items.length);
    for (let i = from; i < to; i++) if (pyEquals(this.#items[i], value)) return i;
    throw new PyException('ValueError', `${pyRepr(value)} is not in list`);
  }

  /** Inserts before position index (clamped to the list, negative from the end). */
  insert(index: unknown, object: unknown): undefined {
    const n = intArgument(index);
    const length = this.#items.length;
    const position = Math.max(0, Math.min(n < 0 ? n + length : n, length));
    this.#items.splice(position, 0, object);
    return undefined;
  }

  /** Removes and returns the item at index (default last). @throws PyException IndexError. */
  pop(index: unknown = -1, context: CallContext = {}): unknown {
    const n = intArgument(index);
    const items = this.#items;
    const length = items.length;
    if (length === 0) throw new PyException('IndexError', 'pop from empty list');
    const position = n < 0 ? n + length : n;
    if (position < 0 || position >= length) throw new PyException('IndexError', 'pop index out of range');
    // An item whose answer never reaches the caller goes back in its place (the same turn: nothing moved it).
    context.giveBack?.((item) => this.#items.splice(Math.min(position, this.#items.length), 0, item));
    return position === length - 1 ? items.pop() : items.splice(position, 1)[0];
  }

  /** Removes the first item equal to value. @throws PyException ValueError 'list.remove(x): x not in list'. */
  remove(value: unknown): undefined {
    const i = this.#items.findIndex((x) => pyEquals(x, value));
    if (i < 0) throw new PyException('ValueError', 'list.remove(x): x not in list');
    this.#items.splice(i, 1);
    return undefined;
  }

  /** Removes every item (Python 3.14's ListProxy exposes it). */
  clear(): undefined {
    this.#items = [];
    return undefined;
  }

  /** A shallow copy of the items, as a value. */
  copy(): unknown[] {
    return this.#items.slice();
  }

  /** Reverses the list in place. */
  reverse(): undefined {
    this.#items.reverse();
    return undefined;
  }

  /**
   * `l.sort(*, key=None, reverse=False)` as `invokeMethod` calls it: `(...args, kwargs, context)`.
   * A stable sort by Python's `<`; a key function cannot be sent, so key must be None.
   * @throws PyException TypeError for positionals, unknown keywords, a key, or unorderable items.
   */
  sort(...bound: unknown[]): undefined {
    const args = bound.slice(0, -2);
    const kwargs = (bound[bound.length - 2] ?? {}) as Record<string, unknown>;
    if (args.length) throw new PyException('TypeError', 'sort() takes no positional arguments');
    const names = Object.keys(kwargs);
    if (names.length > 2) throw new PyException('TypeError', `sort() takes at most 2 keyword arguments (${names.length} given)`);
    for (const name of names) {
      if (name !== 'key' && name !== 'reverse') throw new PyException('TypeError', `'${name}' is an invalid keyword argument for sort()`);
    }
    const key = kwargs.key ?? null;
    if (key !== null) {
      throw new PyException('TypeError', `sort() key must be None here: a key function cannot be sent to the manager (got '${pyTypeName(key)}')`);
    }
    this.sortValues(intArgument(kwargs.reverse ?? false) !== 0);
    return undefined;
  }

  /** Sorts in place by Python's `<`, stably (equal items keep their order even when reversed). */
  sortValues(reverse = false): void {
    // Sort a copy: if two items cannot be compared the list is left as it was.
    const sorted = this.#items.slice().sort(reverse ? (a, b) => pyCompare(b, a) : pyCompare);
    this.#items = sorted;
  }
}

/** How `list(...)` binds its arguments: positionals only, counted by hand for Python's message. */
const constructorSignature = sig('*args');

/**
 * Python's `list(iterable=())` from wire arguments.
 * @throws PyException TypeError "list expected at most 1 argument, got 2", "list() takes no keyword arguments".
 */
export function createList(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): List {
  if (Object.keys(kwargs).length) throw new PyException('TypeError', 'list() takes no keyword arguments');
  const bound = bindArguments('list', constructorSignature, args, kwargs);
  if (bound.length > 1) throw new PyException('TypeError', `list expected at most 1 argument, got ${bound.length}`);
  return bound.length ? new List(bound[0]) : new List();
}
