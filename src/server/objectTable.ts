/**
 * The refcounted object table: every shared object a client holds a reference to, by id, with
 * how many references each session holds. An object leaves the table when its last reference is
 * released and no blocked call or holding keeps it; an object that lives on (a singleton) keeps its id, so a later create returns the same
 * id, as Python's manager does with `id(obj)`.
 */

import { randomBytes } from 'node:crypto';
import type { Token } from '../common/protocol';
import type { Registration } from './registry';

/** One live object. */
export interface ObjectEntry {
  readonly id: string;
  readonly typeid: string;
  readonly obj: object;
  readonly exposed: readonly string[];
  /** `exposed` as a set, for the per-call check. */
  readonly exposedSet: ReadonlySet<string>;
  readonly methodToTypeid: Readonly<Record<string, string>>;
  readonly builtin?: string;
  /** References per session id. */
  readonly holders: Map<string, number>;
  refcount: number;
  /** Blocked calls waiting on the object and holdings of it (a lock, permits): each keeps it in the table. */
  kept: number;
}

/** Thrown when a session releases a reference it does not hold. */
export class NoReferenceError extends Error {
  override name = 'NoReferenceError';
}

/** Every public method of an object: functions on it or its prototypes, not starting with `_`. */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor' || name.startsWith('_')) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

/** The built-in type name a class declares (`static builtin = 'Queue'`). */
function builtinOf(obj: object): string | undefined {
  return (obj.constructor as { builtin?: unknown } | undefined)?.builtin as string | undefined;
}

/** The exposed list a class declares (`static exposed = [...]`). */
function declaredExposed(obj: object): readonly string[] | undefined {
  const exposed = (obj.constructor as { exposed?: unknown } | undefined)?.exposed;
  return Array.isArray(exposed) ? exposed : undefined;
}

/** A table entry for `obj` with no references yet. */
function newEntry(id: string, obj: object, registration: Registration): ObjectEntry {
  const exposed = registration.exposed ?? declaredExposed(obj) ?? publicMethods(obj);
  return {
    id,
    typeid: registration.typeid,
    obj,
    exposed,
    exposedSet: new Set(exposed),
    methodToTypeid: registration.methodToTypeid,
    builtin: builtinOf(obj) ?? registration.builtin,
    holders: new Map(),
    refcount: 0,
    kept: 0,
  };
}

/**
 * The property under which an object kept in a shared store carries its group-wide id (`r:NAME`,
 * see `store/redisStore.ts`): such an object has the same id on every manager of the group, so a
 * token given out by one manager is understood by the others.
 */
export const GLOBAL_ID = Symbol('syncmanager.globalId');

/** The group-wide id an object carries, if it is kept in a shared store. */
export function globalIdOf(obj: object): string | undefined {
  return (obj as { [GLOBAL_ID]?: string })[GLOBAL_ID];
}

/** The table. */
export class ObjectTable {
  private readonly entries = new Map<string, ObjectEntry>();
  /** Ids of objects seen before, so an object keeps its id across leaving and re-entering the table. */
  private readonly idsByObject = new WeakMap<object, string>();
  private nextId = 1;
  /**
   * Random per table (one per server run), before every id: a reference kept from an earlier run
   * names no object of this one, so it fails as unknown instead of reaching whatever object got
   * the same number (SPEC 8.4).
   */
  private readonly runPrefix = randomBytes(4).toString('hex');
  /** Ids each session holds references to, so a closing session is released without a scan. */
  private readonly idsBySession = new Map<string, Set<string>>();
  /** How each object ever shared was registered, so one that left the table can come back as it was. */
  private readonly registrations = new WeakMap<object, Registration>();
  /** Objects served whether or not anyone holds them (a typeid's shared object), by id: inspection shows them always. */
  private readonly residents = new Map<string, object>();

  /** Called after an object enters or leaves the table. */
  onChange?: (entry: ObjectEntry, change: 'added' | 'removed') => void;

  /** Called after a holder's number of references to an object changed (0: it holds none now). */
  onHeld?: (entry: ObjectEntry, holder: string, count: number) => void;

  /**
   * How an object this table never shared was registered, when it can tell: an object of a shared
   * store made here from another manager's token (its typeid is in the store).
   */
  registrationFor?: (obj: object) => Registration | undefined;

  get size(): number {
    return this.entries.size;
  }

  get(id: string): ObjectEntry | undefined {
    return this.entries.get(id);
  }

  /** Every live entry. */
  all(): IterableIterator<ObjectEntry> {
    return this.entries.values();
  }

  /**
   * Puts `obj` in the table under `registration` (if not there) and gives `sessionId` one
   * reference to it. Values that are not objects are boxed so they can be held by reference.
   */
  addReference(value: unknown, registration: Registration, sessionId: string): ObjectEntry {
    const entry = this.enter(value, registration);
    this.incref(entry, sessionId);
    return entry;
  }

  /**
   * Puts `obj` in the table under `registration` (if not there), with no reference: the caller
   * takes one or keeps it (see {@link keep}), so that it leaves again once unused.
   */
  enter(value: unknown, registration: Registration): ObjectEntry {
    const obj = typeof value === 'object' && value !== null ? value : Object(value ?? {});
    let id = this.idsByObject.get(obj);
    let entry = id === undefined ? undefined : this.entries.get(id);
    if (!entry) {
      id ??= this.assignId(obj, registration);
      entry = newEntry(id, obj, registration);
      this.entries.set(id, entry);
      this.onChange?.(entry, 'added');
    }
    return entry;
  }

  /** The resident object with this id (a typeid's shared object), whether or not anyone holds it. */
  resident(id: string): object | undefined {
    return this.residents.get(id);
  }

  /**
   * Makes `obj` resident: it gets its id now, and inspection shows it (and its contents) while no
   * client holds a reference, with a refcount of 0. For a typeid's shared object, which lives as
   * long as the manager whoever holds it.
   */
  makeResident(obj: object, registration: Registration): string {
    const id = this.idsByObject.get(obj) ?? this.assignId(obj, registration);
    this.residents.set(id, obj);
    return id;
  }

  /**
   * What inspection shows of an object: its live entry, or for a resident object nobody holds an
   * entry outside the table (refcount 0, no holders). Undefined for an unknown id.
   */
  inspectable(id: string): ObjectEntry | undefined {
    const live = this.entries.get(id);
    if (live) return live;
    const obj = this.residents.get(id);
    return obj ? newEntry(id, obj, this.registrations.get(obj)!) : undefined;
  }

  /**
   * What inspection shows of an object of a shared store that this table does not hold (made here
   * from another manager's store for one read): its live entry if it entered meanwhile, else an
   * entry outside the table (refcount 0, no holders) under its group-wide id. Nothing enters the
   * table, so {@link onChange} does not hear of it and the group counts no reference.
   * @throws Error for an object without a group-wide id (a server bug, not a client's).
   */
  outside(obj: object, registration: Registration): ObjectEntry {
    const id = globalIdOf(obj);
    if (id === undefined) throw new Error('only an object of a shared store is inspected outside the table');
    return this.entries.get(id) ?? newEntry(id, obj, registration);
  }

  /** Every object inspection shows: the live ones, then the resident ones nobody holds. */
  allInspectable(): ObjectEntry[] {
    const all = [...this.entries.values()];
    for (const id of this.residents.keys()) if (!this.entries.has(id)) all.push(this.inspectable(id)!);
    return all;
  }

  /** Gives `sessionId` one more reference. */
  incref(entry: ObjectEntry, sessionId: string): void {
    entry.refcount++;
    const held = entry.holders.get(sessionId) ?? 0;
    entry.holders.set(sessionId, held + 1);
    if (held === 0) {
      let ids = this.idsBySession.get(sessionId);
      if (!ids) this.idsBySession.set(sessionId, (ids = new Set()));
      ids.add(entry.id);
    }
    this.onHeld?.(entry, sessionId, held + 1);
  }

  /**
   * Drops one of `sessionId`'s references; the object leaves the table at zero.
   * @throws NoReferenceError when the session holds none.
   */
  decref(entry: ObjectEntry, sessionId: string): void {
    const held = entry.holders.get(sessionId) ?? 0;
    if (held === 0) throw new NoReferenceError(`this session holds no reference to object ${entry.id}`);
    if (held === 1) {
      entry.holders.delete(sessionId);
      this.idsBySession.get(sessionId)?.delete(entry.id);
    } else entry.holders.set(sessionId, held - 1);
    this.onHeld?.(entry, sessionId, held - 1);
    entry.refcount--;
    if (entry.refcount === 0 && entry.kept === 0) this.remove(entry);
  }

  /** Drops every reference a session holds (it closed). Returns how many were dropped. */
  releaseSession(sessionId: string): number {
    const ids = this.idsBySession.get(sessionId);
    this.idsBySession.delete(sessionId);
    let dropped = 0;
    for (const id of ids ?? []) {
      const entry = this.entries.get(id);
      const held = entry?.holders.get(sessionId) ?? 0;
      if (!entry || held === 0) continue;
      entry.holders.delete(sessionId);
      this.onHeld?.(entry, sessionId, 0);
      entry.refcount -= held;
      dropped += held;
      if (entry.refcount === 0 && entry.kept === 0) this.remove(entry);
    }
    return dropped;
  }

  /**
   * Keeps an entry in the table, with no session's reference, until the returned function is
   * called (once; later calls do nothing): a blocked call waiting on the object, or a lock or
   * permits a session holds of it (SPEC 8.5, since 1.3). It counts in `kept`, not in `refcount`.
   */
  keep(entry: ObjectEntry): () => void {
    entry.kept++;
    let kept = true;
    return () => {
      if (!kept) return;
      kept = false;
      entry.kept--;
      if (entry.refcount === 0 && entry.kept === 0 && this.entries.get(entry.id) === entry) this.remove(entry);
    };
  }

  /** Ids of the objects a session holds references to. */
  idsHeldBy(sessionId: string): string[] {
    return [...(this.idsBySession.get(sessionId) ?? [])];
  }

  /** How many references a session holds, over all objects. */
  referencesOf(sessionId: string): number {
    let n = 0;
    for (const id of this.idsBySession.get(sessionId) ?? []) n += this.entries.get(id)?.holders.get(sessionId) ?? 0;
    return n;
  }

  /**
   * Gives `sessionId` a reference to an object that was shared before (a stored reference being
   * read back), re-entering it in the table with its old id if it had left.
   * @throws Error if the object was never shared (a server bug, not a client's).
   */
  addReferenceTo(obj: object, sessionId: string): ObjectEntry {
    const registration = this.registrationOf(obj);
    if (!registration) throw new Error('a reference to an object that was never shared');
    return this.addReference(obj, registration, sessionId);
  }

  /**
   * The token of an object that was shared, without giving anyone a reference (for display).
   * Undefined if it was never shared.
   */
  peekToken(obj: object): Token | undefined {
    let id = this.idsByObject.get(obj);
    const live = id === undefined ? undefined : this.entries.get(id);
    if (live) return this.tokenOf(live);
    const registration = this.registrationOf(obj);
    id ??= registration && globalIdOf(obj);
    if (id === undefined || !registration) return undefined;
    const exposed = registration.exposed ?? declaredExposed(obj) ?? publicMethods(obj);
    const token: Token = { id, typeid: registration.typeid, exposed: [...exposed] };
    const builtin = builtinOf(obj) ?? registration.builtin;
    if (builtin) token.builtin = builtin;
    return token;
  }

  /** How an object was registered: when this table shared it, or as {@link registrationFor} tells. */
  registrationOf(obj: object): Registration | undefined {
    return this.registrations.get(obj) ?? this.registrationFor?.(obj);
  }

  /** The token a client gets for an entry. */
  tokenOf(entry: ObjectEntry): Token {
    const token: Token = { id: entry.id, typeid: entry.typeid, exposed: [...entry.exposed] };
    if (entry.builtin) token.builtin = entry.builtin;
    return token;
  }

  private assignId(obj: object, registration: Registration): string {
    // An object of a shared store has its group-wide id; the others one of this run.
    const id = globalIdOf(obj) ?? `${this.runPrefix}-${(this.nextId++).toString(16)}`;
    this.idsByObject.set(obj, id);
    this.registrations.set(obj, registration);
    return id;
  }

  private remove(entry: ObjectEntry): void {
    this.entries.delete(entry.id);
    this.onChange?.(entry, 'removed');
  }
}
