/**
 * The synchronisation primitives kept in Redis, shared by two managers on one Redis and prefix:
 * a change through manager A wakes a caller waiting on manager B.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';

const redis = redisForTests('prim');
const { skip, prefix } = redis;

type Shared = { get_event: EventProxy };

function manager(storePrefix: string): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix }, (m) => m.register('get_event', { shared: 'Event' }));
}

test('an Event kept in Redis: a set through A wakes waits on B, even when A clears it at once; the flag is seen from both', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const ea = await onA.get_event();
  const eb = await onB.get_event();
  assert.equal(await eb.wait({ timeout: 0.05 }), false);
  const waits = [eb.wait(), eb.wait({ timeout: 20 })];
  await waitingOn(b, 'wait', 2);
  // Set and cleared at once: the waiters were woken by the set and answer True, as in memory.
  await Promise.all([ea.set(), ea.clear()]);
  assert.deepEqual(await Promise.all(waits), [true, true]);
  assert.equal(await eb.isSet(), false);
  await eb.set();
  assert.equal(await ea.isSet(), true);
  assert.equal(await ea.wait({ timeout: 0 }), true);
});
