/**
 * How a surviving manager gives back what a dead manager's sessions held, by kind of holding
 * (see `redisLeases.ts`): each Redis-backed type that lets a session hold something past its
 * call (a lock, permits, a delivery in flight) names its kind here with its {@link Reclaimer}.
 */

import type { Reclaimer } from './redisLeases';
import { DELIVERY_KIND } from './redisDeliveries';
import { reclaimQueueDeliveries } from './redisQueue';
import { reclaimReferences, REFERENCE_KIND } from './redisReferences';
import { primitiveReclaimers, primitiveWithdrawers } from './redisPrimitiveTypes';

/** The reclaimers, by the kind a type writes into a manager's held index. */
export const reclaimers: Readonly<Record<string, Reclaimer>> = Object.freeze({
  [DELIVERY_KIND]: reclaimQueueDeliveries,
  // References to objects made through a client: dropped, and the object deleted if nobody else refers to it.
  [REFERENCE_KIND]: reclaimReferences,
  // Locks, permits, condition waiters, barrier parties.
  ...primitiveReclaimers,
});

/**
 * What a manager taking a session over runs on each entry of the session's held index, to give
 * up what the calls that died with the session's old manager were waiting for (SPEC 20.4.1). A
 * delivery in flight and a reference are the session's own: kept.
 */
export const withdrawers: Readonly<Record<string, Reclaimer>> = primitiveWithdrawers;
