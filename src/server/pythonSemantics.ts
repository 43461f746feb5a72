/**
 * Python value semantics over the server's decoded value representations (see `common/valueTypes.ts`):
 * type names, repr, equality, hashing, ordering, truthiness and iteration, as CPython defines them,
 * so the built-in shared types behave and word their errors as their Python counterparts do.
 */

import { PyException } from './exceptions';
import { Float, FrozenSet, OpaqueValue, Slice, isTuple } from '../common/valueTypes';
import { SharedRef } from './calls/sharedRef';
import { isPacked, unpacked } from './packedValues';

/** Whether a value is a dict written as a plain JSON object (string keys). */
export function isPlainDict(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether a value is a Python dict in any of its server representations (plain object, Map, {@link PyDict}). */
export function isDictValue(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> | PyDict {
  return v instanceof Map || v instanceof PyDict || isPlainDict(v);
}

/** The `[key, value]` pairs of a dict value, in order. */
export function dictEntries(v: Record<string, unknown> | Map<unknown, unknown> | PyDict): [unknown, unknown][] {
  if (v instanceof Map) return [...v];
  if (v instanceof PyDict) return [...v.entries()];
  return Object.keys(v).map((k) => [k, v[k]]);
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

/**
 * The name of a value's Python type, as Python's error messages print it:
 * 'int', 'float', 'str', 'bytes', 'bool', 'NoneType', 'list', 'tuple', 'dict', 'set', 'frozenset'...
 * Other objects give their class's `builtin` name or constructor name.
 */
export function pyTypeName(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'NoneType';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
  }
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (v instanceof Float) return 'float';
  if (isBytes(v)) return 'bytes';
  if (v instanceof FrozenSet) return 'frozenset';
  if (v instanceof Set) return 'set';
  if (isDictValue(v)) return 'dict';
  // An opaque value is named `module.Class`; Python prints the bare class name.
  if (v instanceof OpaqueValue) return v.type.slice(v.type.lastIndexOf('.') + 1);
  if (v instanceof Slice) return 'slice';
  if (isPacked(v)) return pyTypeName(unpacked(v));
  const ctor = (v as object).constructor as { builtin?: string; name?: string } | undefined;
  return ctor?.builtin ?? ctor?.name ?? 'object';
}

/** An integer value's digits, exact even beyond 2**53 (1e20 is an int here, and prints as Python prints it). */
function intDigits(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** Python's repr of a float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
function floatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip, like Python's repr.
  const [mantissa, expText] = Math.abs(v).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${head}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  return `${sign}${whole}.${digits.slice(exp + 1) || '0'}`;
}

const notPrintable = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Python's repr of a str: single quotes unless only double quotes avoid escaping; unprintables escaped. */
function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c !== 0x20 && notPrintable.test(ch)) out += c < 0x100 ? `\\x${hex(c, 2)}` : c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr of bytes: b'...' with printable ASCII kept and everything else as \xNN. */
function bytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    if (c === quote.charCodeAt(0) || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c > 0x7e) out += `\\x${hex(c, 2)}`;
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

/**
 * Python's repr of a value ("'abc'", "b'\\x00a'", "(1,)", "{'a': 1}", "True", "None", "2.0",
 * "{1, 2}", "set()", "frozenset({1})"), for error messages such as `KeyError: 'x'`.
 */
export function pyRepr(v: unknown): string {
  return repr(v, new Set());
}

function repr(v: unknown, seen: Set<object>): string {
  switch (typeof v) {
    case 'undefined':
      return 'None';
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
      return Number.isInteger(v) ? intDigits(v) : floatRepr(v);
    case 'bigint':
      return v.toString();
    case 'string':
      return strRepr(v);
    case 'function':
      return `<function ${v.name || '<anonymous>'}>`;
    case 'symbol':
      return String(v);
  }
  if (v === null) return 'None';
  if (v instanceof Float) return floatRepr(v.value);
  if (isBytes(v)) return bytesRepr(v);
  if (v instanceof OpaqueValue) return v.toString();
  // Python prints a proxy as `<DictProxy object, typeid 'dict' at 0x...>`; the typeid is not known here.
  if (v instanceof Slice) return `slice(${repr(v.start ?? null, seen)}, ${repr(v.stop ?? null, seen)}, ${repr(v.step ?? null, seen)})`;
  if (v instanceof SharedRef) return `<proxy of ${pyTypeName(v.obj)} object at ${pyAddress(v.obj)}>`;
  if (isPacked(v)) return repr(unpacked(v), seen);
  const isContainer = Array.isArray(v) || v instanceof Set || isDictValue(v);
  if (!isContainer) return `<${pyTypeName(v)} object>`;
  // A container that holds itself prints as Python prints it: [...], {...}.
  if (seen.has(v as object)) return Array.isArray(v) && !isTuple(v) ? '[...]' : isTuple(v) ? '(...)' : '{...}';
  seen.add(v as object);
  try {
    if (Array.isArray(v)) {
      const items = v.map((x) => repr(x, seen));
      if (!isTuple(v)) return `[${items.join(', ')}]`;
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    }
    if (v instanceof Set) {
      const items = [...v].map((x) => repr(x, seen)).join(', ');
      if (v instanceof FrozenSet) return v.size ? `frozenset({${items}})` : 'frozenset()';
      return v.size ? `{${items}}` : 'set()';
    }
    const pairs = dictEntries(v as Record<string, unknown>).map(([k, x]) => `${repr(k, seen)}: ${repr(x, seen)}`);
    return `{${pairs.join(', ')}}`;
  } finally {
    seen.delete(v as object);
  }
}

/** The numeric value of an int, float or bool (Python's numeric tower), or undefined for others. */
export function pyNumber(v: unknown): number | bigint | undefined {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1 : 0;
  }
  return v instanceof Float ? v.value : undefined;
}

/**
 * The integer a value stands for where Python wants an index (`operator.index`): ints and bools;
 * undefined for floats (even 2.0), strings and everything else.
 */
export function pyIndex(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  const [n, big] = (typeof a === 'number' ? [a, b] : [b, a]) as [number, bigint];
  return Number.isInteger(n) && BigInt(n) === big;
}

function numbersCompare(a: number | bigint, b: number | bigint): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint') return 0 - numbersCompare(b, a) || 0;
  const n = a as number;
  const big = b as bigint;
  if (Number.isNaN(n)) return 0;
  if (!Number.isFinite(n)) return n > 0 ? 1 : -1;
  // Exact comparison: converting the bigint to a double could round it onto n.
  const floor = BigInt(Math.floor(n));
  if (floor !== big) return floor < big ? -1 : 1;
  return n === Math.floor(n) ? 0 : 1;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Python's `==` between two values: 1 == 1.0 == True == Float(1) == 1n; a tuple never equals a
 * list; dicts are equal by items and sets by members whatever their representation; bytes by
 * content; NaN equals nothing. Other objects are equal only to themselves.
 */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || !Number.isNaN(a);
  if (a === undefined || a === null) return b === undefined || b === null;
  const na = pyNumber(a);
  if (na !== undefined) {
    const nb = pyNumber(b);
    return nb !== undefined && numbersEqual(na, nb);
  }
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (typeof a !== 'object' || typeof b !== 'object' || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
    return true;
  }
  if (isBytes(a)) return isBytes(b) && bytesEqual(a, b);
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    const keys = new Set<string>();
    for (const x of b) keys.add(pyHashKey(x));
    for (const x of a) if (!keys.has(pyHashKey(x))) return false;
    return true;
  }
  if (isDictValue(a)) {
    if (!isDictValue(b)) return false;
    const other = b instanceof PyDict ? b : new PyDict(dictEntries(b));
    const mine = dictEntries(a);
    if (mine.length !== other.size) return false;
    for (const [k, v] of mine) {
      const found = other.getEntry(k);
      if (!found || !pyEquals(v, found[1])) return false;
    }
    return true;
  }
  if (a instanceof OpaqueValue) {
    return b instanceof OpaqueValue && a.lang === b.lang && a.type === b.type && bytesEqual(a.data, b.data);
  }
  // Packed values are containers, so only ever reach here: compared as the values they stand for.
  if (isPacked(a) || isPacked(b)) return pyEquals(unpacked(a), unpacked(b));
  return false;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 1;

/** A stable identity number for an object, as Python's `id()` gives one. */
function identityOf(v: object): number {
  let id = identities.get(v);
  if (id === undefined) identities.set(v, (id = nextIdentity++));
  return id;
}

/** An object's "address" for reprs (`<unlocked _thread.lock object at 0x7f0000000003>`): stable and unique per object. */
export function pyAddress(v: object): string {
  return `0x7f${identityOf(v).toString(16).padStart(10, '0')}`;
}

function hashKey(v: unknown): string {
  // Each form is self-delimiting inside a tuple's "(a,b)" list: numbers hold no ',' or ')',
  // strings carry their length, bytes end with ';', nested tuples are balanced.
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`;
    case 'number':
      if (Number.isInteger(v)) return `i${intDigits(v)}`;
      return `f${Number.isNaN(v) ? 'nan' : String(v)}`;
    case 'bigint':
      return `i${v}`;
    case 'boolean':
      return v ? 'i1' : 'i0';
    case 'undefined':
      return 'N';
  }
  if (v === null) return 'N';
  if (v instanceof Float) return hashKey(v.value);
  if (Array.isArray(v)) {
    if (!isTuple(v)) throw unhashable(v);
    return `t(${v.map(hashKey).join(',')})`;
  }
  if (isBytes(v)) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')};`;
  if (v instanceof FrozenSet) return `F(${[...v].map(hashKey).sort().join(',')})`;
  if (v instanceof Set || isDictValue(v)) throw unhashable(v);
  if (v instanceof OpaqueValue) {
    return `o${v.lang.length}:${v.lang}${v.type.length}:${v.type}${Buffer.from(v.data).toString('hex')};`;
  }
  if (isPacked(v)) return hashKey(unpacked(v));
  if (typeof v === 'object' || typeof v === 'function') {
    // Any other object (a shared object, a reference) hashes by identity, as Python's objects do.
    return `#${identityOf(v)}`;
  }
  throw unhashable(v);
}

function unhashable(v: unknown): PyException {
  return new PyException('TypeError', `unhashable type: '${pyTypeName(v)}'`);
}

/**
 * A canonical string for a hashable value: Python-equal values give the same key (1, 1.0, True,
 * Float(1) and 1n all do), unequal ones different keys. NaNs all share one key (Python keeps
 * distinct NaN objects apart by identity, which values sent over the wire do not have).
 * @throws PyException TypeError "unhashable type: 'list'" for lists, dicts and sets.
 */
export function pyHashKey(v: unknown): string {
  return hashKey(v);
}

/** Compares strings by code point, as Python does (JavaScript's `<` compares UTF-16 units). */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Lift surrogates above U+E000..U+FFFF so astral characters sort after every BMP one.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareSequences(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i]);
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareSets(a: Set<unknown>, b: Set<unknown>): number {
  // Sets are ordered by inclusion: a partial order, so "neither" is reported as 0.
  const inB = new Set([...b].map(hashKey));
  const aInB = [...a].every((x) => inB.has(hashKey(x)));
  if (aInB) return a.size < b.size ? -1 : 0;
  const inA = new Set([...a].map(hashKey));
  return [...b].every((x) => inA.has(hashKey(x))) ? 1 : 0;
}

/**
 * Python's ordering for sort and min: negative when a < b, positive when a > b, 0 otherwise.
 * Numbers (int, float, bool, bigint, Float) compare with numbers, str with str, bytes with bytes,
 * tuples with tuples and lists with lists lexicographically, sets by inclusion.
 * @throws PyException TypeError "'<' not supported between instances of 'str' and 'int'".
 */
export function pyCompare(a: unknown, b: unknown): number {
  const na = pyNumber(a);
  const nb = pyNumber(b);
  if (na !== undefined && nb !== undefined) return numbersCompare(na, nb);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (isBytes(a) && isBytes(b)) return compareBytes(a, b);
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) return compareSequences(a, b);
  if (a instanceof Set && b instanceof Set) return compareSets(a, b);
  if (isPacked(a) || isPacked(b)) return pyCompare(unpacked(a), unpacked(b));
  throw new PyException('TypeError', `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

/** Python's truth value: None, False, zeros and empty containers are false; everything else true. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  const n = pyNumber(v);
  if (n !== undefined) return n !== 0 && n !== 0n;
  if (typeof v === 'string' || Array.isArray(v) || isBytes(v)) return v.length > 0;
  if (v instanceof Set || v instanceof Map || v instanceof PyDict) return v.size > 0;
  if (isPlainDict(v)) return Object.keys(v).length > 0;
  return true;
}

/**
 * The items Python's `iter(v)` would give, as an array: a str's characters, bytes' ints, a
 * list's or tuple's items, a set's members, a dict's keys; other iterables' items.
 * @throws PyException TypeError "'int' object is not iterable".
 */
export function pyIterate(v: unknown): unknown[] {
  if (typeof v === 'string') return [...v];
  if (Array.isArray(v)) return v.slice();
  if (isBytes(v)) return Array.from(v);
  if (v instanceof Map) return [...v.keys()];
  if (v instanceof PyDict) return [...v.keys()];
  if (v instanceof Set) return [...v];
  if (isPlainDict(v)) return Object.keys(v);
  if (isPacked(v)) return pyIterate(unpacked(v));
  if (typeof v === 'object' && v !== null && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(v as Iterable<unknown>)];
  }
  throw new PyException('TypeError', `'${pyTypeName(v)}' object is not iterable`);
}

/** What {@link PyDict.take} removed, and how to put it back. */
export interface TakenEntry<V> {
  readonly key: unknown;
  readonly value: V;
  /** Puts the entry back where it was (last, if its neighbours changed meanwhile). */
  putBack(): void;
}

/** {@link PyDict.take}'s key for "the last entry". */
export const LAST: unique symbol = Symbol('last entry');

/** One entry of a {@link PyDict}, linked in insertion order. */
interface Entry<V> {
  readonly hash: string;
  readonly key: unknown;
  value: V;
  prev: Entry<V> | undefined;
  next: Entry<V> | undefined;
}

/**
 * An insertion-ordered dict keyed by Python equality ({@link pyHashKey}), keeping each key as first
 * given (setting `1.0` after `1` keeps the key `1`, as Python does). Removing the last entry is
 * O(1), so draining with `popitem` stays linear.
 */
export class PyDict<V = unknown> {
  readonly #index = new Map<string, Entry<V>>();
  #first: Entry<V> | undefined;
  #last: Entry<V> | undefined;

  /** Makes a dict from `[key, value]` pairs (later pairs win, as in Python). */
  constructor(pairs?: Iterable<readonly [unknown, V]>) {
    if (pairs) for (const [k, v] of pairs) this.set(k, v);
  }

  /** The number of entries. */
  get size(): number {
    return this.#index.size;
  }

  /** The stored `[key, value]` for a key, or undefined. @throws PyException TypeError if unhashable. */
  getEntry(key: unknown): [unknown, V] | undefined {
    const e = this.#index.get(hashKey(key));
    return e && [e.key, e.value];
  }

  /** Whether the dict holds a key. @throws PyException TypeError if unhashable. */
  has(key: unknown): boolean {
    return this.#index.has(hashKey(key));
  }

  /** Sets a value; a new key goes last, an existing one keeps its place and its original key. */
  set(key: unknown, value: V): void {
    const hash = hashKey(key);
    const found = this.#index.get(hash);
    if (found) {
      found.value = value;
      return;
    }
    const entry: Entry<V> = { hash, key, value, prev: this.#last, next: undefined };
    if (this.#last) this.#last.next = entry;
    else this.#first = entry;
    this.#last = entry;
    this.#index.set(hash, entry);
  }

  /** Removes a key; returns its `[key, value]`, or undefined if it was absent. */
  delete(key: unknown): [unknown, V] | undefined {
    const entry = this.#index.get(hashKey(key));
    if (!entry) return undefined;
    this.#unlink(entry);
    return [entry.key, entry.value];
  }

  /**
   * Removes a key, or the most recently inserted entry when `key` is {@link LAST} (Python's LIFO
   * `popitem`), and says how to put it back in its place: for a pop whose result cannot reach its
   * caller. Returns undefined if there was nothing to remove.
   */
  take(key: unknown): TakenEntry<V> | undefined {
    const entry = key === LAST ? this.#last : this.#index.get(hashKey(key));
    if (!entry) return undefined;
    this.#unlink(entry);
    return { key: entry.key, value: entry.value, putBack: () => this.#relink(entry) };
  }

  /** Removes every entry. */
  clear(): void {
    this.#index.clear();
    this.#first = this.#last = undefined;
  }

  /** The `[key, value]` pairs in insertion order. */
  *entries(): IterableIterator<[unknown, V]> {
    for (let e = this.#first; e; e = e.next) yield [e.key, e.value];
  }

  /** The keys in insertion order. */
  *keys(): IterableIterator<unknown> {
    for (let e = this.#first; e; e = e.next) yield e.key;
  }

  /** The values in insertion order. */
  *values(): IterableIterator<V> {
    for (let e = this.#first; e; e = e.next) yield e.value;
  }

  /** A wire-ready copy: a plain object when every key is a string, else a `Map`. */
  toValue(): Record<string, V> | Map<unknown, V> {
    let allStrings = true;
    for (let e = this.#first; e && allStrings; e = e.next) allStrings = typeof e.key === 'string';
    if (!allStrings) return new Map(this.entries());
    const out: Record<string, V> = {};
    for (let e = this.#first; e; e = e.next) {
      // Plain assignment of "__proto__" would set the prototype instead of a member.
      Object.defineProperty(out, e.key as string, { value: e.value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /**
   * Links an entry {@link take} unlinked back between its old neighbours; if they changed since,
   * it goes last. A key set again meanwhile keeps its newer value.
   */
  #relink(entry: Entry<V>): void {
    if (this.#index.has(entry.hash)) return;
    const { prev, next } = entry;
    const inPlace = (prev ? this.#index.get(prev.hash) === prev && prev.next === next : this.#first === next) && (next ? this.#index.get(next.hash) === next && next.prev === prev : this.#last === prev);
    if (!inPlace) {
      entry.prev = this.#last;
      entry.next = undefined;
    }
    if (entry.prev) entry.prev.next = entry;
    else this.#first = entry;
    if (entry.next) entry.next.prev = entry;
    else this.#last = entry;
    this.#index.set(entry.hash, entry);
  }

  #unlink(entry: Entry<V>): void {
    this.#index.delete(entry.hash);
    if (entry.prev) entry.prev.next = entry.next;
    else this.#first = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#last = entry.prev;
  }
}
