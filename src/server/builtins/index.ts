/**
 * The built-in shared types a SyncManager serves — Queue, dict, list, Namespace, Value — and the
 * table the server creates them from by typeid.
 */

import type { Signature } from '../signature';
import { Dict, createDict } from './dict';
import { List, createList } from './list';
import { Namespace, createNamespace } from './namespace';
import { Queue, createQueue } from './queue';
import { Value, createValue } from './value';

export { Dict, createDict } from './dict';
export { List, createList } from './list';
export { Namespace, createNamespace } from './namespace';
export { Queue, createQueue } from './queue';
export { Value, createValue } from './value';
export { PyDict, pyCompare, pyEquals, pyHashKey, pyRepr, pyTypeName } from './pyValues';

/** What the server reads off a built-in type's class. */
export interface BuiltinClass {
  /** The typeid, also the type name clients see. */
  readonly builtin: string;
  /** The methods clients may call. */
  readonly exposed: readonly string[];
  /** The Python signatures of those methods. */
  readonly signatures: Readonly<Record<string, Signature>>;
}

/** A built-in type: its class, and a factory taking wire arguments as Python's constructor would. */
export interface BuiltinType {
  /** The class: its typeid (`builtin`), `exposed` methods and their `signatures`. */
  readonly type: BuiltinClass;
  /** Builds an instance; @throws PyException TypeError (and others) for bad arguments, worded as Python's. */
  create(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object;
}

/** The SyncManager typeids served here. */
export type BuiltinTypeId = 'Queue' | 'dict' | 'list' | 'Namespace' | 'Value';

/**
 * The built-in types by SyncManager typeid. Null-prototype, so a client's typeid such as
 * 'constructor' or '__proto__' finds nothing rather than Object's members.
 */
export const builtinTypes: Readonly<Record<BuiltinTypeId, BuiltinType>> = Object.freeze(
  Object.assign(Object.create(null) as Record<BuiltinTypeId, BuiltinType>, {
    Queue: { type: Queue, create: createQueue },
    dict: { type: Dict, create: createDict },
    list: { type: List, create: createList },
    Namespace: { type: Namespace, create: createNamespace },
    Value: { type: Value, create: createValue },
  }),
);

/** The built-in type for a typeid, or undefined when it is not one. */
export function builtinType(typeid: string): BuiltinType | undefined {
  return Object.prototype.hasOwnProperty.call(builtinTypes, typeid) ? builtinTypes[typeid as BuiltinTypeId] : undefined;
}
