/**
 * The application values the protocol carries beyond plain JSON: tuples, frozensets, floats that
 * must stay floats, slices and opaque values of another language. `valueCodec.ts` turns them
 * into and out of the tagged wire form.
 */
import { ValueCodecError } from './valueCodecError';

const tupleBrand = Symbol.for('syncmanager.tuple');

/** A tuple: a frozen array marked so it goes back over the wire as `$tuple`. */
export type Tuple<T = unknown> = readonly T[] & { readonly [tupleBrand]: true };

/** Makes a tuple from its items. */
export function tuple<T>(...items: T[]): Tuple<T> {
  return tupleFrom(items);
}

/** Makes a tuple from an array (the array is not copied if it is fresh: pass your own copy). */
export function tupleFrom<T>(items: T[]): Tuple<T> {
  Object.defineProperty(items, tupleBrand, { value: true });
  return Object.freeze(items) as unknown as Tuple<T>;
}

/** Whether a value is a {@link Tuple}. */
export function isTuple(value: unknown): value is Tuple {
  return Array.isArray(value) && (value as unknown as Record<symbol, unknown>)[tupleBrand] === true;
}

/** FrozenSets whose construction is over (Set's constructor calls add, which must work until then). */
const sealedSets = new WeakSet<object>();

/** A frozenset: a Set that refuses changes after construction and goes over the wire as `$frozenset`. */
export class FrozenSet<T = unknown> extends Set<T> {
  constructor(items?: Iterable<T> | null) {
    super(items);
    sealedSets.add(this);
  }
  override add(value: T): this {
    if (sealedSets.has(this)) throw new TypeError('a FrozenSet cannot be changed');
    return super.add(value);
  }
  override delete(_value: T): boolean {
    throw new TypeError('a FrozenSet cannot be changed');
  }
  override clear(): void {
    throw new TypeError('a FrozenSet cannot be changed');
  }
}

/**
 * A float whose value JSON and JavaScript would take for an int (2.0). The server keeps such
 * floats boxed so a Python client gets a float back; clients see plain numbers unless they ask.
 */
export class Float {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return Number.isInteger(this.value) ? `${this.value}.0` : String(this.value);
  }
}

/** A value only its sender's language can read (a pickled Python object, say), carried byte for byte. */
export class OpaqueValue {
  constructor(
    /** The language that can read it: `python`, ... */
    readonly lang: string,
    /** The type's name in that language, for display: `module.Class`. */
    readonly type: string,
    /** The serialised bytes. */
    readonly data: Uint8Array,
  ) {
    if (typeof lang !== 'string' || lang === '') throw new ValueCodecError('an OpaqueValue needs the name of the language that can read it');
  }
  toString(): string {
    return `<${this.lang === 'python' ? 'pickled' : this.lang} ${this.type}>`;
  }
}

/**
 * Python's `slice(start, stop, step)`, for indexing lists and arrays (`l[1:3]`, `a[::-1]`). Each
 * bound is an int or null (omitted), as the receiver reads it; other values reach the receiver,
 * which refuses them with Python's TypeError.
 */
export class Slice {
  constructor(
    readonly start: unknown = null,
    readonly stop: unknown = null,
    readonly step: unknown = null,
  ) {}
  toString(): string {
    const part = (v: unknown) => (v === null || v === undefined ? '' : String(v));
    return `${part(this.start)}:${part(this.stop)}${this.step === null || this.step === undefined ? '' : `:${part(this.step)}`}`;
  }
}
