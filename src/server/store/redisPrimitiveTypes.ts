/**
 * How a Redis store makes the synchronisation primitives it keeps in Redis (Lock, RLock,
 * Semaphore, BoundedSemaphore, Condition, Barrier) from wire arguments, which keys each writes,
 * and how a survivor gives back each kind of holding a dead manager's sessions had of them.
 */

import type { BuiltinClass } from '../builtins';
import { bindArguments } from '../calls/methodDispatch';
import { bindLockArguments, Lock, RLock, semaphoreSignature } from '../builtins/locks';
import { Condition, conditionLockArgument, notALock } from '../builtins/condition';
import { barrierArguments } from '../builtins/barrier';
import type { Reclaimer } from './redisLeases';
import type { RedisTypeFactory } from './redisTypes';
import { LOCK_HOLDING, lockKeys, reclaimLock, RedisLock, RedisLockCore, RedisRLock, withdrawLockWaiters } from './redisLocks';
import { reclaimPermits, RedisBoundedSemaphore, RedisSemaphore, SEMAPHORE_HOLDING, semaphoreKeys, withdrawPermitWaiters } from './redisSemaphores';
import { CONDITION_WAITER, conditionKeys, reclaimConditionWaiters, RedisCondition } from './redisCondition';
import { BARRIER_PARTY, barrierKeys, reclaimBarrierParties, RedisBarrier } from './redisBarrier';

/** A Lock's or RLock's factory: no arguments. */
function lockType(typeid: 'Lock' | 'RLock', Kind: typeof RedisLock | typeof RedisRLock): RedisTypeFactory {
  return {
    type: Kind as unknown as BuiltinClass,
    create(host, name, args, kwargs) {
      bindLockArguments(typeid, args, kwargs);
      return new Kind(host, name);
    },
    keys: lockKeys,
  };
}

/** A Semaphore's or BoundedSemaphore's factory: `(value=1)`. */
function semaphoreType(typeid: 'Semaphore' | 'BoundedSemaphore', Kind: typeof RedisSemaphore): RedisTypeFactory {
  return {
    type: Kind as unknown as BuiltinClass,
    create(host, name, args, kwargs) {
      const [value] = bindArguments(typeid, semaphoreSignature, args, kwargs);
      return new Kind(host, name, value);
    },
    keys: semaphoreKeys,
  };
}

/** The primitives' factories, by SyncManager typeid. */
export const primitiveTypes: Readonly<Record<'Lock' | 'RLock' | 'Semaphore' | 'BoundedSemaphore' | 'Condition' | 'Barrier', RedisTypeFactory>> = {
  Lock: lockType('Lock', RedisLock),
  RLock: lockType('RLock', RedisRLock),
  Semaphore: semaphoreType('Semaphore', RedisSemaphore),
  BoundedSemaphore: semaphoreType('BoundedSemaphore', RedisBoundedSemaphore),
  Condition: {
    type: RedisCondition as unknown as BuiltinClass,
    create(host, name, args, kwargs) {
      const lock = conditionLockArgument(args, kwargs);
      if (lock === null) return new RedisCondition(host, name);
      if (lock instanceof RedisLockCore) return new RedisCondition(host, name, lock);
      // A lock in this manager's memory (made in the server's code and registered): so is its condition.
      if (lock instanceof Lock || lock instanceof RLock) return new Condition(lock);
      throw notALock(args, kwargs);
    },
    keys: conditionKeys,
  },
  Barrier: {
    type: RedisBarrier as unknown as BuiltinClass,
    create(host, name, args, kwargs) {
      const [parties, timeout] = barrierArguments(args, kwargs);
      return new RedisBarrier(host, name, parties, timeout);
    },
    keys: barrierKeys,
  },
};

/** How a survivor gives back a dead manager's holdings of the primitives, by kind (see `redisLeases.ts`). */
export const primitiveReclaimers: Readonly<Record<string, Reclaimer>> = {
  [LOCK_HOLDING]: reclaimLock,
  [SEMAPHORE_HOLDING]: reclaimPermits,
  [CONDITION_WAITER]: reclaimConditionWaiters,
  [BARRIER_PARTY]: reclaimBarrierParties,
};

/**
 * How a manager taking a session over gives up, by kind, what the session's calls that were
 * waiting when its old manager died left behind (SPEC 20.4.1): their tickets, and what was handed
 * to them and not yet taken up. What the session holds stays held.
 */
export const primitiveWithdrawers: Readonly<Record<string, Reclaimer>> = {
  [LOCK_HOLDING]: withdrawLockWaiters,
  [SEMAPHORE_HOLDING]: withdrawPermitWaiters,
  // A condition's waiter and a barrier's party are nothing but a waiting call.
  [CONDITION_WAITER]: reclaimConditionWaiters,
  [BARRIER_PARTY]: reclaimBarrierParties,
};
