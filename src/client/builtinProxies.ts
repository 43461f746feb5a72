/**
 * Typed proxies for the built-in types. Methods take TypeScript names and options objects and call
 * the Python-named remote methods; every method returns a promise. Timeouts are in seconds, as in
 * Python and on the wire. The classes live in `proxies/`, one file per type; this module gathers
 * them and maps each built-in type name (a token's `builtin`) to its class.
 */

import type { BaseProxy } from './baseProxy';
import { ArrayProxy } from './proxies/array';
import { BarrierProxy } from './proxies/barrier';
import { ConditionProxy } from './proxies/condition';
import { DictProxy } from './proxies/dict';
import { EventProxy } from './proxies/event';
import { IteratorProxy } from './proxies/iterator';
import { ListProxy } from './proxies/list';
import { LockProxy, RLockProxy, SemaphoreProxy } from './proxies/locks';
import { NamespaceProxy } from './proxies/namespace';
import { QueueProxy } from './proxies/queue';
import { SetProxy } from './proxies/set';
import { ValueProxy } from './proxies/value';

export { ArrayProxy } from './proxies/array';
export { BarrierProxy } from './proxies/barrier';
export { ConditionProxy } from './proxies/condition';
export { DictProxy } from './proxies/dict';
export { EventProxy } from './proxies/event';
export { IteratorProxy } from './proxies/iterator';
export { ListProxy } from './proxies/list';
export { AcquirableProxy, LockProxy, RLockProxy, SemaphoreProxy } from './proxies/locks';
export type { AcquireOptions, Held } from './proxies/locks';
export { NamespaceProxy } from './proxies/namespace';
export type { WaitOptions } from './proxies/options';
export { QueueProxy } from './proxies/queue';
export type { AckGetOptions, BlockingOptions, PlainGetOptions } from './proxies/queue';
export { SetProxy } from './proxies/set';
export type { SetItems } from './proxies/set';
export { ValueProxy } from './proxies/value';

/**
 * The typed proxy class for each built-in type name. Several types share one proxy class, as in
 * Python: every queue kind (JoinableQueue's builtin is Queue) is a QueueProxy, a BoundedSemaphore
 * a SemaphoreProxy.
 */
export const builtinProxyClasses: Readonly<Record<string, new (...args: ConstructorParameters<typeof BaseProxy>) => BaseProxy>> = {
  Queue: QueueProxy,
  LifoQueue: QueueProxy,
  PriorityQueue: QueueProxy,
  dict: DictProxy,
  list: ListProxy,
  set: SetProxy,
  Namespace: NamespaceProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
  Lock: LockProxy,
  RLock: RLockProxy,
  Semaphore: SemaphoreProxy,
  BoundedSemaphore: SemaphoreProxy,
  Condition: ConditionProxy,
  Event: EventProxy,
  Barrier: BarrierProxy,
  Iterator: IteratorProxy,
};
