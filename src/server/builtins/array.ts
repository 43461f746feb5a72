/**
 * The shared `Array`: `SyncManager().Array(typecode, sequence, lock=True)`, which is Python's
 * `array.array(typecode, sequence)` served through ArrayProxy (`__len__`, `__getitem__`,
 * `__setitem__`). Items are kept in a typed array of the typecode's C type, so each is checked
 * and converted exactly as array.array does (range, type, float32 rounding), with Python 3.13's
 * messages, as on a 64-bit Linux build (`l`/`L` are 8 bytes, `u` is a 4-byte wchar_t).
 *
 * Where the wire has no array value, a list stands for one: a slice read (`a[1:3]`) gives a list
 * of the items where Python gives an array.array, and a slice assignment takes a list (or tuple)
 * of items, each converted to the typecode, where Python takes only an array of the same typecode.
 */

import { bindArguments, sig, type Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { Float, Slice } from '../../common/valueTypes';
import { referent } from '../calls/sharedRef';
import { sliceItems, sliceRange } from './list';
import { pyIndex, pyIterate, pyNumber, pyRepr, pyTypeName } from '../pythonSemantics';

/** A typed array of any item type: what `ItemType.make` gives. */
interface Store {
  readonly length: number;
  [index: number]: number | bigint;
  slice(): Store;
}

/** What a typecode means: its C item size, its storage, and Python's conversions in and out. */
interface ItemType {
  readonly itemsize: number;
  readonly make: (length: number) => Store;
  /** Python's conversion of a value to the C item, with its TypeError/OverflowError. */
  readonly convert: (value: unknown) => number | bigint;
  /** The C item read back from machine bytes (little-endian), for a bytes initializer. */
  readonly decode: (view: DataView, offset: number) => number | bigint;
  /** A stored item as the value a client gets. */
  readonly read: (stored: number | bigint) => unknown;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const ULONG_MAX = 2n ** 64n - 1n;
const SSIZE_MAX = 2n ** 63n - 1n;

function overflow(message: string): PyException {
  return new PyException('OverflowError', message);
}

/** `operator.index(value)` as a bigint. @throws PyException TypeError "'float' object cannot be interpreted as an integer". */
function integer(value: unknown): bigint {
  const i = pyIndex(value);
  if (i === undefined) throw new PyException('TypeError', `'${pyTypeName(value)}' object cannot be interpreted as an integer`);
  return BigInt(i);
}

/** A C integer narrower than long (b, B, h, H, i): first converted to a C long, then range-checked, as array.array does. */
function narrowInt(name: string, min: number, max: number): (value: unknown) => number {
  return (value) => {
    const n = integer(value);
    if (n < LONG_MIN || n > LONG_MAX) throw overflow('Python int too large to convert to C long');
    if (n < BigInt(min)) throw overflow(`${name} is less than minimum`);
    if (n > BigInt(max)) throw overflow(`${name} is greater than maximum`);
    return Number(n);
  };
}

/** A C `unsigned int` (I): converted as an unsigned long, then checked against 32 bits. */
function unsignedInt(value: unknown): number {
  const n = integer(value);
  if (n < 0n) throw overflow("can't convert negative value to unsigned int");
  if (n > ULONG_MAX) throw overflow('Python int too large to convert to C unsigned long');
  if (n > 0xffffffffn) throw overflow('unsigned int is greater than maximum');
  return Number(n);
}

/** A 64-bit C integer (l, L, q, Q), each with the messages of the converter array.array uses for it. */
function wideInt(signed: boolean, tooBig: string, negative = tooBig): (value: unknown) => bigint {
  return (value) => {
    const n = integer(value);
    if (signed ? n < LONG_MIN : n < 0n) throw overflow(signed ? tooBig : negative);
    if (n > (signed ? LONG_MAX : ULONG_MAX)) throw overflow(tooBig);
    return n;
  };
}

/** A C float or double (f, d): any real number; a float32 store rounds it (and overflows to inf, as C does). */
function real(value: unknown): number {
  const n = pyNumber(value);
  if (n === undefined) throw new PyException('TypeError', `must be real number, not ${pyTypeName(value)}`);
  if (typeof n === 'number') return n;
  const x = Number(n);
  if (!Number.isFinite(x)) throw overflow('int too large to convert to float');
  return x;
}

/** A character (u, w): a str of exactly one code point, stored as that code point. */
function character(value: unknown): number {
  if (typeof value === 'string') {
    const cp = value.codePointAt(0);
    if (cp !== undefined && value.length === (cp > 0xffff ? 2 : 1)) return cp;
  }
  throw new PyException('TypeError', 'array item must be unicode character');
}

/** A code point from machine bytes; beyond Unicode it could never be read back, so it is refused at once. */
function decodeCodePoint(view: DataView, offset: number): number {
  const cp = view.getUint32(offset, true);
  if (cp > 0x10ffff) throw new PyException('ValueError', 'chr() arg not in range(0x110000)');
  return cp;
}

const asNumber = (stored: number | bigint): unknown => stored;
/** A 64-bit item as a plain number when a double holds it exactly, else a bigint (sent as `$int`). */
const asInteger = (stored: number | bigint): unknown => {
  const n = Number(stored);
  return Number.isSafeInteger(n) ? n : stored;
};
/** A float item, boxed when integral so a Python client gets a float back (2.0, not 2). */
const asFloat = (stored: number | bigint): unknown => (Number.isInteger(stored) ? new Float(stored as number) : stored);
const asCharacter = (stored: number | bigint): unknown => String.fromCodePoint(stored as number);

/** The typecodes array.array knows, in Python's order. A null prototype, so only these are found. */
const ITEM_TYPES: Readonly<Record<string, ItemType>> = Object.assign(Object.create(null) as Record<string, ItemType>, {
  b: { itemsize: 1, make: (n: number) => new Int8Array(n), convert: narrowInt('signed char', -128, 127), decode: (v: DataView, o: number) => v.getInt8(o), read: asNumber },
  B: { itemsize: 1, make: (n: number) => new Uint8Array(n), convert: narrowInt('unsigned byte integer', 0, 255), decode: (v: DataView, o: number) => v.getUint8(o), read: asNumber },
  u: { itemsize: 4, make: (n: number) => new Uint32Array(n), convert: character, decode: decodeCodePoint, read: asCharacter },
  w: { itemsize: 4, make: (n: number) => new Uint32Array(n), convert: character, decode: decodeCodePoint, read: asCharacter },
  h: { itemsize: 2, make: (n: number) => new Int16Array(n), convert: narrowInt('signed short integer', -32768, 32767), decode: (v: DataView, o: number) => v.getInt16(o, true), read: asNumber },
  H: { itemsize: 2, make: (n: number) => new Uint16Array(n), convert: narrowInt('unsigned short', 0, 65535), decode: (v: DataView, o: number) => v.getUint16(o, true), read: asNumber },
  i: { itemsize: 4, make: (n: number) => new Int32Array(n), convert: narrowInt('signed integer', -(2 ** 31), 2 ** 31 - 1), decode: (v: DataView, o: number) => v.getInt32(o, true), read: asNumber },
  I: { itemsize: 4, make: (n: number) => new Uint32Array(n), convert: unsignedInt, decode: (v: DataView, o: number) => v.getUint32(o, true), read: asNumber },
  l: { itemsize: 8, make: (n: number) => new BigInt64Array(n), convert: wideInt(true, 'Python int too large to convert to C long'), decode: (v: DataView, o: number) => v.getBigInt64(o, true), read: asInteger },
  L: { itemsize: 8, make: (n: number) => new BigUint64Array(n), convert: wideInt(false, 'Python int too large to convert to C unsigned long', "can't convert negative value to unsigned int"), decode: (v: DataView, o: number) => v.getBigUint64(o, true), read: asInteger },
  q: { itemsize: 8, make: (n: number) => new BigInt64Array(n), convert: wideInt(true, 'int too big to convert'), decode: (v: DataView, o: number) => v.getBigInt64(o, true), read: asInteger },
  Q: { itemsize: 8, make: (n: number) => new BigUint64Array(n), convert: wideInt(false, 'int too big to convert', "can't convert negative int to unsigned"), decode: (v: DataView, o: number) => v.getBigUint64(o, true), read: asInteger },
  f: { itemsize: 4, make: (n: number) => new Float32Array(n), convert: real, decode: (v: DataView, o: number) => v.getFloat32(o, true), read: asFloat },
  d: { itemsize: 8, make: (n: number) => new Float64Array(n), convert: real, decode: (v: DataView, o: number) => v.getFloat64(o, true), read: asFloat },
});

/**
 * Python 3.13's message for an unknown typecode. 3.13 accepts `w` but, like 3.12, does not list
 * it here; this is 3.13's text (and 3.12's) word for word.
 */
const BAD_TYPECODE = 'bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)';

/** Typecodes whose initializer may be a str. */
const CHARACTER_CODES = new Set(['u', 'w']);

/** `array(typecode, ...)`'s first argument. @throws PyException TypeError for a non-character, ValueError for an unknown code. */
function itemTypeOf(typecode: unknown): ItemType {
  if (typeof typecode !== 'string' || [...typecode].length !== 1) {
    throw new PyException('TypeError', `array() argument 1 must be a unicode character, not ${pyTypeName(typecode)}`);
  }
  const type = ITEM_TYPES[typecode];
  if (!type) throw new PyException('ValueError', BAD_TYPECODE);
  return type;
}

/** Copies `count` items of `from` (from `fromStart`) into `to` (from `toStart`). */
function copyItems(from: Store, fromStart: number, to: Store, toStart: number, count: number): void {
  for (let k = 0; k < count; k++) to[toStart + k] = from[fromStart + k];
}

/** An array.array shared through the manager, with ArrayProxy's methods. */
export class PyArray {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Array';
  /** The methods clients may call: ArrayProxy's. */
  static readonly exposed: readonly string[] = ['__len__', '__getitem__', '__setitem__'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __len__: sig(),
    __getitem__: sig('index'),
    __setitem__: sig('index', 'value'),
  };

  readonly #typecode: string;
  readonly #type: ItemType;
  #items: Store;

  /**
   * Python's `array.array(typecode, initializer)`: a list, tuple or other iterable of items, bytes
   * (machine values, little-endian), or, for `u` and `w`, a str.
   * @throws PyException TypeError/ValueError/OverflowError as array.array raises them.
   */
  constructor(typecode: unknown, initializer: unknown = []) {
    this.#type = itemTypeOf(typecode);
    this.#typecode = typecode as string;
    const init = referent(initializer);
    if (typeof init === 'string' && !CHARACTER_CODES.has(this.#typecode)) {
      throw new PyException('TypeError', `cannot use a str to initialize an array with typecode '${this.#typecode}'`);
    }
    this.#items = init instanceof Uint8Array ? this.#fromBytes(init) : this.#fromItems(pyIterate(init));
  }

  /** The typecode given at construction. */
  get typecode(): string {
    return this.#typecode;
  }

  /** The number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** The items as clients get them (for inspection tools). */
  snapshot(): unknown[] {
    const read = this.#type.read;
    return Array.from({ length: this.#items.length }, (_, i) => read(this.#items[i]));
  }

  /** The items as a wire value, so an Array sent by value reads as its items. */
  toJSON(): unknown[] {
    return this.snapshot();
  }

  /** For `#GETVALUE`: the items as a list (Python would send an array.array, which has no wire form). */
  __getvalue__(): unknown[] {
    return this.snapshot();
  }

  /** Python's repr: `array('i', [1, 2])`, `array('u', 'ab')`, `array('d')` when empty. */
  __repr__(): string {
    if (this.#items.length === 0) return `array('${this.#typecode}')`;
    const items = this.snapshot();
    const shown = CHARACTER_CODES.has(this.#typecode) ? pyRepr(items.join('')) : `[${items.map(pyRepr).join(', ')}]`;
    return `array('${this.#typecode}', ${shown})`;
  }

  /** The array's state for the inspection sidebar. */
  describeState(): { size: number; details: Record<string, unknown> } {
    return { size: this.#items.length, details: { typecode: this.#typecode } };
  }

  /** `len(a)`. */
  __len__(): number {
    return this.#items.length;
  }

  /**
   * `a[i]`, negative from the end; `a[i:j:k]` for a slice, as a list of the items.
   * @throws PyException IndexError 'array index out of range', TypeError 'array indices must be integers'.
   */
  __getitem__(index: unknown): unknown {
    if (index instanceof Slice) return sliceItems(this.#items, sliceRange(index, this.#items.length)).map(this.#type.read);
    return this.#type.read(this.#items[this.#position(index, 'array index out of range')]);
  }

  /**
   * `a[i] = value`, converted to the typecode; `a[i:j:k] = items` for a slice, with a list (or
   * tuple) of items, or a shared Array of the same typecode. A step-1 slice takes any number of
   * items (the array grows or shrinks); an extended slice takes exactly as many as it selects, or
   * none, which deletes them, as CPython does.
   * @throws PyException IndexError 'array assignment index out of range', the typecode's
   * TypeError/OverflowError, ValueError 'attempt to assign array of size 3 to extended slice of size 2'.
   */
  __setitem__(index: unknown, value: unknown): undefined {
    if (index instanceof Slice) {
      this.#assignSlice(index, value);
      return undefined;
    }
    const position = this.#position(index, 'array assignment index out of range');
    this.#items[position] = this.#type.convert(value);
    return undefined;
  }

  /** An int index as a position. @throws PyException TypeError for a non-int, IndexError out of range. */
  #position(index: unknown, outOfRange: string): number {
    const i = pyIndex(index);
    if (i === undefined) throw new PyException('TypeError', 'array indices must be integers');
    if (typeof i === 'bigint' && (i > SSIZE_MAX || i < -SSIZE_MAX - 1n)) throw new PyException('IndexError', "cannot fit 'int' into an index-sized integer");
    const n = Number(i);
    const position = n < 0 ? n + this.#items.length : n;
    if (position < 0 || position >= this.#items.length) throw new PyException('IndexError', outOfRange);
    return position;
  }

  #assignSlice(slice: Slice, value: unknown): void {
    const { start, step, count } = sliceRange(slice, this.#items.length);
    const given = this.#sliceValue(value);
    const needed = given.length;
    const old = this.#items;
    if (step === 1) {
      const items = this.#type.make(old.length - count + needed);
      copyItems(old, 0, items, 0, start);
      copyItems(given, 0, items, start, needed);
      copyItems(old, start + count, items, start + needed, old.length - start - count);
      this.#items = items;
    } else if (needed === 0) {
      // CPython's array deletes an extended slice assigned an empty array (a list would refuse).
      const removed = new Set<number>();
      for (let k = 0, i = start; k < count; k++, i += step) removed.add(i);
      const items = this.#type.make(old.length - count);
      for (let i = 0, j = 0; i < old.length; i++) if (!removed.has(i)) items[j++] = old[i];
      this.#items = items;
    } else {
      if (needed !== count) throw new PyException('ValueError', `attempt to assign array of size ${needed} to extended slice of size ${count}`);
      for (let k = 0, i = start; k < count; k++, i += step) old[i] = given[k];
    }
  }

  /**
   * A slice assignment's items, all converted before anything changes. A list or tuple stands for
   * the array Python requires; a shared Array must have the same typecode, as in Python.
   */
  #sliceValue(value: unknown): Store {
    const source = referent(value);
    if (source instanceof PyArray) {
      if (source.#typecode !== this.#typecode) throw new PyException('TypeError', 'bad argument type for built-in operation');
      return source.#items.slice();
    }
    if (!Array.isArray(source)) throw new PyException('TypeError', `can only assign array (not "${pyTypeName(source)}") to array slice`);
    return this.#fromItems(source);
  }

  #fromItems(values: readonly unknown[]): Store {
    const items = this.#type.make(values.length);
    for (let i = 0; i < values.length; i++) items[i] = this.#type.convert(values[i]);
    return items;
  }

  /** `array.frombytes`: machine values, little-endian as on the platforms Python mostly runs on. */
  #fromBytes(bytes: Uint8Array): Store {
    const { itemsize, decode } = this.#type;
    if (bytes.length % itemsize !== 0) throw new PyException('ValueError', 'bytes length not a multiple of item size');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const items = this.#type.make(bytes.length / itemsize);
    for (let i = 0; i < items.length; i++) items[i] = decode(view, i * itemsize);
    return items;
  }
}

/** How `Array(...)` binds its arguments, as `multiprocessing.managers.Array` declares them. */
const constructorSignature = sig('typecode', 'sequence', ['lock', true]);

/**
 * Python's `SyncManager.Array(typecode, sequence, lock=True)` from wire arguments; `lock` is
 * accepted and ignored, as managers.Array ignores it.
 * @throws PyException TypeError for missing or extra arguments, and array.array's errors.
 */
export function createArray(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): PyArray {
  const [typecode, sequence] = bindArguments('Array', constructorSignature, args, kwargs);
  return new PyArray(typecode, sequence);
}
