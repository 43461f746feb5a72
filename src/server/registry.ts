/**
 * The typeid registry: BaseManager's `register()` table. Each typeid names how its objects are
 * made (`callable`), which of their methods clients may call (`exposed`), which methods hand back
 * proxies (`methodToTypeid`) and whether clients get a creation method for it (`createMethod`).
 */

import type { TypeidDescription } from '../common/protocol';
import { PyException } from './exceptions';

/** A constructor or a function that makes a shared object from the call's arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any class or function of the user's, whatever its parameters
export type ObjectFactory = ((...args: any[]) => unknown) | (new (...args: any[]) => unknown);

/** A factory that also receives keyword arguments (the built-in types bind them Python-style). */
export interface KeywordFactory {
  (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): unknown;
}

/** Options of {@link Registry.register}, after BaseManager.register's keyword arguments. */
export interface RegisterOptions {
  /**
   * Makes the object for `object/create`. A class is constructed with `new`; a function is called.
   * `() => taskQueue` shares one object (the seed's pattern); `(n) => new Counter(n)` makes a new
   * one per create. Omit it for typeids whose objects only come from `methodToTypeid`.
   */
  callable?: ObjectFactory;
  /** Method names clients may call. Default: the type's own list, else every public method. */
  exposed?: readonly string[];
  /** Methods whose result is returned as a proxy of the named typeid instead of by value. */
  methodToTypeid?: Readonly<Record<string, string>>;
  /** Whether clients get a creation method named after the typeid. Default true. */
  createMethod?: boolean;
}

/** A registration as the server uses it. */
export interface Registration {
  readonly typeid: string;
  readonly create?: KeywordFactory;
  readonly exposed: readonly string[] | null;
  readonly methodToTypeid: Readonly<Record<string, string>>;
  readonly createMethod: boolean;
  /** The built-in type its objects are, when known in advance. */
  readonly builtin?: string;
  /** Whether every create gives the same one object (a `shared` registration). */
  readonly shared?: boolean;
}

const TYPEID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;

/** Whether `fn` is a class (must be called with `new`). */
function isClass(fn: ObjectFactory): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Wraps a user callable so it takes (args, kwargs); keyword arguments are refused with a TypeError. */
export function positionalFactory(typeid: string, callable: ObjectFactory): KeywordFactory {
  const construct = isClass(callable);
  return (args, kwargs) => {
    if (Object.keys(kwargs).length) {
      throw new PyException('TypeError', `${typeid}() takes no keyword arguments (its callable is a JavaScript function: pass arguments by position)`);
    }
    return construct ? new (callable as new (...a: unknown[]) => unknown)(...args) : (callable as (...a: unknown[]) => unknown)(...args);
  };
}

/** The table of typeids. */
export class Registry {
  private readonly table = new Map<string, Registration>();

  /**
   * Registers (or replaces) a typeid.
   * @throws TypeError for a malformed typeid or options, naming the problem.
   */
  register(typeid: string, options: RegisterOptions = {}): Registration {
    if (typeof typeid !== 'string' || !TYPEID_PATTERN.test(typeid)) {
      throw new TypeError(`typeid ${JSON.stringify(typeid)} must be a name: letters, digits, _, . or -, not starting with a digit`);
    }
    const { callable, exposed, methodToTypeid = {}, createMethod = true } = options;
    if (callable !== undefined && typeof callable !== 'function') throw new TypeError(`register('${typeid}'): callable must be a function or a class`);
    if (exposed !== undefined && (!Array.isArray(exposed) || exposed.some((m) => typeof m !== 'string'))) {
      throw new TypeError(`register('${typeid}'): exposed must be an array of method names`);
    }
    for (const [method, target] of Object.entries(methodToTypeid)) {
      if (typeof target !== 'string') throw new TypeError(`register('${typeid}'): methodToTypeid.${method} must be a typeid string`);
    }
    return this.add({
      typeid,
      create: callable ? positionalFactory(typeid, callable) : undefined,
      exposed: exposed ? [...exposed] : null,
      methodToTypeid: { ...methodToTypeid },
      createMethod,
    });
  }

  /** Adds a fully formed registration (used for the built-in types, whose factories bind keywords). */
  add(registration: Registration): Registration {
    this.table.set(registration.typeid, registration);
    return registration;
  }

  get(typeid: string): Registration | undefined {
    return this.table.get(typeid);
  }

  has(typeid: string): boolean {
    return this.table.has(typeid);
  }

  /** Every registration, in registration order. */
  all(): Registration[] {
    return [...this.table.values()];
  }

  /** What `manager/describe` reports. */
  describe(): TypeidDescription[] {
    return this.all().map((r) => ({
      typeid: r.typeid,
      exposed: r.exposed ? [...r.exposed] : null,
      methodToTypeid: { ...r.methodToTypeid },
      createMethod: r.createMethod,
      creatable: r.create !== undefined,
      ...(r.builtin ? { builtin: r.builtin } : {}),
      ...(r.shared ? { shared: true } : {}),
    }));
  }
}
