/**
 * The shared `Namespace`: `multiprocessing.managers.Namespace` as `SyncManager().Namespace()`
 * serves it — a bag of named attributes read and written with `__getattribute__`, `__setattr__`
 * and `__delattr__`. Like Python's server, it accepts any string name, `_private` ones included
 * (Python's NamespaceProxy keeps those on the proxy, but the server itself does not refuse them).
 */

import { bindArguments, sig, type Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { dictEntries, isDictValue, pyCompare, pyRepr, pyTypeName } from '../pythonSemantics';

/** Python's check that an attribute name is a str. */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new PyException('TypeError', `attribute name must be string, not '${pyTypeName(name)}'`);
}

function noAttribute(name: string): PyException {
  return new PyException('AttributeError', `'Namespace' object has no attribute '${name}'`);
}

/** A namespace of attributes shared through the manager. */
export class Namespace {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Namespace';
  /** The methods clients may call: NamespaceProxy's. */
  static readonly exposed: readonly string[] = ['__getattribute__', '__setattr__', '__delattr__'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __getattribute__: sig('name'),
    __setattr__: sig('name', 'value'),
    __delattr__: sig('name'),
  };

  // A Map, not own properties, so no attribute name can shadow a method or the prototype.
  #attributes = new Map<string, unknown>();

  /** Python's `Namespace(**kwds)`: the keywords become the attributes. */
  constructor(kwds: Readonly<Record<string, unknown>> = {}) {
    for (const name of Object.keys(kwds)) this.#attributes.set(name, kwds[name]);
  }

  /** The attributes as a plain object (a copy). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of this.#attributes) {
      // Plain assignment of "__proto__" would set the prototype instead of a member.
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /** The attributes, so a namespace sent by value reads as them. */
  toJSON(): Record<string, unknown> {
    return this.snapshot();
  }

  /** For `#GETVALUE`: the attributes as a plain dict (Python would send a Namespace copy, which has no wire form). */
  __getvalue__(): Record<string, unknown> {
    return this.snapshot();
  }

  /** Python's repr: `Namespace(a=1, b='x')`, public attributes only, sorted as Python sorts the `name=value` texts. */
  __repr__(): string {
    const shown: string[] = [];
    for (const [name, value] of this.#attributes) if (!name.startsWith('_')) shown.push(`${name}=${pyRepr(value)}`);
    return `Namespace(${shown.sort(pyCompare).join(', ')})`;
  }

  /**
   * `getattr(ns, name)`. `__dict__` (unless set as an attribute) gives all attributes, as in Python.
   * @throws PyException AttributeError "'Namespace' object has no attribute 'x'", TypeError for a non-str name.
   */
  __getattribute__(name: unknown): unknown {
    checkName(name);
    if (this.#attributes.has(name)) return this.#attributes.get(name);
    if (name === '__dict__') return this.snapshot();
    throw noAttribute(name);
  }

  /**
   * `setattr(ns, name, value)`. Setting `__dict__` replaces every attribute, as in Python.
   * @throws PyException TypeError for a non-str name, or a `__dict__` that is not a dict.
   */
  __setattr__(name: unknown, value: unknown): undefined {
    checkName(name);
    if (name !== '__dict__') {
      this.#attributes.set(name, value);
      return undefined;
    }
    if (!isDictValue(value)) throw new PyException('TypeError', `__dict__ must be set to a dictionary, not a '${pyTypeName(value)}'`);
    const entries = dictEntries(value);
    for (const [key] of entries) checkName(key);
    this.#attributes = new Map(entries as [string, unknown][]);
    return undefined;
  }

  /**
   * `delattr(ns, name)`. Deleting `__dict__` removes every attribute, as in Python.
   * @throws PyException AttributeError when there is no such attribute, TypeError for a non-str name.
   */
  __delattr__(name: unknown): undefined {
    checkName(name);
    if (this.#attributes.delete(name)) return undefined;
    if (name === '__dict__') {
      this.#attributes.clear();
      return undefined;
    }
    throw noAttribute(name);
  }
}

/** How `Namespace(...)` binds its arguments: keywords only. */
const constructorSignature = sig('**kwds');

/**
 * Python's `Namespace(**kwds)` from wire arguments.
 * @throws PyException TypeError for positional arguments.
 */
export function createNamespace(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Namespace {
  const [kwds] = bindArguments('Namespace', constructorSignature, args, kwargs);
  return new Namespace(kwds as Record<string, unknown>);
}
