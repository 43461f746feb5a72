/**
 * The shared `dict`: Python's dict as `SyncManager().dict()` serves it (DictProxy's methods, with
 * `__iter__` handing back an Iterator proxy over the keys). Keys may be any hashable value,
 * compared with Python's equality, so `{"$dict": [[[1, 2], "x"]]}` tuple keys and `1 == 1.0` both work.
 */

import { bindArguments, sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { tuple, type Tuple } from '../../common/valueTypes';
import { referent } from '../calls/sharedRef';
import { PyIterator, sizeCheckedSource } from './iterator';
import { LAST, PyDict, dictEntries, isDictValue, pyIterate, pyRepr, pyTypeName } from '../pythonSemantics';

/** Marks "no default given" for `pop` (null cannot: it is Python's None, a valid default). */
const NO_DEFAULT: unique symbol = Symbol('no default');

function keyError(key: unknown): PyException {
  return new PyException('KeyError', pyRepr(key), [key]);
}

/**
 * The `[key, value]` pairs of `dict(arg)` / `d.update(arg)`: a mapping's items, or the pairs of an
 * iterable of 2-item iterables, with Python's errors for anything else. Lazy, because Python
 * keeps the pairs before a bad element, and so does the caller.
 */
function* pairsOf(value: unknown): Generator<[unknown, unknown]> {
  // A shared dict or list given by proxy is read in place, as Python's server reads the referent.
  const arg = referent(value);
  if (arg instanceof Dict) return yield* arg.entries();
  if (isDictValue(arg)) return yield* dictEntries(arg);
  const elements = pyIterate(arg);
  for (let i = 0; i < elements.length; i++) {
    let pair: unknown[];
    try {
      pair = pyIterate(elements[i]);
    } catch {
      throw new PyException('TypeError', `cannot convert dictionary update sequence element #${i} to a sequence`);
    }
    if (pair.length !== 2) {
      throw new PyException('ValueError', `dictionary update sequence element #${i} has length ${pair.length}; 2 is required`);
    }
    yield [pair[0], pair[1]];
  }
}

/**
 * The pairs of a mapping operand of `|` (a dict value or a shared dict), or Python's TypeError
 * naming the operand's type between `before` and `after`.
 */
function mappingPairs(value: unknown, before: string, after = ''): [unknown, unknown][] {
  const arg = referent(value);
  if (arg instanceof Dict) return arg.entries();
  if (isDictValue(arg)) return dictEntries(arg);
  const name = `'${pyTypeName(arg)}'`;
  throw new PyException('TypeError', after ? `${before} ${name} ${after}` : `${before} ${name}`);
}

/**
 * Splits what `invokeMethod` passes a `*args, **kwargs` method: the positionals, the keywords
 * object, then the call context.
 */
function splitWireArgs(bound: readonly unknown[]): { args: unknown[]; kwargs: Record<string, unknown> } {
  return { args: bound.slice(0, -2), kwargs: (bound[bound.length - 2] ?? {}) as Record<string, unknown> };
}

/** A dict shared through the manager, with the methods Python's DictProxy calls. */
export class Dict {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'dict';
  /** The methods clients may call: DictProxy's. */
  static readonly exposed: readonly string[] = [
    '__contains__', '__delitem__', '__getitem__', '__ior__', '__iter__', '__len__', '__or__', '__reversed__', '__ror__',
    '__setitem__', 'clear', 'copy', 'fromkeys', 'get', 'items', 'keys', 'pop', 'popitem', 'setdefault', 'update', 'values',
  ];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __contains__: sig('key'),
    __delitem__: sig('key'),
    __getitem__: sig('key'),
    __iter__: sig(),
    __ior__: sig('value'),
    __or__: sig('value'),
    __reversed__: sig(),
    __ror__: sig('value'),
    fromkeys: sig('iterable', ['value', null]),
    __len__: sig(),
    __setitem__: sig('key', '=value'),
    clear: sig(),
    copy: sig(),
    get: sig('key', ['default', null]),
    items: sig(),
    keys: sig(),
    pop: sig('key', ['default', NO_DEFAULT]),
    popitem: sig(),
    setdefault: sig('key', ['default', null]),
    // Positional-only in Python: `d.update(other=1)` sets the key 'other', so no named parameter.
    update: sig('*args', '**kwargs'),
    values: sig(),
  };
  /** `iter(d)` hands back an Iterator proxy, as DictProxy's `_method_to_typeid_` says. */
  static readonly methodToTypeid: Readonly<Record<string, string>> = { __iter__: 'Iterator', __reversed__: 'Iterator' };

  readonly #map = new PyDict();

  /**
   * Python's `dict(mapping_or_pairs=(), **kwargs)`.
   * @throws PyException TypeError/ValueError for arguments that are not a mapping or pairs.
   */
  constructor(init?: unknown, kwargs: Readonly<Record<string, unknown>> = {}) {
    this.#merge(init === undefined ? [] : [init], kwargs, 'dict');
  }

  /** The `[key, value]` pairs, in order (a copy; for server-side code). */
  entries(): [unknown, unknown][] {
    return [...this.#map.entries()];
  }

  /** Iterates over the keys, as Python's `iter(d)` does (server-side code only). */
  [Symbol.iterator](): Iterator<unknown> {
    return this.#map.keys();
  }

  /** The contents as a wire value (as `copy()`), so a dict sent by value reads as its items. */
  toJSON(): unknown {
    return this.#map.toValue();
  }

  /** For `#GETVALUE`: a copy, as `copy()` gives. */
  __getvalue__(): unknown {
    return this.#map.toValue();
  }

  /** Python's repr: `{'a': 1, 2: 'b'}`. */
  __repr__(): string {
    return pyRepr(this.#map.toValue());
  }

  /** `iter(d)`: the keys, live; a change of size while iterating is Python's RuntimeError. */
  __iter__(): PyIterator {
    const map = this.#map;
    return new PyIterator(sizeCheckedSource(() => map.keys(), () => map.size, 'dictionary'), 'dict_keyiterator');
  }

  /** `reversed(d)`: the keys, last inserted first; a change of size while iterating is Python's RuntimeError. */
  __reversed__(): PyIterator {
    const map = this.#map;
    return new PyIterator(sizeCheckedSource(() => [...map.keys()].reverse()[Symbol.iterator](), () => map.size, 'dictionary'), 'dict_reversekeyiterator');
  }

  /**
   * `d | other`: a new dict, this one's items updated with a mapping's (Python 3.9).
   * @throws PyException TypeError "unsupported operand type(s) for |: 'dict' and 'int'" for a non-mapping.
   */
  __or__(other: unknown): unknown {
    const merged = new PyDict();
    for (const [k, v] of this.#map.entries()) merged.set(k, v);
    for (const [k, v] of mappingPairs(other, "unsupported operand type(s) for |: 'dict' and")) merged.set(k, v);
    return merged.toValue();
  }

  /** `other | d`: a new dict, a mapping's items updated with this one's. @throws PyException TypeError for a non-mapping. */
  __ror__(other: unknown): unknown {
    const merged = new PyDict();
    for (const [k, v] of mappingPairs(other, 'unsupported operand type(s) for |:', "and 'dict'")) merged.set(k, v);
    for (const [k, v] of this.#map.entries()) merged.set(k, v);
    return merged.toValue();
  }

  /** `d |= other`: updates in place from a mapping or pairs, as `update` does. @throws PyException TypeError/ValueError as update's. */
  __ior__(other: unknown): undefined {
    for (const [k, v] of pairsOf(other)) this.#map.set(k, v);
    return undefined;
  }

  /** `dict.fromkeys(iterable, value=None)`: a new dict (not this one) with those keys. @throws PyException TypeError for a non-iterable. */
  fromkeys(iterable: unknown, value: unknown = null): unknown {
    const out = new PyDict();
    for (const k of pyIterate(referent(iterable))) out.set(k, value);
    return out.toValue();
  }

  /** `key in d`. @throws PyException TypeError for an unhashable key. */
  __contains__(key: unknown): boolean {
    return this.#map.has(key);
  }

  /** `del d[key]`. @throws PyException KeyError. */
  __delitem__(key: unknown): undefined {
    if (!this.#map.delete(key)) throw keyError(key);
    return undefined;
  }

  /** `d[key]`. @throws PyException KeyError (args: [key], message: the key's repr). */
  __getitem__(key: unknown): unknown {
    const entry = this.#map.getEntry(key);
    if (!entry) throw keyError(key);
    return entry[1];
  }

  /** `len(d)`. */
  __len__(): number {
    return this.#map.size;
  }

  /** `d[key] = value`. @throws PyException TypeError for an unhashable key. */
  __setitem__(key: unknown, value: unknown): undefined {
    this.#map.set(key, value);
    return undefined;
  }

  /** Removes every item. */
  clear(): undefined {
    this.#map.clear();
    return undefined;
  }

  /** A shallow copy: a plain object when every key is a string, else a Map. */
  copy(): unknown {
    return this.#map.toValue();
  }

  /** `d.get(key, default=None)`. */
  get(key: unknown, defaultValue: unknown = null): unknown {
    const entry = this.#map.getEntry(key);
    return entry ? entry[1] : defaultValue;
  }

  /** The items as an array of `(key, value)` tuples. */
  items(): Tuple[] {
    const out: Tuple[] = [];
    for (const [k, v] of this.#map.entries()) out.push(tuple(k, v));
    return out;
  }

  /** The keys as an array. */
  keys(): unknown[] {
    return [...this.#map.keys()];
  }

  /** The values as an array. */
  values(): unknown[] {
    return [...this.#map.values()];
  }

  /** `d.pop(key[, default])`. @throws PyException KeyError when the key is absent and no default is given. */
  pop(key: unknown, defaultValue: unknown = NO_DEFAULT, context: CallContext = {}): unknown {
    const taken = this.#map.take(key);
    if (taken) {
      // A value whose answer never reaches the caller goes back in its place.
      context.giveBack?.(taken.putBack);
      return taken.value;
    }
    if (defaultValue === NO_DEFAULT) throw keyError(key);
    return defaultValue;
  }

  /** Removes and returns the last inserted `(key, value)`. @throws PyException KeyError when empty. */
  popitem(context: CallContext = {}): Tuple {
    const taken = this.#map.take(LAST);
    if (!taken) throw keyError('popitem(): dictionary is empty');
    context.giveBack?.(taken.putBack);
    return tuple(taken.key, taken.value);
  }

  /** `d.setdefault(key, default=None)`: the value, set to default first if the key is absent. */
  setdefault(key: unknown, defaultValue: unknown = null): unknown {
    const entry = this.#map.getEntry(key);
    if (entry) return entry[1];
    this.#map.set(key, defaultValue);
    return defaultValue;
  }

  /**
   * `d.update([other, ]**kwargs)` as `invokeMethod` calls it: `(...args, kwargs, context)`.
   * Server-side code calls {@link Dict.merge} instead.
   * @throws PyException TypeError "update expected at most 1 argument, got 2", or for bad pairs.
   */
  update(...bound: unknown[]): undefined {
    const { args, kwargs } = splitWireArgs(bound);
    this.#merge(args, kwargs, 'update');
    return undefined;
  }

  /** Adds a mapping's (or pairs') items, then the keyword items, as `update` does. */
  merge(other?: unknown, kwargs: Readonly<Record<string, unknown>> = {}): void {
    this.#merge(other === undefined ? [] : [other], kwargs, 'update');
  }

  #merge(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, name: string): void {
    if (args.length > 1) throw new PyException('TypeError', `${name} expected at most 1 argument, got ${args.length}`);
    if (args.length === 1) {
      for (const [k, v] of pairsOf(args[0])) this.#map.set(k, v);
    }
    for (const k of Object.keys(kwargs)) this.#map.set(k, kwargs[k]);
  }
}

/** How `dict(...)` binds its arguments: one optional positional (a mapping or pairs), any keywords. */
const constructorSignature = sig('*args', '**kwargs');

/**
 * Python's `dict(*args, **kwargs)` from wire arguments.
 * @throws PyException TypeError "dict expected at most 1 argument, got 2", or for bad pairs.
 */
export function createDict(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Dict {
  const bound = bindArguments('dict', constructorSignature, args, kwargs);
  const keywords = bound.pop() as Record<string, unknown>;
  if (bound.length > 1) throw new PyException('TypeError', `dict expected at most 1 argument, got ${bound.length}`);
  return new Dict(bound[0], keywords);
}
