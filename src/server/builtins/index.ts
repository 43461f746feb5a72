/**
 * The built-in shared types a SyncManager serves, under SyncManager's typeids — queues, dict,
 * list, set, Namespace, Value, Array, the `threading` primitives, and the Iterator that dict,
 * list and set iteration hand back — and the table the server creates them from by typeid.
 */

import type { SyncManagerTypeid } from '../../common/syncTypeids';
import type { Signature } from '../calls/methodDispatch';
import { PyArray, createArray } from './array';
import { Barrier, createBarrier } from './barrier';
import { Condition, createCondition } from './condition';
import { Dict, createDict } from './dict';
import { Event, createEvent } from './event';
import { PyIterator } from './iterator';
import { List, createList } from './list';
import { BoundedSemaphore, Lock, RLock, Semaphore, createBoundedSemaphore, createLock, createRLock, createSemaphore } from './locks';
import { Namespace, createNamespace } from './namespace';
import { LifoQueue, PriorityQueue, Queue, createLifoQueue, createPriorityQueue, createQueue } from './queue';
import { PySet, createSet } from './set';
import { Value, createValue } from './value';

export { PyArray, createArray } from './array';
export { Barrier, createBarrier } from './barrier';
export { Condition, createCondition } from './condition';
export { Dict, createDict } from './dict';
export { Event, createEvent } from './event';
export { PyIterator } from './iterator';
export { List, createList } from './list';
export { BoundedSemaphore, Lock, RLock, Semaphore, createBoundedSemaphore, createLock, createRLock, createSemaphore } from './locks';
export { Namespace, createNamespace } from './namespace';
export { LifoQueue, PriorityQueue, Queue, createLifoQueue, createPriorityQueue, createQueue } from './queue';
export { PySet, createSet } from './set';
export { Value, createValue } from './value';
export { PyDict, pyCompare, pyEquals, pyHashKey, pyRepr, pyTypeName } from '../pythonSemantics';

/** What the server reads off a built-in type's class. */
export interface BuiltinClass {
  /** The type name clients see (a token's `builtin`). */
  readonly builtin: string;
  /** The methods clients may call. */
  readonly exposed: readonly string[];
  /** The Python signatures of those methods. */
  readonly signatures: Readonly<Record<string, Signature>>;
  /** Methods whose results go back as proxies of the named typeid (`__iter__` → `Iterator`). */
  readonly methodToTypeid?: Readonly<Record<string, string>>;
}

/** A built-in type: its class, and a factory taking wire arguments as Python's constructor would. */
export interface BuiltinType {
  /** The class: its type name (`builtin`), `exposed` methods and their `signatures`. */
  readonly type: BuiltinClass;
  /**
   * Builds an instance; @throws PyException TypeError (and others) for bad arguments, worded as
   * Python's. Absent for a type whose objects only come from other methods (Iterator).
   */
  readonly create?: (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => object;
}

/** The SyncManager typeids served here. */
export type BuiltinTypeId = SyncManagerTypeid;

/**
 * The built-in types by SyncManager typeid. Null-prototype, so a client's typeid such as
 * 'constructor' or '__proto__' finds nothing rather than Object's members.
 */
export const builtinTypes: Readonly<Record<BuiltinTypeId, BuiltinType>> = Object.freeze(
  Object.assign(Object.create(null) as Record<BuiltinTypeId, BuiltinType>, {
    Queue: { type: Queue, create: createQueue },
    // SyncManager serves queue.Queue, which has task_done and join, under both names.
    JoinableQueue: { type: Queue, create: createQueue },
    LifoQueue: { type: LifoQueue, create: createLifoQueue },
    PriorityQueue: { type: PriorityQueue, create: createPriorityQueue },
    dict: { type: Dict, create: createDict },
    list: { type: List, create: createList },
    set: { type: PySet, create: createSet },
    Namespace: { type: Namespace, create: createNamespace },
    Value: { type: Value, create: createValue },
    Array: { type: PyArray, create: createArray },
    Lock: { type: Lock, create: createLock },
    RLock: { type: RLock, create: createRLock },
    Semaphore: { type: Semaphore, create: createSemaphore },
    BoundedSemaphore: { type: BoundedSemaphore, create: createBoundedSemaphore },
    Condition: { type: Condition, create: createCondition },
    Event: { type: Event, create: createEvent },
    Barrier: { type: Barrier, create: createBarrier },
    Iterator: { type: PyIterator },
  }),
);

/** The typeids whose objects clients make (all but Iterator, whose objects come from iteration). */
export function creatableBuiltins(): [BuiltinTypeId, Required<BuiltinType>][] {
  return (Object.entries(builtinTypes) as [BuiltinTypeId, BuiltinType][]).filter((e): e is [BuiltinTypeId, Required<BuiltinType>] => e[1].create !== undefined);
}

/** The built-in type for a typeid, or undefined when it is not one. */
export function builtinType(typeid: string): BuiltinType | undefined {
  return Object.prototype.hasOwnProperty.call(builtinTypes, typeid) ? builtinTypes[typeid as BuiltinTypeId] : undefined;
}
