/**
 * The methods every shared object answers even when they are not exposed, as Python's manager
 * does (its `fallback_mapping`): `__repr__` and `__str__` (the referent's repr and str, for a
 * proxy's `str()`), and `#GETVALUE` (a copy of the referent, for `proxy._getvalue()`).
 */

import { PyException } from '../exceptions';
import { pyAddress, pyRepr } from '../pythonSemantics';
import { typeName } from './methodDispatch';

/** The fallback method names. */
export const FALLBACK_METHODS: ReadonlySet<string> = new Set(['__repr__', '__str__', '#GETVALUE']);

/** What a shared object may define to answer the fallbacks itself. */
interface Describable {
  __repr__?(): string;
  __str__?(): string;
  /** A copy of the object's value; throws (TypeError) when it has none to give. */
  __getvalue__?(): unknown;
}

/** Whether a class overrides `toString` (then its text is the object's str and repr). */
function ownToString(obj: object): boolean {
  return typeof (obj as { toString?: unknown }).toString === 'function' && (obj as { toString: unknown }).toString !== Object.prototype.toString;
}

/**
 * Answers a fallback method for `obj`.
 * @throws PyException TypeError from `#GETVALUE` for an object that cannot be copied.
 */
export function callFallback(obj: object, method: string): unknown {
  const o = obj as Describable;
  switch (method) {
    case '__repr__':
      if (typeof o.__repr__ === 'function') return o.__repr__();
      return ownToString(obj) ? String(obj) : `<${typeName(obj)} object at ${pyAddress(obj)}>`;
    case '__str__':
      if (typeof o.__str__ === 'function') return o.__str__();
      return callFallback(obj, '__repr__');
    case '#GETVALUE':
      if (typeof o.__getvalue__ === 'function') return o.__getvalue__();
      // A built-in type without a value (a queue, a lock) cannot be copied, as in Python, where
      // pickling it fails on the lock inside.
      if ((obj.constructor as { builtin?: unknown }).builtin !== undefined) {
        throw new PyException('TypeError', `cannot pickle '${typeName(obj)}' object: it is not a value to copy (call its methods through the proxy)`);
      }
      // A custom object is copied as its fields, as it would be sent by value.
      return obj;
    default:
      throw new PyException('AttributeError', `no fallback method ${pyRepr(method)}`);
  }
}
