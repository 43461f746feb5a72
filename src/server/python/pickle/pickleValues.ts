/**
 * The few Python objects of the manager protocol that the pickle codec reads into values of their
 * own and writes back: a Token, a proxy (what `RebuildProxy` rebuilds) and an exception. Every
 * other Python object is carried as an `OpaqueValue` (see `pickleReader.ts`).
 */

/** The module that defines Token, RebuildProxy and the proxy classes. */
export const MANAGERS_MODULE = 'multiprocessing.managers';

/** `multiprocessing.managers.Token`: names a shared object on a manager. */
export class PyToken {
  constructor(
    /** The typeid the object was created by (`Queue`, `dict`, a registered name). */
    readonly typeid: string,
    /** The manager's address: `(host, port)` as a tuple, or a socket path. */
    readonly address: unknown,
    /** The object's id on that manager (a hex string). */
    readonly id: string,
  ) {}

  toString(): string {
    return `Token(typeid=${JSON.stringify(this.typeid)}, id=${JSON.stringify(this.id)})`;
  }
}

/**
 * A proxy inside a pickled value: `RebuildProxy(func, token, serializer, kwds)`, which Python
 * calls to make a proxy on the receiving side (and incref the object).
 */
export class PyProxy {
  constructor(
    /** The shared object the proxy refers to. */
    readonly token: PyToken,
    /** The proxy class or factory `func`: `AutoProxy`, `DictProxy`, `ListProxy`, ... */
    readonly proxyType: string,
    /** AutoProxy's `exposed` method names (`kwds['exposed']`); undefined when not sent. */
    readonly exposed?: readonly string[],
    /** The connection's serializer name (`pickle`, or `xmlrpclib`). */
    readonly serializer: string = 'pickle',
    /** The module of {@link proxyType}. */
    readonly proxyModule: string = MANAGERS_MODULE,
  ) {}

  toString(): string {
    return `<${this.proxyType} ${this.token}>`;
  }
}

/**
 * A Python exception instance, `module.name(*args)`. The module is as the sender named it
 * (`builtins`, Python 2's `exceptions`, `_queue`, `Queue`...); the writer names the class so the
 * receiving Python can import it.
 */
export class PyExceptionValue {
  constructor(
    /** The module of the class: `builtins`, `queue`, `threading`, `multiprocessing.managers`... */
    readonly module: string,
    /** The class name: `KeyError`, `Empty`, `BrokenBarrierError`, `RemoteError`... */
    readonly name: string,
    /** The exception's `args`. */
    readonly args: readonly unknown[] = [],
    /** The instance's state (its `__dict__`, e.g. `{'__notes__': [...]}`), when it was sent one. */
    readonly state?: unknown,
  ) {}

  toString(): string {
    return `${this.module}.${this.name}(${this.args.length} args)`;
  }
}
