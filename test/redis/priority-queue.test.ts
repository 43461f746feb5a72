/**
 * PriorityQueue kept in Redis (its heap whole, see src/server/store/redisPriorityQueue.ts): the
 * same order, results and errors as the in-memory PriorityQueue, the heap in Redis (a second
 * manager sees it), a put through A waking a getter waiting on B, and concurrent puts through two
 * managers losing nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, EmptyError, FullError, RemoteError, tuple, type QueueProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';

const redis = redisForTests('pq');
const { skip, prefix } = redis;

type Shared = { get_priority_queue: QueueProxy<unknown> };

function manager(storePrefix: string | undefined): Promise<Manager> {
  return startManager(storePrefix === undefined ? {} : { store: redis.url, storePrefix }, (m) => m.register('get_priority_queue', { shared: 'PriorityQueue', args: [3] }));
}

/** The same calls on a registered PriorityQueue(3), with what each answered (a value or an error's type). */
async function script(m: Manager): Promise<unknown[]> {
  const client = await connect<Shared>({ address: m.address, authkey: AUTHKEY });
  const seen: unknown[] = [];
  const note = (p: Promise<unknown>) => p.then((v) => seen.push(v), (e: RemoteError) => seen.push(`${e.type}: ${e.message.replace(/ \(\w+\(\) on .*\)$/, '')}`));
  try {
    const q = await client.get_priority_queue();
    await note(q.put(tuple<unknown>(2, 'b')));
    await note(q.put(tuple<unknown>(1, 'z')));
    await note(q.put(tuple<unknown>(2, 'a')));
    await note(q.full());
    await note(q.put(tuple<unknown>(0, 'x'), { block: false }));
    await note(q.get());
    await note(q.put('not a tuple'));
    await note(q.qsize());
    await note(q.get());
    await note(q.get());
    await note(q.get({ block: false }));
    await note(q.taskDone());
    await note(q.taskDone());
    await note(q.taskDone());
    await note(q.taskDone());
    await note(q.join());
  } finally {
    await client.close();
  }
  return seen;
}

test('a PriorityQueue kept in Redis answers as the in-memory one: order, Full, Empty, an unorderable item, task_done', { skip, timeout: 30_000 }, async () => {
  await using inMemory = await manager(undefined);
  await using inRedis = await manager(prefix());
  const expected = await script(inMemory);
  assert.deepEqual(expected[5], tuple<unknown>(1, 'z'));
  assert.match(String(expected[6]), /TypeError: '<' not supported/);
  assert.deepEqual(await script(inRedis), expected);
});

test('a PriorityQueue kept in Redis is shared by two managers: a put through A wakes a getter on B, in priority order', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const qa = await onA.get_priority_queue();
  const qb = await onB.get_priority_queue();
  const got = qb.get({ timeout: 10 });
  await waitingOn(b, 'get');
  await qa.put(5);
  assert.equal(await got, 5);
  await qa.put(3);
  await qa.put(1);
  await qb.put(2);
  assert.equal(await qb.qsize(), 3);
  await assert.rejects(qa.put(9, { block: false }), FullError);
  assert.deepEqual([await qb.get(), await qa.get(), await qb.get()], [1, 2, 3]);
  await assert.rejects(qa.get({ block: false }), EmptyError);
});

test('concurrent puts through two managers on one PriorityQueue lose nothing and come out in order', { skip, timeout: 60_000 }, async () => {
  const shared = prefix();
  await using a = await startManager({ store: redis.url, storePrefix: shared }, (m) => m.register('get_priority_queue', { shared: 'PriorityQueue' }));
  await using b = await startManager({ store: redis.url, storePrefix: shared }, (m) => m.register('get_priority_queue', { shared: 'PriorityQueue' }));
  const onA = await connect<Shared>({ address: a.address, authkey: AUTHKEY });
  const onB = await connect<Shared>({ address: b.address, authkey: AUTHKEY });
  try {
    const qa = await onA.get_priority_queue();
    const qb = await onB.get_priority_queue();
    const n = 100;
    await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? qa : qb).put(n - i)));
    assert.equal(await qa.qsize(), n);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(await (i % 2 ? qb : qa).get({ block: false }));
    assert.deepEqual(out, Array.from({ length: n }, (_, i) => i + 1));
  } finally {
    await onA.close();
    await onB.close();
  }
});
