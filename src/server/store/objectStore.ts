/**
 * Where the built-in types keep their state: the store seam. The default store keeps every
 * object in this process's memory (the classes of `../builtins`); a Redis store keeps the types
 * it knows in Redis, so that several managers on one Redis share them. The manager asks its store
 * for the built-in types it registers and for the objects of `shared` registrations.
 */

import { builtinTypes, type BuiltinType, type BuiltinTypeId } from '../builtins';

/** A store of built-in objects' state. */
export interface ObjectStore {
  /** Where the state lives, for messages: `memory`, or the store's URL and prefix. */
  readonly location: string;
  /** The built-in types as this store makes them, by SyncManager typeid. */
  readonly types: Readonly<Record<BuiltinTypeId, BuiltinType>>;
  /**
   * The one object a `shared` registration serves under `typeid`: with a shared store, every
   * manager registering the same typeid serves the same object.
   * @throws PyException for bad constructor arguments, as the type's constructor would.
   */
  sharedObject(typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object;
  /**
   * Connects, before the manager serves. `holdingsLost` is called if, while serving, the store
   * gave back what this manager's sessions held (a Redis store whose manager was cut off longer
   * than its lease): the manager must end those sessions.
   * @throws Error naming where it tried, when the store cannot be used.
   */
  open(holdingsLost?: () => void): Promise<void>;
  /** Lets go of the store's connections. */
  close(): Promise<void>;
}

/** The default store: every object in this process's memory, as the built-in classes keep it. */
export const memoryStore: ObjectStore = Object.freeze({
  location: 'memory',
  types: builtinTypes,
  sharedObject(_typeid: string, type: BuiltinTypeId, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object {
    const create = builtinTypes[type].create;
    if (!create) throw new TypeError(`${type} objects come only from iteration; they cannot be shared as such`);
    return create(args, kwargs);
  },
  async open(): Promise<void> {},
  async close(): Promise<void> {},
});
