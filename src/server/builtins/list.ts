/**
 * The shared `list`: Python's list as `SyncManager().list()` serves it (ListProxy's methods, less
 * `__reversed__`, whose iterator proxies come later), with Python's index rules and errors.
 * Slices cannot be sent (the protocol has no slice value), so indices are ints only.
 */

import { bindArguments, sig, type Signature } from '../signature';
import { PyException } from '../exceptions';
import { isTuple } from '../../common/values';
import { pyCompare, pyEquals, pyIndex, pyIterate, pyRepr, pyTypeName } from './pyValues';

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
  /** The methods clients may call: ListProxy's, less `__reversed__`, plus `__iadd__`. */
  static readonly exposed: readonly string[] = [
    '__add__', '__contains__', '__delitem__', '__getitem__', '__len__', '__mul__', '__rmul__', '__setitem__',
    '__iadd__', '__imul__', 'append', 'count', 'extend', 'index', 'insert', 'pop', 'remove', 'reverse', 'sort',
  ];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __add__: sig('value'),
    __contains__: sig('key'),
    __delitem__: sig('key'),
    __getitem__: sig('index'),
    __len__: sig(),
    __mul__: sig('value'),
    __rmul__: sig('value'),
    __setitem__: sig('key', 'value'),
    __iadd__: sig('value'),
    __imul__: sig('value'),
    append: sig('object'),
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

  /** `l + other`: a new list (a value, not a proxy). @throws PyException TypeError unless other is a list. */
  __add__(value: unknown): unknown[] {
    if (value instanceof List) return this.#items.concat(value.#items);
    if (!Array.isArray(value) || isTuple(value)) {
      throw new PyException('TypeError', `can only concatenate list (not "${pyTypeName(value)}") to list`);
    }
    return this.#items.concat(value);
  }

  /** `value in l`. */
  __contains__(value: unknown): boolean {
    return this.#items.some((x) => pyEquals(x, value));
  }

  /** `del l[i]`. @throws PyException IndexError 'list assignment index out of range', TypeError for a non-int. */
  __delitem__(index: unknown): undefined {
    this.#items.splice(itemPosition(index, this.#items.length, 'list assignment index out of range'), 1);
    return undefined;
  }

  /** `l[i]`, negative from the end. @throws PyException IndexError 'list index out of range', TypeError for a non-int. */
  __getitem__(index: unknown): unknown {
    return this.#items[itemPosition(index, this.#items.length, 'list index out of range')];
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

  /** `l[i] = value`. @throws PyException IndexError 'list assignment index out of range'. */
  __setitem__(index: unknown, value: unknown): undefined {
    this.#items[itemPosition(index, this.#items.length, 'list assignment index out of range')] = value;
    return undefined;
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

  /** Appends an iterable's items (a str's characters, a dict's keys...). @throws PyException TypeError if not iterable. */
  extend(iterable: unknown): undefined {
    // pyIterate copies first, so extending a list with itself doubles it once.
    for (const x of pyIterate(iterable)) this.#items.push(x);
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
  pop(index: unknown = -1): unknown {
    const n = intArgument(index);
    const length = this.#items.length;
    if (length === 0) throw new PyException('IndexError', 'pop from empty list');
    const position = n < 0 ? n + length : n;
    if (position < 0 || position >= length) throw new PyException('IndexError', 'pop index out of range');
    return position === length - 1 ? this.#items.pop() : this.#items.splice(position, 1)[0];
  }

  /** Removes the first item equal to value. @throws PyException ValueError 'list.remove(x): x not in list'. */
  remove(value: unknown): undefined {
    const i = this.#items.findIndex((x) => pyEquals(x, value));
    if (i < 0) throw new PyException('ValueError', 'list.remove(x): x not in list');
    this.#items.splice(i, 1);
    return undefined;
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
