/**
 * The shared `set`: Python's set as `SyncManager().set()` serves it in Python 3.14 (SetProxy's
 * methods), with Python's equality for members (1, 1.0 and True are one member, the first given
 * is kept), Python's errors, and `__iter__` handing back an Iterator proxy.
 *
 * Where it must differ from Python, it says so: members come out in insertion order (Python's
 * order follows hashes, which no other language shares), so `pop()` takes the oldest member; an
 * operator given something other than a set raises the TypeError Python's `&` would end with,
 * rather than returning NotImplemented, which has no wire form; and the in-place operators return
 * None rather than the set, which the proxy keeps anyway.
 */

import { bindArguments, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { FrozenSet } from '../../common/valueTypes';
import { referent } from '../calls/sharedRef';
import { PyIterator, sizeCheckedSource } from './iterator';
import { pyHashKey, pyIterate, pyRepr, pyTypeName } from '../pythonSemantics';

/** Members by their hash key ({@link pyHashKey}): Python-equal values share one key. */
type Members = Map<string, unknown>;

function keyError(key: unknown): PyException {
  return new PyException('KeyError', pyRepr(key), [key]);
}

/**
 * The key to look a value up by in `in`, `remove` and `discard`: as in Python, a set (which is
 * unhashable) is looked up as the frozenset of its members.
 */
function lookupKey(value: unknown): string {
  return value instanceof Set && !(value instanceof FrozenSet) ? pyHashKey(new FrozenSet(value)) : pyHashKey(value);
}

/** A value's members as a Members map (first of equal values kept). @throws PyException TypeError if unhashable or not iterable. */
function membersOf(items: Iterable<unknown>): Members {
  const out: Members = new Map();
  for (const x of items) {
    const key = pyHashKey(x);
    if (!out.has(key)) out.set(key, x);
  }
  return out;
}

/**
 * Python's `a & b` for two sets: the smaller is walked and its members kept, so that is where
 * the kept member of two equal ones comes from (`b` when the sizes are equal), as in CPython.
 */
function intersect(a: Members, b: Members): Members {
  const [walked, probed] = b.size > a.size ? [a, b] : [b, a];
  const out: Members = new Map();
  for (const [key, x] of walked) if (probed.has(key)) out.set(key, x);
  return out;
}

/** Python's `a | b`: a's members, then b's that a lacks. */
function unite(a: Members, b: Members): Members {
  const out = new Map(a);
  for (const [key, x] of b) if (!out.has(key)) out.set(key, x);
  return out;
}

/** Python's `a - b`. */
function subtract(a: Members, b: Members): Members {
  const out: Members = new Map();
  for (const [key, x] of a) if (!b.has(key)) out.set(key, x);
  return out;
}

/** Python's `a ^ b`. */
function symmetricDifference(a: Members, b: Members): Members {
  const out = subtract(a, b);
  for (const [key, x] of b) if (!a.has(key)) out.set(key, x);
  return out;
}

/** Whether every member of a is in b. */
function within(a: Members, b: Members): boolean {
  if (a.size > b.size) return false;
  for (const key of a.keys()) if (!b.has(key)) return false;
  return true;
}

/** A set value for the wire (`$set`, or `$frozenset` when the result is a frozenset). */
function setValue(members: Members, frozen = false): Set<unknown> {
  return frozen ? new FrozenSet(members.values()) : new Set(members.values());
}

/** A set shared through the manager, with the methods Python 3.14's SetProxy calls. */
export class PySet {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'set';
  /**
   * The methods clients may call: SetProxy's (less `__class_getitem__`, a class method with no
   * meaning here), plus `__eq__`.
   */
  static readonly exposed: readonly string[] = [
    '__and__', '__contains__', '__iand__', '__ior__', '__isub__', '__iter__', '__ixor__', '__len__',
    '__or__', '__rand__', '__ror__', '__rsub__', '__rxor__', '__sub__', '__xor__',
    '__eq__', '__ge__', '__gt__', '__le__', '__lt__',
    'add', 'clear', 'copy', 'difference', 'difference_update', 'discard', 'intersection',
    'intersection_update', 'isdisjoint', 'issubset', 'issuperset', 'pop', 'remove',
    'symmetric_difference', 'symmetric_difference_update', 'union', 'update',
  ];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __and__: sig('value'),
    __contains__: sig('key'),
    __iand__: sig('value'),
    __ior__: sig('value'),
    __isub__: sig('value'),
    __iter__: sig(),
    __ixor__: sig('value'),
    __len__: sig(),
    __or__: sig('value'),
    __rand__: sig('value'),
    __ror__: sig('value'),
    __rsub__: sig('value'),
    __rxor__: sig('value'),
    __sub__: sig('value'),
    __xor__: sig('value'),
    __eq__: sig('value'),
    __ge__: sig('value'),
    __gt__: sig('value'),
    __le__: sig('value'),
    __lt__: sig('value'),
    add: sig('elem'),
    clear: sig(),
    copy: sig(),
    difference: sig('*others'),
    difference_update: sig('*others'),
    discard: sig('elem'),
    intersection: sig('*others'),
    intersection_update: sig('*others'),
    isdisjoint: sig('other'),
    issubset: sig('other'),
    issuperset: sig('other'),
    pop: sig(),
    remove: sig('elem'),
    symmetric_difference: sig('other'),
    symmetric_difference_update: sig('other'),
    union: sig('*others'),
    update: sig('*others'),
  };
  /** `iter(s)` hands back an Iterator proxy, as DictProxy's `__iter__` does. */
  static readonly methodToTypeid: Readonly<Record<string, string>> = { __iter__: 'Iterator' };

  // One Map for the set's life, changed in place, so a live iterator sees the set it iterates.
  readonly #members: Members;

  /** Python's `set(iterable=())`. @throws PyException TypeError for a non-iterable or an unhashable member. */
  constructor(iterable: unknown = []) {
    this.#members = membersOf(PySet.#items(iterable));
  }

  /** The items of an iterable argument; a shared list, dict or set given by proxy is read in place. */
  static #items(value: unknown): unknown[] {
    return pyIterate(referent(value));
  }

  /** The members of an operand that is a set or frozenset (a shared set too), else undefined. */
  static #setOperand(value: unknown): Members | undefined {
    const v = referent(value);
    if (v instanceof PySet) return v.#members;
    if (v instanceof Set) return membersOf(v);
    return undefined;
  }

  /** The members of any iterable argument: a set's own, or the iterable's items made into a set. */
  static #membersOfAny(value: unknown): Members {
    return PySet.#setOperand(value) ?? membersOf(PySet.#items(value));
  }

  /** An operator's set operand. @throws PyException TypeError "unsupported operand type(s) for &: 'set' and 'list'". */
  #operand(value: unknown, operator: string, reflected = false): Members {
    const members = PySet.#setOperand(value);
    if (members) return members;
    const [left, right] = reflected ? [pyTypeName(referent(value)), 'set'] : ['set', pyTypeName(referent(value))];
    throw new PyException('TypeError', `unsupported operand type(s) for ${operator}: '${left}' and '${right}'`);
  }

  /** A comparison's set operand. @throws PyException TypeError "'<=' not supported between instances of 'set' and 'list'". */
  #compared(value: unknown, operator: string): Members {
    const members = PySet.#setOperand(value);
    if (members) return members;
    throw new PyException('TypeError', `'${operator}' not supported between instances of 'set' and '${pyTypeName(referent(value))}'`);
  }

  /** Whether a reflected operator's result is a frozenset: Python gives the left operand's type. */
  static #frozen(value: unknown): boolean {
    return referent(value) instanceof FrozenSet;
  }

  /** The number of members. */
  get size(): number {
    return this.#members.size;
  }

  /** The members, in insertion order (a copy; for inspection tools). */
  snapshot(): unknown[] {
    return [...this.#members.values()];
  }

  /** Iterates over a copy of the members (server-side code, and a set given as another's argument). */
  [Symbol.iterator](): Iterator<unknown> {
    return this.snapshot()[Symbol.iterator]();
  }

  /** The members as a wire value, so a set sent by value reads as a set. */
  toJSON(): Set<unknown> {
    return setValue(this.#members);
  }

  /** For `#GETVALUE`: a copy of the set. */
  __getvalue__(): Set<unknown> {
    return setValue(this.#members);
  }

  /** Python's repr: `{1, 2}`, or `set()` (members in insertion order). */
  __repr__(): string {
    return pyRepr(setValue(this.#members));
  }

  /** The set's state for the inspection sidebar. */
  describeState(): { size: number; details: Record<string, unknown> } {
    return { size: this.#members.size, details: {} };
  }

  /** `s & other`. @throws PyException TypeError unless other is a set or frozenset. */
  __and__(value: unknown): Set<unknown> {
    return setValue(intersect(this.#members, this.#operand(value, '&')));
  }

  /** `other & s`, a frozenset when other is one. */
  __rand__(value: unknown): Set<unknown> {
    return setValue(intersect(this.#operand(value, '&', true), this.#members), PySet.#frozen(value));
  }

  /** `s | other`. */
  __or__(value: unknown): Set<unknown> {
    return setValue(unite(this.#members, this.#operand(value, '|')));
  }

  /** `other | s`, a frozenset when other is one. */
  __ror__(value: unknown): Set<unknown> {
    return setValue(unite(this.#operand(value, '|', true), this.#members), PySet.#frozen(value));
  }

  /** `s - other`. */
  __sub__(value: unknown): Set<unknown> {
    return setValue(subtract(this.#members, this.#operand(value, '-')));
  }

  /** `other - s`, a frozenset when other is one. */
  __rsub__(value: unknown): Set<unknown> {
    return setValue(subtract(this.#operand(value, '-', true), this.#members), PySet.#frozen(value));
  }

  /** `s ^ other`. */
  __xor__(value: unknown): Set<unknown> {
    return setValue(symmetricDifference(this.#members, this.#operand(value, '^')));
  }

  /** `other ^ s`, a frozenset when other is one. */
  __rxor__(value: unknown): Set<unknown> {
    return setValue(symmetricDifference(this.#operand(value, '^', true), this.#members), PySet.#frozen(value));
  }

  /** `s &= other`, in place. Returns None rather than the set, which the proxy keeps anyway. */
  __iand__(value: unknown): null {
    this.#replace(intersect(this.#members, this.#operand(value, '&=')));
    return null;
  }

  /** `s |= other`, in place. */
  __ior__(value: unknown): null {
    PySet.#addAll(this.#members, this.#operand(value, '|=').values());
    return null;
  }

  /** `s -= other`, in place (`s -= s` empties it). */
  __isub__(value: unknown): null {
    this.#replace(subtract(this.#members, this.#operand(value, '-=')));
    return null;
  }

  /** `s ^= other`, in place (`s ^= s` empties it). */
  __ixor__(value: unknown): null {
    this.#replace(symmetricDifference(this.#members, this.#operand(value, '^=')));
    return null;
  }

  /** `s == other`: False for anything but a set or frozenset with the same members, as Python's `==` gives. */
  __eq__(value: unknown): boolean {
    const other = PySet.#setOperand(value);
    return other !== undefined && other.size === this.#members.size && within(this.#members, other);
  }

  /** `s <= other`: every member of s is in other. @throws PyException TypeError unless other is a set. */
  __le__(value: unknown): boolean {
    return within(this.#members, this.#compared(value, '<='));
  }

  /** `s < other`: a proper subset. */
  __lt__(value: unknown): boolean {
    const other = this.#compared(value, '<');
    return this.#members.size < other.size && within(this.#members, other);
  }

  /** `s >= other`: every member of other is in s. */
  __ge__(value: unknown): boolean {
    return within(this.#compared(value, '>='), this.#members);
  }

  /** `s > other`: a proper superset. */
  __gt__(value: unknown): boolean {
    const other = this.#compared(value, '>');
    return other.size < this.#members.size && within(other, this.#members);
  }

  /** `key in s`; a set is looked up as a frozenset. @throws PyException TypeError for an unhashable key. */
  __contains__(key: unknown): boolean {
    return this.#members.has(lookupKey(key));
  }

  /** `len(s)`. */
  __len__(): number {
    return this.#members.size;
  }

  /** `iter(s)`: a live iterator; changing the set's size while iterating is Python's RuntimeError. */
  __iter__(): PyIterator {
    const members = this.#members;
    return new PyIterator(sizeCheckedSource(() => members.values(), () => members.size, 'Set'), 'set_iterator');
  }

  /** Adds a member (kept as given unless an equal one is already there). @throws PyException TypeError if unhashable. */
  add(elem: unknown): undefined {
    const key = pyHashKey(elem);
    if (!this.#members.has(key)) this.#members.set(key, elem);
    return undefined;
  }

  /** Removes every member. */
  clear(): undefined {
    this.#members.clear();
    return undefined;
  }

  /** A shallow copy, as a set value. */
  copy(): Set<unknown> {
    return setValue(this.#members);
  }

  /** `s.difference(*others)`: the members in none of the others (any iterables). */
  difference(...bound: unknown[]): Set<unknown> {
    let out = new Map(this.#members);
    for (const other of PySet.#others(bound)) out = subtract(out, PySet.#membersOfAny(other));
    return setValue(out);
  }

  /** `s.difference_update(*others)`, in place. */
  difference_update(...bound: unknown[]): undefined {
    for (const other of PySet.#others(bound)) this.#replace(subtract(this.#members, PySet.#membersOfAny(other)));
    return undefined;
  }

  /** Removes a member if present. @throws PyException TypeError for an unhashable one. */
  discard(elem: unknown): undefined {
    this.#members.delete(lookupKey(elem));
    return undefined;
  }

  /** `s.intersection(*others)`: the members in every other (any iterables); a copy when none is given. */
  intersection(...bound: unknown[]): Set<unknown> {
    return setValue(this.#intersection(PySet.#others(bound)));
  }

  /** `s.intersection_update(*others)`, in place. */
  intersection_update(...bound: unknown[]): undefined {
    this.#replace(this.#intersection(PySet.#others(bound)));
    return undefined;
  }

  /** Whether s and other share no member. */
  isdisjoint(other: unknown): boolean {
    const members = PySet.#setOperand(other);
    if (members) return intersect(this.#members, members).size === 0;
    // An iterable is read item by item and stops at the first shared one, as in Python.
    for (const x of PySet.#items(other)) if (this.#members.has(pyHashKey(x))) return false;
    return true;
  }

  /** Whether every member of s is in other (any iterable). */
  issubset(other: unknown): boolean {
    return within(this.#members, PySet.#membersOfAny(other));
  }

  /** Whether every item of other (any iterable) is in s. */
  issuperset(other: unknown): boolean {
    const members = PySet.#setOperand(other);
    if (members) return within(members, this.#members);
    for (const x of PySet.#items(other)) if (!this.#members.has(pyHashKey(x))) return false;
    return true;
  }

  /**
   * Removes and returns a member: the oldest, where Python takes whichever its hash table gives.
   * @throws PyException KeyError 'pop from an empty set'.
   */
  pop(context: CallContext = {}): unknown {
    for (const [key, x] of this.#members) {
      this.#members.delete(key);
      // A member whose answer never reaches the caller goes back, oldest again, so the next pop takes it.
      context.giveBack?.(() => {
        if (this.#members.has(key)) return;
        const rest = [...this.#members];
        this.#members.clear();
        this.#members.set(key, x);
        for (const [k, v] of rest) this.#members.set(k, v);
      });
      return x;
    }
    throw keyError('pop from an empty set');
  }

  /** Removes a member. @throws PyException KeyError (the value as args) if absent, TypeError if unhashable. */
  remove(elem: unknown): undefined {
    if (!this.#members.delete(lookupKey(elem))) throw keyError(elem);
    return undefined;
  }

  /** `s.symmetric_difference(other)`: members in exactly one of s and other (any iterable). */
  symmetric_difference(other: unknown): Set<unknown> {
    return setValue(symmetricDifference(this.#members, PySet.#membersOfAny(other)));
  }

  /** `s.symmetric_difference_update(other)`, in place. */
  symmetric_difference_update(other: unknown): undefined {
    this.#replace(symmetricDifference(this.#members, PySet.#membersOfAny(other)));
    return undefined;
  }

  /** `s.union(*others)`: the members of s and of every other (any iterables). */
  union(...bound: unknown[]): Set<unknown> {
    const out = new Map(this.#members);
    for (const other of PySet.#others(bound)) PySet.#addAll(out, PySet.#items(other));
    return setValue(out);
  }

  /** `s.update(*others)`, in place. @throws PyException TypeError for an unhashable item (those before it stay added, as in Python). */
  update(...bound: unknown[]): undefined {
    for (const other of PySet.#others(bound)) PySet.#addAll(this.#members, PySet.#items(other));
    return undefined;
  }

  /** The `*others` of a method as `invokeMethod` calls it: `(...others, context)` (server-side code passes a context too). */
  static #others(bound: readonly unknown[]): unknown[] {
    return bound.slice(0, -1);
  }

  /** The set's members become `members` (computed first: an error leaves the set as it was). */
  #replace(members: Members): void {
    if (members === this.#members) return;
    this.#members.clear();
    for (const [key, x] of members) this.#members.set(key, x);
  }

  static #addAll(members: Members, items: Iterable<unknown>): void {
    for (const x of items) {
      const key = pyHashKey(x);
      if (!members.has(key)) members.set(key, x);
    }
  }

  /**
   * Python's `set.intersection(*others)`: a set other is intersected as `&` does; any other
   * iterable is walked, keeping its items that s holds.
   */
  #intersection(others: readonly unknown[]): Members {
    let out = this.#members;
    for (const other of others) {
      const members = PySet.#setOperand(other);
      if (members) {
        out = intersect(out, members);
        continue;
      }
      const next: Members = new Map();
      for (const x of PySet.#items(other)) {
        const key = pyHashKey(x);
        if (out.has(key) && !next.has(key)) next.set(key, x);
      }
      out = next;
    }
    // No others: a copy, never the live members.
    return out === this.#members ? new Map(out) : out;
  }
}

/** How `set(...)` binds its arguments: positionals only, counted by hand for Python's message. */
const constructorSignature = sig('*args');

/**
 * Python's `set(iterable=())` from wire arguments.
 * @throws PyException TypeError "set expected at most 1 argument, got 2", "set() takes no keyword arguments".
 */
export function createSet(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): PySet {
  if (Object.keys(kwargs).length) throw new PyException('TypeError', 'set() takes no keyword arguments');
  const bound = bindArguments('set', constructorSignature, args, kwargs);
  if (bound.length > 1) throw new PyException('TypeError', `set expected at most 1 argument, got ${bound.length}`);
  return bound.length ? new PySet(bound[0]) : new PySet();
}
