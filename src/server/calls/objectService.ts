/**
 * What a call means, for every protocol: create an object, call a method of one, count
 * references, stop the manager, describe the registry. It owns the lookup of objects, the one
 * check of `exposed` (with the fallbacks every object answers), `methodToTypeid`, and the
 * references inside arguments and results, and it raises the errors of `callErrors.ts`. The
 * protocol sessions parse their own messages, call it, and write what it returns or raises.
 */

import type { TypeidDescription } from '../../common/protocol';
import type { CallActivity } from '../callActivity';
import type { ObjectEntry, ObjectTable } from '../objectTable';
import type { Registration, Registry } from '../registry';
import { CallCancelled } from '../exceptions';
import { SessionCallContext } from './callContext';
import {
  MethodNotExposedError,
  NotAcknowledgeableError,
  NotCreatableError,
  ProxyTypeMismatchError,
  ShutdownNotAllowedError,
  UnknownDeliveryError,
  UnknownObjectError,
  UnknownProxyTargetError,
  UnknownResultTypeidError,
  UnknownTypeidError,
} from './callErrors';
import { callFallback, FALLBACK_METHODS } from './fallbacks';
import { invokeMethod, type AckRequest } from './methodDispatch';
import { unpackedArguments } from '../packedValues';
import { Queue } from '../builtins/queue';
import { referent, SharedRef } from './sharedRef';
import type { RequestId, SessionCore } from './sessionCore';
import { RedisQueue } from '../store/redisQueue';
import type { GroupObjects, GroupSessions } from '../store/objectStore';
import { answeredInGroup, recordsAnswers } from '../store/redisAnswers';

/** The holder that keeps an object read back from a container in the table until a client takes it. */
export const STORED_HOLDER = 'stored';

/** What the service needs from its manager. */
export interface ObjectServiceHost {
  readonly registry: Registry;
  readonly table: ObjectTable;
  readonly allowRemoteShutdown: boolean;
  /** The calls inspection watches (Activity). */
  readonly activity: CallActivity;
  /** The objects a shared store serves to every manager of a group, by group-wide id (none in memory). */
  readonly group?: GroupObjects;
  /** The resumable sessions of a group, whose calls keep their answers there (none in memory). */
  readonly groupSessions?: GroupSessions;
  shutdownServer(): void;
  log(message: string): void;
}

/**
 * How a protocol's arguments become the server's values. Read only once the call is known to be
 * allowed, so a call that is refused for another reason is refused for that reason.
 */
export interface ArgumentReader<Args, Kwargs> {
  args(raw: Args): readonly unknown[];
  kwargs(raw: Kwargs): Readonly<Record<string, unknown>>;
  /** Whether a fallback method (`__repr__`, ...) called with arguments counts as not exposed (JSON-RPC), or ignores them (Python). */
  readonly fallbacksTakeNoArguments: boolean;
}

/** A call's result that goes back as a proxy of a new reference (a method of `methodToTypeid`). */
export class ProxyResult {
  constructor(readonly entry: ObjectEntry) {}
}

const EMPTY_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The methods a call may ask `ack` of: a queue's gets (SPEC 20.3). */
const ACKNOWLEDGEABLE: ReadonlySet<string> = new Set(['get', 'get_nowait']);

/** Whether an object's gets may ask for `ack`: a queue's, kept in memory or in Redis. */
function acknowledgeable(obj: object): obj is Queue | RedisQueue {
  return obj instanceof Queue || obj instanceof RedisQueue;
}

/** A call with no arguments: none given, or given empty (`args: []`, `kwargs: {}`), which is the same call. */
function isEmptyCall(args: unknown, kwargs: unknown): boolean {
  const noArgs = args === undefined || (Array.isArray(args) && args.length === 0);
  const noKwargs = kwargs === undefined || (typeof kwargs === 'object' && kwargs !== null && Object.keys(kwargs).length === 0);
  return noArgs && noKwargs;
}

/** The one object service of a manager. */
export class ObjectService {
  constructor(private readonly host: ObjectServiceHost) {}

  /** The registry's typeids, as `manager/describe` lists them. */
  describe(): TypeidDescription[] {
    return this.host.registry.describe();
  }

  /**
   * Creates an object of `typeid` (or fetches its singleton) and gives the caller a reference.
   * @throws UnknownTypeidError, NotCreatableError; whatever the callable raises.
   */
  create<A, K>(caller: SessionCore, typeid: unknown, args: A, kwargs: K, reader: ArgumentReader<A, K>): ObjectEntry {
    const registration = typeof typeid === 'string' ? this.host.registry.get(typeid) : undefined;
    if (!registration) throw new UnknownTypeidError(typeid);
    if (!registration.create) throw new NotCreatableError(registration.typeid);
    const obj = registration.create(...unpackedArguments(reader.args(args), reader.kwargs(kwargs), undefined));
    return this.host.table.addReference(obj, registration, caller.holder);
  }

  /**
   * `answer`, once every manager of the group can find the object `entry` was just made for, so
   * that its creator is answered only then (a store shared by a group, SPEC 17.11); at once when
   * they already can, as always in memory.
   */
  afterKnown<T>(entry: ObjectEntry, answer: T): T | Promise<T> {
    const known = this.host.group?.known(entry.obj);
    return known ? known.then(() => answer) : answer;
  }

  /**
   * The object with this id.
   * @throws UnknownObjectError
   */
  entry(objectId: unknown, during: 'call' | 'reference' = 'reference'): ObjectEntry {
    const entry = this.lookup(objectId);
    if (!entry) throw new UnknownObjectError(objectId, during);
    return entry;
  }

  /** The table's entry for `objectId`, if it has one. */
  private lookup(objectId: unknown): ObjectEntry | undefined {
    return typeof objectId === 'string' ? this.host.table.get(objectId) : undefined;
  }

  /**
   * The object an inspection request names (SPEC 17.4): one in the table, a typeid's shared object
   * nobody holds, or an object of the group this manager's table does not hold, made here from its
   * store for the request alone (a promise). Such an object is not entered in the table and nobody
   * is given a reference, so the group's reference counts do not change for a tool's read.
   * @throws UnknownObjectError, or the promise rejects with it when the store knows no such object.
   */
  inspected(objectId: unknown): ObjectEntry | Promise<ObjectEntry> {
    const table = this.host.table;
    const here = typeof objectId === 'string' ? table.inspectable(objectId) : undefined;
    if (here) return here;
    const found = typeof objectId === 'string' ? this.host.group?.objectFor(objectId, 'inspection') : undefined;
    if (!found) throw new UnknownObjectError(objectId, 'reference');
    return this.registered(found, objectId, 'reference').then(([obj, registration]) => table.outside(obj, registration));
  }

  /**
   * Runs `change` on the object an inspection edit names (SPEC 17.9, 17.10), any object
   * {@link inspected} finds. One of the group that this manager's table does not hold is kept in
   * the table while the change runs, as for a call, and leaves it after: meanwhile the group counts
   * this manager among those referring to it, so the object cannot be deleted under the change
   * (a change would write its keys again, and nobody would delete them).
   * @throws UnknownObjectError, or the promise rejects with it.
   */
  changeInspected<R>(objectId: unknown, change: (entry: ObjectEntry) => R | Promise<R>): R | Promise<R> {
    const here = typeof objectId === 'string' ? this.host.table.inspectable(objectId) : undefined;
    if (here) return change(here);
    const inGroup = this.fromGroup(objectId, 'reference', 'inspection');
    if (!inGroup) throw new UnknownObjectError(objectId, 'reference');
    return inGroup.then((entry) => this.keptWhile(entry, () => change(entry)) as R | Promise<R>);
  }

  /**
   * Calls `method` of object `objectId`. The result is a value, a {@link ProxyResult} for a
   * method of `methodToTypeid`, or a promise of either for a call that waits; `touch` hears of
   * the object once the call reached it. `ack` asks for the item delivered (a queue's get, SPEC 20.3).
   * @throws UnknownObjectError, MethodNotExposedError, NotAcknowledgeableError; whatever the method raises.
   */
  call<A, K>(
    caller: SessionCore,
    requestId: RequestId,
    objectId: unknown,
    method: string,
    args: A,
    kwargs: K,
    reader: ArgumentReader<A, K>,
    touch: (objectId: string) => void,
    ack?: AckRequest,
  ): unknown {
    // One lookup on the common path; only an id the table lacks may name an object of the group.
    const entry = this.lookup(objectId);
    if (!entry) {
      const inGroup = this.fromGroup(objectId, 'call');
      if (!inGroup) throw new UnknownObjectError(objectId, 'call');
      // Made here for this call (no reference is taken): it stays in the table while the call runs.
      return inGroup.then((made) => this.keptWhile(made, () => this.call(caller, requestId, objectId, method, args, kwargs, reader, touch, ack)));
    }
    if (ack && !(acknowledgeable(entry.obj) && ACKNOWLEDGEABLE.has(method))) {
      throw new NotAcknowledgeableError(entry.typeid, method);
    }
    if (!entry.exposedSet.has(method)) {
      // __repr__, __str__ and #GETVALUE answer for every object, as in Python's manager.
      if (FALLBACK_METHODS.has(method) && !(reader.fallbacksTakeNoArguments && !isEmptyCall(args, kwargs))) {
        return callFallback(entry.obj, method);
      }
      throw new MethodNotExposedError(entry, method);
    }
    let decodedArgs: readonly unknown[];
    let decodedKwargs: Readonly<Record<string, unknown>>;
    try {
      decodedArgs = reader.args(args);
      decodedKwargs = reader.kwargs(kwargs);
    } catch (error) {
      // A proxy to an object of the group this manager has not served yet: made here, then the call again.
      const target = error instanceof UnknownProxyTargetError ? this.fromGroup(error.objectId, 'reference') : undefined;
      if (!target) throw error;
      return target.then(
        (kept) => this.keptWhile(kept, () => this.call(caller, requestId, objectId, method, args, kwargs, reader, touch, ack)),
        () => Promise.reject(error),
      );
    }
    touch(entry.id);
    const activity = this.host.activity;
    // Nobody watching costs this one test.
    if (activity.watched) return activity.observe(caller.id, entry, method, decodedArgs, () => this.invoke(caller, requestId, entry, method, decodedArgs, decodedKwargs, ack));
    return this.invoke(caller, requestId, entry, method, decodedArgs, decodedKwargs, ack);
  }

  /**
   * Acknowledges delivery `deliveryId` of queue `objectId` (gone for good), or gives it back
   * (`nack`: to the front of the queue, counted as delivered), for the session holding it (SPEC 20.3).
   * @throws UnknownObjectError; UnknownDeliveryError when the caller does not hold that delivery.
   */
  settleDelivery(caller: SessionCore, objectId: unknown, deliveryId: string, how: 'ack' | 'nack'): ObjectEntry | Promise<ObjectEntry> {
    const entry = this.entry(objectId, 'call');
    const obj = entry.obj;
    const settled = acknowledgeable(obj) ? obj.settleDelivery(deliveryId, caller.id, how) : false;
    const checked = (held: boolean): ObjectEntry => {
      if (!held) throw new UnknownDeliveryError(entry.id, deliveryId);
      return entry;
    };
    // A queue kept in Redis settles in Redis: the answer waits for it.
    return settled instanceof Promise ? settled.then(checked) : checked(settled);
  }

  private invoke(
    caller: SessionCore,
    requestId: RequestId,
    entry: ObjectEntry,
    method: string,
    decodedArgs: readonly unknown[],
    decodedKwargs: Readonly<Record<string, unknown>>,
    ack?: AckRequest,
  ): unknown {
    const context = new SessionCallContext(caller, requestId, entry, method, this.host.table, ack);
    // In a group, a call of a resumable session whose effect records no answer is marked as started first (SPEC 20.4.1);
    // the session is looked at first: most are not kept in the group, and their calls need ask the object nothing.
    const sessions = this.host.groupSessions;
    const kept = sessions?.keeps(caller.id) === true;
    if (kept && !recordsAnswers(entry.obj, method)) sessions!.callStarted(caller.id, requestId);
    let result: unknown;
    try {
      result = invokeMethod(entry.obj, method, decodedArgs, decodedKwargs, context);
    } finally {
      // A call that waited kept its object in the table until it is over (SPEC 8.5, since 1.3).
      context.returned(result);
    }
    // Its script's reply from Redis lost, the call's answer was read from its record (`store/redisStore.ts`).
    if (kept && result instanceof Promise) result = result.catch(answeredInGroup);
    const typeid = Object.hasOwn(entry.methodToTypeid, method) ? entry.methodToTypeid[method] : undefined;
    if (typeid === undefined) return result;
    // The result goes back as a proxy: make it an object of the mapped typeid, referenced by the caller.
    return result instanceof Promise ? result.then((value) => this.proxyResult(caller, typeid, value)) : this.proxyResult(caller, typeid, result);
  }

  /**
   * An object this manager's table lacks but its store serves to the whole group (one created
   * through another manager), made here and put in the table with no reference; undefined when
   * the table has the object, or the id is not a group-wide one (the caller then looks it up as
   * usual). The promise rejects with UnknownObjectError when the store knows no such object.
   */
  private fromGroup(objectId: unknown, during: 'call' | 'reference', purpose: 'use' | 'inspection' = 'use'): Promise<ObjectEntry> | undefined {
    const table = this.host.table;
    if (typeof objectId !== 'string' || table.get(objectId)) return undefined;
    const resident = table.resident(objectId);
    const found = resident ? Promise.resolve(resident) : this.host.group?.objectFor(objectId, purpose);
    return found && this.registered(found, objectId, during).then(([obj, registration]) => table.enter(obj, registration));
  }

  /** The object found for `objectId` with its registration here. The promise rejects with UnknownObjectError when none was found. */
  private registered(found: Promise<object | undefined>, objectId: unknown, during: 'call' | 'reference'): Promise<[object, Registration]> {
    return found.then((obj) => {
      const registration = obj && this.host.table.registrationOf(obj);
      if (!obj || !registration) throw new UnknownObjectError(objectId, during);
      return [obj, registration];
    });
  }

  /** Runs `run` with `entry` kept in the table (until its promise settles, for a promise). */
  private keptWhile(entry: ObjectEntry, run: () => unknown): unknown {
    const unkeep = this.host.table.keep(entry);
    let result: unknown;
    try {
      result = run();
    } finally {
      if (result instanceof Promise) result.then(unkeep, unkeep);
      else unkeep();
    }
    return result;
  }

  /**
   * The caller takes one more reference to object `objectId`, which may be an object of the
   * group this manager has not served yet (then the answer is a promise).
   */
  increfInGroup(caller: SessionCore, objectId: unknown): ObjectEntry | Promise<ObjectEntry> {
    const entry = this.lookup(objectId);
    if (entry) {
      this.host.table.incref(entry, caller.holder);
      return entry;
    }
    const inGroup = this.fromGroup(objectId, 'reference');
    if (!inGroup) throw new UnknownObjectError(objectId, 'reference');
    return inGroup.then((made) => {
      // A session that closed meanwhile must not be given a reference nobody will release.
      if (caller.closing) throw new CallCancelled('the session closed before the reference was taken');
      this.host.table.incref(made, caller.holder);
      return made;
    });
  }

  /**
   * What keeps object `objectId`'s entry in the table while a session holds something of it (a
   * delivery, a lock, permits) that it took over from another manager of the group, as a call's
   * hold keeps it (SPEC 8.5); undefined when the table has no entry for it.
   */
  keeperOf(objectId: string): (() => () => void) | undefined {
    const entry = this.lookup(objectId);
    const table = this.host.table;
    return entry && (() => table.keep(entry));
  }

  /** The caller takes one more reference to object `objectId`. */
  incref(caller: SessionCore, objectId: unknown): ObjectEntry {
    const entry = this.entry(objectId);
    this.host.table.incref(entry, caller.holder);
    return entry;
  }

  /**
   * The caller drops one of its references to object `objectId`.
   * @throws NoReferenceError when it holds none.
   */
  decref(caller: SessionCore, objectId: unknown): ObjectEntry {
    const entry = this.entry(objectId);
    this.host.table.decref(entry, caller.holder);
    return entry;
  }

  /**
   * Stops the manager, after the answer to the caller has gone.
   * @throws ShutdownNotAllowedError when the manager does not allow clients to stop it.
   */
  shutdown(caller: SessionCore): void {
    if (!this.host.allowRemoteShutdown) throw new ShutdownNotAllowedError();
    this.host.log(`session ${caller.id} asked the manager to shut down`);
    setImmediate(() => this.host.shutdownServer());
  }

  /**
   * A proxy inside arguments, as the server keeps it: a reference to the live object it names.
   * `typeid`, when the protocol's proxy carries one, must be the object's.
   * @throws UnknownProxyTargetError, ProxyTypeMismatchError
   */
  argumentReference(objectId: string, typeid?: string): SharedRef {
    const entry = this.host.table.get(objectId);
    if (!entry) throw new UnknownProxyTargetError(objectId);
    if (typeid !== undefined && entry.typeid !== typeid) throw new ProxyTypeMismatchError(objectId, typeid, entry.typeid);
    return SharedRef.of(entry.obj);
  }

  /** A stored reference inside a result: `holder` gets a reference of its own to the object. */
  resultReference(ref: SharedRef, holder: string): ObjectEntry {
    return this.host.table.addReferenceTo(ref.obj, holder);
  }

  /**
   * The entry of a stored reference inside a result, for a client that takes its reference
   * itself after reading it (Python's proxies incref): the object must be in the table then, so
   * one that had left comes back, held by {@link STORED_HOLDER}.
   */
  storedReference(ref: SharedRef): ObjectEntry {
    const table = this.host.table;
    const token = table.peekToken(ref.obj);
    return (token && table.get(token.id)) ?? table.addReferenceTo(ref.obj, STORED_HOLDER);
  }

  private proxyResult(caller: SessionCore, typeid: string, value: unknown): ProxyResult | Promise<ProxyResult> {
    // A session that closed while the call ran must not be given a reference nobody will release.
    if (caller.closing) throw new CallCancelled('the session closed before the result arrived');
    const registration: Registration | undefined = this.host.registry.get(typeid);
    if (!registration) throw new UnknownResultTypeidError(typeid);
    const obj = registration.create ? registration.create([value], EMPTY_KWARGS) : referent(value);
    const entry = this.host.table.addReference(obj, registration, caller.holder);
    return this.afterKnown(entry, new ProxyResult(entry));
  }
}
