/**
 * The allow-list: the only Python globals the pickle codec gives a meaning to, under each name a
 * Python 2 or 3 pickle may use for them, and how the writer names them for each Python. Nothing
 * here is ever called or imported; a global not listed makes an opaque value.
 */

import type { GlobalNode, PickleNode } from './pickleTree';

/** The Python a pickle is written for: Python 2.7 (`py2`) or Python 3 (`py3`). */
export type PickleDialect = 'py2' | 'py3';

/** What an allow-listed global is to the codec. */
export type GlobalRole =
  | 'set'
  | 'frozenset'
  | 'slice'
  | 'bytes'
  | 'bytearray'
  /** `_codecs.encode(text, 'latin1')`: how protocol 2 writes bytes. */
  | 'encode'
  /** `copyreg._reconstructor(cls, base, state)` / `copyreg.__newobj__(cls, *args)`: make an instance of cls. */
  | 'instance'
  | 'Token'
  | 'RebuildProxy'
  | 'exception';

/** Builtin exception classes of Python 2 (module `exceptions`) and Python 3 (`builtins`). */
const PY2_EXCEPTIONS = [
  'ArithmeticError', 'AssertionError', 'AttributeError', 'BaseException', 'BufferError', 'BytesWarning',
  'DeprecationWarning', 'EOFError', 'EnvironmentError', 'Exception', 'FloatingPointError', 'FutureWarning',
  'GeneratorExit', 'IOError', 'ImportError', 'ImportWarning', 'IndentationError', 'IndexError', 'KeyError',
  'KeyboardInterrupt', 'LookupError', 'MemoryError', 'NameError', 'NotImplementedError', 'OSError',
  'OverflowError', 'PendingDeprecationWarning', 'ReferenceError', 'RuntimeError', 'RuntimeWarning',
  'StandardError', 'StopIteration', 'SyntaxError', 'SyntaxWarning', 'SystemError', 'SystemExit', 'TabError',
  'TypeError', 'UnboundLocalError', 'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError',
  'UnicodeTranslateError', 'UnicodeWarning', 'UserWarning', 'ValueError', 'Warning', 'ZeroDivisionError',
];
/** Python 3's OSError subclasses, which Python 3 itself writes as `exceptions.OSError` for Python 2. */
const PY3_OSERRORS = [
  'BlockingIOError', 'BrokenPipeError', 'ChildProcessError', 'ConnectionAbortedError', 'ConnectionError',
  'ConnectionRefusedError', 'ConnectionResetError', 'FileExistsError', 'FileNotFoundError', 'InterruptedError',
  'IsADirectoryError', 'NotADirectoryError', 'PermissionError', 'ProcessLookupError', 'TimeoutError',
];
/** Python 3's other builtin exceptions, with the Python 2 class each is written as. */
const PY3_ONLY_EXCEPTIONS: Readonly<Record<string, string>> = {
  ModuleNotFoundError: 'ImportError',
  RecursionError: 'RuntimeError',
  StopAsyncIteration: 'Exception',
  ResourceWarning: 'Warning',
  EncodingWarning: 'Warning',
  PythonFinalizationError: 'RuntimeError',
};
const PY2_EXCEPTION_SET = new Set(PY2_EXCEPTIONS);
const PY3_OSERROR_SET = new Set(PY3_OSERRORS);
const BUILTIN_MODULES = ['builtins', '__builtin__'];
const EXCEPTION_MODULES = ['builtins', '__builtin__', 'exceptions'];
const QUEUE_MODULES = ['queue', '_queue', 'Queue'];
const MULTIPROCESSING_EXCEPTIONS = ['AuthenticationError', 'BufferTooShort', 'ProcessError', 'TimeoutError'];

const roles = new Map<string, GlobalRole>();
const key = (module: string, name: string) => `${module}\n${name}`;
function allow(modules: readonly string[], names: readonly string[], role: GlobalRole): void {
  for (const module of modules) for (const name of names) roles.set(key(module, name), role);
}
for (const name of ['set', 'frozenset', 'slice', 'bytes', 'bytearray'] as const) allow(BUILTIN_MODULES, [name], name);
allow(['_codecs', 'codecs'], ['encode'], 'encode');
allow(['copyreg', 'copy_reg'], ['_reconstructor', '__newobj__'], 'instance');
allow(['multiprocessing.managers'], ['Token'], 'Token');
allow(['multiprocessing.managers'], ['RebuildProxy'], 'RebuildProxy');
allow(EXCEPTION_MODULES, [...PY2_EXCEPTIONS, ...PY3_OSERRORS, ...Object.keys(PY3_ONLY_EXCEPTIONS)], 'exception');
allow(QUEUE_MODULES, ['Empty', 'Full'], 'exception');
allow(['multiprocessing.managers'], ['RemoteError'], 'exception');
allow(['threading'], ['BrokenBarrierError'], 'exception');
allow(['multiprocessing', 'multiprocessing.context'], MULTIPROCESSING_EXCEPTIONS, 'exception');

/**
 * Standard library classes that a pickle may make under `--no-opaque-pickles`, kept opaque (stored as
 * pickled, handed back as they came): every CPython client sends them, and unpickling them runs only
 * their own constructors on plain data (OrderedDict's items, datetime's packed bytes, Decimal's digits),
 * never code the pickle names. What they hold is checked as anything else is.
 */
const HARMLESS_CLASSES = new Set([
  key('collections', 'OrderedDict'),
  ...['date', 'time', 'datetime', 'timedelta', 'timezone'].map((name) => key('datetime', name)),
  key('decimal', 'Decimal'),
]);

/**
 * Whether `module.name` may be in a pickle a manager without opaque pickles stores: on the allow-list, but for
 * `RebuildProxy` (which the reader makes a reference of, but which inside an object kept opaque would be a call
 * the reading client makes), or one of the harmless standard library classes.
 */
export function harmlessGlobal(module: string, name: string): boolean {
  const role = roles.get(key(module, name));
  return role !== undefined ? role !== 'RebuildProxy' : HARMLESS_CLASSES.has(key(module, name));
}

/** The role of `module.name`, or undefined when it is not on the allow-list (it stays opaque). */
export function globalRole(module: string, name: string): GlobalRole | undefined {
  return roles.get(key(module, name));
}

/** Every allow-listed global, as `[module, name, role]` (for tests and documentation). */
export function allowedGlobals(): [string, string, GlobalRole][] {
  return [...roles].map(([k, role]) => {
    const [module, name] = k.split('\n');
    return [module, name, role];
  });
}

/** The module of `set`, `slice`, `bytearray`... in each Python. */
export function builtinsModule(dialect: PickleDialect): string {
  return dialect === 'py2' ? '__builtin__' : 'builtins';
}

/**
 * `[module, name]` of an exception class as the receiving Python imports it: `exceptions.X` and
 * `Queue.Empty` in Python 2, `builtins.X` and `queue.Empty` in Python 3. A class Python 2 lacks
 * becomes its nearest base there: Python 3's OSError subclasses become `OSError` (as Python 3's
 * own protocol 2 pickles name them), `threading.BrokenBarrierError` (no Barrier in Python 2)
 * becomes `RuntimeError`, its base class. Other modules are left as named.
 */
export function exceptionClassFor(module: string, name: string, dialect: PickleDialect): [string, string] {
  const py2 = dialect === 'py2';
  if (EXCEPTION_MODULES.includes(module)) {
    if (!py2) return ['builtins', name === 'StandardError' ? 'Exception' : name];
    if (PY2_EXCEPTION_SET.has(name)) return ['exceptions', name];
    if (PY3_OSERROR_SET.has(name)) return ['exceptions', 'OSError'];
    return ['exceptions', PY3_ONLY_EXCEPTIONS[name] ?? 'Exception'];
  }
  if (QUEUE_MODULES.includes(module) && (name === 'Empty' || name === 'Full')) return [py2 ? 'Queue' : 'queue', name];
  if (module === 'threading' && name === 'BrokenBarrierError' && py2) return ['exceptions', 'RuntimeError'];
  if (module === 'multiprocessing.context' && py2 && MULTIPROCESSING_EXCEPTIONS.includes(name)) return ['multiprocessing', name];
  return [module, name];
}

/** A module name as Python 3 spells it (`__builtin__`, `exceptions` → `builtins`), for display. */
export function displayModule(module: string): string {
  return module === '__builtin__' || module === 'exceptions' ? 'builtins' : module === 'copy_reg' ? 'copyreg' : module;
}

/**
 * The class an object node makes, when the pickle names it: the callee of NEWOBJ/NEWOBJ_EX/OBJ/
 * INST and of a REDUCE that calls a class directly, or the class handed to copyreg's helpers
 * (`copyreg._reconstructor(cls, object, None)`, `copyreg.__newobj__(cls, ...)`).
 */
export function instanceClass(node: PickleNode): GlobalNode | undefined {
  if (node.kind === 'global') return node;
  if (node.kind !== 'object' || node.callee.kind !== 'global') return undefined;
  if (node.how === 'REDUCE' && globalRole(node.callee.module, node.callee.name) === 'instance') {
    const first = node.args.kind === 'tuple' ? node.args.items[0] : undefined;
    return first?.kind === 'global' ? first : undefined;
  }
  return node.callee;
}

/** The `module.Class` an opaque value is shown as: its class, or `object` when the pickle does not say. */
export function opaqueTypeName(node: PickleNode): string {
  const cls = instanceClass(node);
  return cls ? `${displayModule(cls.module)}.${cls.name}` : 'object';
}
