/**
 * The built-in types a Redis store keeps in Redis, by SyncManager typeid: how each is made from
 * wire arguments and which keys it writes. The typeids missing here stay in the manager's own
 * memory even with a Redis store (README, "Scaling out").
 */

import type { BuiltinClass, BuiltinTypeId } from '../builtins';
import { bindArguments } from '../calls/methodDispatch';
import { queueConstructorSignature } from '../builtins/queue';
import type { RedisObjectHost } from './redisStore';
import { queueKeys, RedisLifoQueue, RedisQueue } from './redisQueue';
import { createEvent } from '../builtins/event';
import { eventKeys, RedisEvent } from './redisEvent';
import { priorityQueueKeys, RedisPriorityQueue } from './redisPriorityQueue';
import { wholeTypes } from './redisWholeObjects';
import { primitiveTypes } from './redisPrimitiveTypes';

/** How a Redis store makes the objects of one built-in type. */
export interface RedisTypeFactory {
  readonly type: BuiltinClass;
  /** An object named `name` (its keys under `host.keyOf(name)`), from wire arguments. */
  create(host: RedisObjectHost, name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): object;
  /** The keys an object named `name` writes, to delete once it is gone. */
  keys(host: RedisObjectHost, name: string): string[];
}

function queueType(typeid: string, Kind: typeof RedisQueue, keys: (host: RedisObjectHost, name: string) => string[] = queueKeys): RedisTypeFactory {
  return {
    type: Kind,
    create(host, name, args, kwargs) {
      const [maxsize] = bindArguments(typeid, queueConstructorSignature, args, kwargs);
      return new Kind(host, name, maxsize);
    },
    keys: (host, name) => keys(host, name),
  };
}

/** The types kept in Redis. */
export const redisBuiltinTypes: Readonly<Partial<Record<BuiltinTypeId, RedisTypeFactory>>> = Object.freeze({
  Queue: queueType('Queue', RedisQueue),
  JoinableQueue: queueType('Queue', RedisQueue),
  LifoQueue: queueType('LifoQueue', RedisLifoQueue),
  PriorityQueue: queueType('PriorityQueue', RedisPriorityQueue, priorityQueueKeys),
  Event: {
    type: RedisEvent as unknown as BuiltinClass,
    create(host, name, args, kwargs) {
      createEvent(args, kwargs); // Checks the arguments as the in-memory Event does: none.
      return new RedisEvent(host, name);
    },
    keys: (host, name) => eventKeys(host, name),
  },
  ...wholeTypes,
  // Lock, RLock, Semaphore, BoundedSemaphore, Condition and Barrier.
  ...primitiveTypes,
});
