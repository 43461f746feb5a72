/**
 * The shared `Value`: `multiprocessing.managers.Value` as `SyncManager().Value()` serves it — one
 * value read with `get` and replaced with `set`. Like Python's, it keeps the typecode only for
 * show: it checks nothing (a Value('i', 1) will hold a str if set to one) and ignores `lock`.
 */

import { bindArguments, sig, type Signature } from '../calls/methodDispatch';
import { pyRepr } from '../pythonSemantics';

/** A single value shared through the manager. */
export class Value {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Value';
  /** The methods clients may call: ValueProxy's. */
  static readonly exposed: readonly string[] = ['get', 'set'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    get: sig(),
    set: sig('=value'),
  };

  readonly #typecode: unknown;
  #value: unknown;

  /** Python's `Value(typecode, value, lock=True)`; `lock` is accepted and ignored, as in Python. */
  constructor(typecode: unknown, value: unknown, lock: unknown = true) {
    void lock;
    this.#typecode = typecode;
    this.#value = value;
  }

  /** The typecode given at construction ('i', 'd', ...), unchecked. */
  get typecode(): unknown {
    return this.#typecode;
  }

  /** The value. */
  get(): unknown {
    return this.#value;
  }

  /** Replaces the value, whatever its type. */
  set(value: unknown): undefined {
    this.#value = value;
    return undefined;
  }

  /** For `#GETVALUE`: the value (Python would send a Value copy, which has no wire form). */
  __getvalue__(): unknown {
    return this.#value;
  }

  /** Python's repr: `Value('i', 3)`. */
  __repr__(): string {
    return `Value(${pyRepr(this.#typecode)}, ${pyRepr(this.#value)})`;
  }
}

/** How `Value(...)` binds its arguments. */
const constructorSignature = sig('typecode', 'value', ['lock', true]);

/**
 * Python's `Value(typecode, value, lock=True)` from wire arguments.
 * @throws PyException TypeError for missing or extra arguments.
 */
export function createValue(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Value {
  const [typecode, value, lock] = bindArguments('Value', constructorSignature, args, kwargs);
  return new Value(typecode, value, lock);
}
