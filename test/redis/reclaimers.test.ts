/**
 * The reclaimers of the primitives kept in Redis (src/server/store/redisPrimitiveTypes.ts), run
 * directly by a second store on the same prefix as a survivor runs them: each gives back exactly
 * what the "dead" store's sessions held, wakes nothing it should not, and running it again (a
 * survivor that died while reaping, replaced by another) changes nothing more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/server/store/redisStore';
import { parseStoreAddress, type RedisStoreAddress } from '../../src/server/store/storeUrl';
import { reclaimers } from '../../src/server/store/redisReclaimers';
import type { RedisBoundedSemaphore } from '../../src/server/store/redisSemaphores';
import type { RedisLock, RedisRLock } from '../../src/server/store/redisLocks';
import type { RedisBarrier } from '../../src/server/store/redisBarrier';
import { redisForTests } from '../helpers/redisServer';

const redis = redisForTests('reclaim');
const { skip } = redis;

/** Two stores on one prefix: `dead` stands for the manager that died, `survivor` reclaims. */
async function stores(): Promise<{ dead: RedisStore; survivor: RedisStore; plain: Redis } & AsyncDisposable> {
  const prefix = redis.prefix();
  const address = parseStoreAddress(redis.url) as RedisStoreAddress;
  const dead = new RedisStore(address, prefix);
  const survivor = new RedisStore(address, prefix);
  await dead.open();
  await survivor.open();
  const plain = new Redis(redis.url);
  return {
    dead,
    survivor,
    plain,
    async [Symbol.asyncDispose]() {
      plain.disconnect();
      await Promise.all([dead.close(), survivor.close()]);
    },
  };
}

/** Runs the reclaimer of each entry in the dead store's held index, twice over. */
async function reclaimTwice(s: { dead: RedisStore; survivor: RedisStore; plain: Redis }): Promise<string[]> {
  const entries = await s.plain.smembers(s.dead.heldIndexKey);
  for (let round = 0; round < 2; round++) {
    for (const entry of entries) {
      const [kind, objectKey] = [entry.slice(0, entry.indexOf(' ')), entry.slice(entry.indexOf(' ') + 1)];
      await reclaimers[kind]!(s.survivor, objectKey, s.dead.managerId);
    }
  }
  return entries.map((e) => e.slice(0, e.indexOf(' '))).sort();
}

const session = (sessionId: string) => ({ sessionId });

test('a dead manager\'s Lock and RLock (at any depth) are freed, once, and the survivors\' own stay held', { skip, timeout: 30_000 }, async () => {
  await using s = await stores();
  const shared = (store: RedisStore, typeid: string, type: 'Lock' | 'RLock') => store.sharedObject(typeid, type, [], {}) as RedisLock | RedisRLock;
  const [lock, rlock, kept] = [shared(s.dead, 'get_lock', 'Lock'), shared(s.dead, 'get_rlock', 'RLock'), shared(s.survivor, 'get_kept', 'Lock')];
  assert.equal(await lock.acquire(true, -1, session('s1')), true);
  for (let i = 0; i < 3; i++) assert.equal(await rlock.acquire(true, -1, session('s1')), true);
  assert.equal(await kept.acquire(true, -1, session('s1')), true, "the survivor's session s1: the same session id, another owner");
  assert.deepEqual(await reclaimTwice(s), ['lock', 'lock']);
  assert.equal(await shared(s.survivor, 'get_lock', 'Lock').locked(), false);
  assert.equal(await shared(s.survivor, 'get_rlock', 'RLock').acquire(false, -1, session('s2')), true);
  assert.equal(await kept.locked(), true);
});

test("a dead manager's permits come back, a BoundedSemaphore's never past its initial value, and only once", { skip, timeout: 30_000 }, async () => {
  await using s = await stores();
  const sem = s.dead.sharedObject('get_sem', 'BoundedSemaphore', [3], {}) as RedisBoundedSemaphore;
  const onSurvivor = s.survivor.sharedObject('get_sem', 'BoundedSemaphore', [3], {}) as RedisBoundedSemaphore;
  assert.equal(await sem.acquire(true, null, session('s1')), true);
  assert.equal(await sem.acquire(true, null, session('s1')), true);
  assert.equal(await onSurvivor.acquire(true, null, session('s1')), true);
  // A plain release by a session holding none gives one of the dead session's permits back already.
  await onSurvivor.release(1, session('s9'));
  assert.deepEqual(await reclaimTwice(s), ['sem']);
  const free = async () => {
    let n = 0;
    while (await onSurvivor.acquire(false, null, session('counter'))) n++;
    return n;
  };
  assert.equal(await free(), 2, "three permits, one still held by the survivor's session");
});

test("a barrier with a party waiting on a dead manager breaks; its reclaimer wakes the survivor's party, and is a no-op the second time", { skip, timeout: 30_000 }, async () => {
  await using s = await stores();
  const onDead = s.dead.sharedObject('get_barrier', 'Barrier', [3], {}) as RedisBarrier;
  const onSurvivor = s.survivor.sharedObject('get_barrier', 'Barrier', [3], {}) as RedisBarrier;
  const controller = new AbortController();
  // The dead manager's party: its call never ends by itself (the test withdraws it at the end).
  const dead = onDead.wait(null, { sessionId: 's1', signal: controller.signal }).catch((error: unknown) => error);
  assert.equal(await onSurvivor.__getattribute__('n_waiting'), 1);
  const party = onSurvivor.wait(20, { sessionId: 's1' });
  // Read after the wait's arrival: one store's scripts run in the order they are called.
  assert.equal(await onSurvivor.__getattribute__('n_waiting'), 2);
  assert.deepEqual(await reclaimTwice(s), ['barrier']);
  await assert.rejects(party, (e: unknown) => (e as { type?: string }).type === 'BrokenBarrierError');
  assert.equal(await onSurvivor.__getattribute__('broken'), true);
  controller.abort();
  await dead;
});
