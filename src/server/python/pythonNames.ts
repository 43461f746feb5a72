/**
 * How the server's objects and exceptions are named for a Python client: the proxy class a
 * Python client rebuilds for each built-in type (as SyncManager registers them), and the class
 * of each exception in the client's Python (2 or 3), so `except queue.Empty` works there.
 */

import type { ObjectEntry } from '../objectTable';
import { PyExceptionValue } from './pickle/pickleValues';
import type { PickleDialect } from './pickle/pickleWriter';

/**
 * The proxy class SyncManager registers for a built-in type (`multiprocessing.managers.<name>`),
 * so a proxy read from a value behaves as `m.dict()`'s does. Types SyncManager serves with an
 * AutoProxy, and custom typeids, get `AutoProxy`. (`set` gets AutoProxy: SetProxy exists only
 * from Python 3.14.)
 */
const proxyTypes: Readonly<Record<string, string>> = {
  dict: 'DictProxy',
  list: 'ListProxy',
  Namespace: 'NamespaceProxy',
  Value: 'ValueProxy',
  Array: 'ArrayProxy',
  Lock: 'AcquirerProxy',
  RLock: 'AcquirerProxy',
  Semaphore: 'AcquirerProxy',
  BoundedSemaphore: 'AcquirerProxy',
  Condition: 'ConditionProxy',
  Event: 'EventProxy',
  Barrier: 'BarrierProxy',
  Iterator: 'IteratorProxy',
};

/** The proxy class name for an object. */
export function proxyTypeFor(entry: ObjectEntry): string {
  return entry.builtin !== undefined && Object.hasOwn(proxyTypes, entry.builtin) ? proxyTypes[entry.builtin] : 'AutoProxy';
}

/** Exceptions of Python's builtins (Python 2's `exceptions` module); PermissionError is Python 3's only. */
const builtinExceptions = new Set([
  'KeyError', 'IndexError', 'ValueError', 'TypeError', 'AttributeError', 'RuntimeError', 'StopIteration',
  'OverflowError', 'MemoryError', 'NotImplementedError', 'ZeroDivisionError', 'LookupError', 'NameError', 'AssertionError',
]);

/**
 * The exception a Python client raises for one the server's objects raised, or undefined when its
 * Python has no such class (the client then gets the text, as a RemoteError).
 */
export function exceptionForPython(type: string, message: string, args: unknown[] | undefined, dialect: PickleDialect): PyExceptionValue | undefined {
  const py2 = dialect === 'py2';
  // queue.Empty() and queue.Full() carry no message; KeyError carries its key; others their text.
  const argsFor = (fallback: unknown[]) => args ?? fallback;
  if (type === 'Empty' || type === 'Full') return new PyExceptionValue(py2 ? 'Queue' : 'queue', type, argsFor([]));
  if (type === 'BrokenBarrierError') return py2 ? undefined : new PyExceptionValue('threading', type, argsFor([]));
  if (type === 'PermissionError') return py2 ? undefined : new PyExceptionValue('builtins', type, argsFor([message]));
  if (builtinExceptions.has(type)) return new PyExceptionValue(py2 ? 'exceptions' : 'builtins', type, argsFor(message ? [message] : []));
  return undefined;
}
