/**
 * Acknowledged gets (SPEC 20.3) on queues kept in Redis, across managers: delivery ids unique
 * over the group, a delivery settled through the manager of the session holding it, inspection
 * listing it, its visibility timeout giving it back to a getter on another manager, and a manager
 * SIGKILLed while its sessions hold deliveries: a survivor gives them back, marked redelivered.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type Delivery, type QueueProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { until } from '../helpers/until';

const redis = redisForTests('acks');
const { skip } = redis;

before(() => {
  if (!skip) buildCli();
});

type Queues = { get_task_queue: QueueProxy<number> };

function redisManager(prefix: string, leaseMs?: number, type: 'Queue' | 'PriorityQueue' = 'Queue'): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix: prefix, ...(leaseMs ? { storeLeaseMs: leaseMs } : {}) }, (m) => m.register('get_task_queue', { shared: type }));
}

/** The deliveries manager `m`'s sessions hold, as inspection lists them. */
function deliveriesOn(m: Manager): { deliveryId: string; deliveryCount: number }[] {
  return [...m.connectedSessions].flatMap((s) => s.summary().deliveries ?? []);
}

/**
 * Items 0 and 1, given back from flight, come out again in the order they were first taken, marked
 * redelivered: the first to the get `waiting` (which waited for it), the next to a get that does not
 * wait. Both are then acknowledged.
 */
async function bothBack(waiting: Promise<Delivery<number>>, queue: QueueProxy<number>): Promise<void> {
  const back = [await waiting, await queue.get({ ack: true, block: false })];
  assert.deepEqual(
    back.map((d) => [d.value, d.redelivered, d.deliveryCount]),
    [
      [0, true, 2],
      [1, true, 2],
    ],
  );
  for (const d of back) await d.ack();
}

test('two managers: delivery ids unique across both, inspection lists them, each settled through its own manager', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Queues>((p) => redisManager(p), redis.prefix());
  const qa = await pair.onA.get_task_queue();
  const qb = await pair.onB.get_task_queue();
  for (let i = 0; i < 6; i++) await qa.put(i);
  const taken = [await qa.get({ ack: true }), await qb.get({ ack: true }), await qa.get({ ack: true }), await qb.get({ ack: true })];
  assert.deepEqual(
    taken.map((d) => d.value),
    [0, 1, 2, 3],
  );
  assert.equal(new Set(taken.map((d) => d.deliveryId)).size, 4, 'delivery ids are unique across the managers');
  assert.deepEqual(
    deliveriesOn(pair.a).map((d) => d.deliveryId),
    [taken[0]!.deliveryId, taken[2]!.deliveryId],
  );
  assert.deepEqual(
    deliveriesOn(pair.b).map((d) => d.deliveryId),
    [taken[1]!.deliveryId, taken[3]!.deliveryId],
  );
  await taken[0]!.ack();
  await taken[1]!.nack();
  assert.deepEqual(
    deliveriesOn(pair.b).map((d) => d.deliveryId),
    [taken[3]!.deliveryId],
  );
  // The nacked item is at the front, for a getter on either manager.
  const again = await qa.get({ ack: true });
  assert.deepEqual([again.value, again.redelivered, again.deliveryCount], [1, true, 2]);
  await Promise.all([again.ack(), taken[2]!.ack(), taken[3]!.ack()]);
  assert.deepEqual(deliveriesOn(pair.a), []);
  assert.deepEqual(deliveriesOn(pair.b), []);
  assert.equal(await qb.qsize(), 2);
});

test('a visibility timeout set on B gives the item back to a get waiting on A', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Queues>((p) => redisManager(p), redis.prefix());
  const qa = await pair.onA.get_task_queue();
  const qb = await pair.onB.get_task_queue();
  await qa.put(7);
  const first = await qb.get({ ack: true, visibilityTimeout: 0.2 });
  const waiting = qa.get({ ack: true, timeout: 20 });
  await waitingOn(pair.a, 'get');
  const again = await waiting;
  assert.deepEqual([again.value, again.redelivered, again.deliveryCount], [7, true, 2]);
  await until('B no longer lists the expired delivery', () => deliveriesOn(pair.b).length === 0);
  await assert.rejects(first.ack(), (e: Error) => /not held by this session/.test(e.message));
  await again.ack();
});

test('a session on A closed while holding deliveries: they go back to the front in the order taken, to a getter on B', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Queues>((p) => redisManager(p), redis.prefix());
  const worker = await connect<Queues>({ address: pair.a.address, authkey: AUTHKEY, reconnect: false });
  const qw = await worker.get_task_queue();
  const qb = await pair.onB.get_task_queue();
  for (let i = 0; i < 2; i++) await qb.put(i);
  await qw.get({ ack: true });
  await qw.get({ ack: true });
  const waiting = qb.get({ ack: true, timeout: 20 });
  await waitingOn(pair.b, 'get');
  await worker.close();
  await bothBack(waiting, qb);
});

for (const type of ['Queue', 'PriorityQueue'] as const) {
  test(`a manager SIGKILLed while its session holds deliveries of a ${type}: a survivor gives them back within the lease, marked redelivered`, { skip, timeout: 60_000 }, async () => {
    const prefix = redis.prefix();
    const a = await serveProcess(['--address', '127.0.0.1:0', '--store', redis.url, '--store-prefix', prefix, '--store-lease', '2', '--register', `get_task_queue=${type}`], { SYNCMANAGER_AUTHKEY: AUTHKEY });
    try {
      await using b = await redisManager(prefix, 2000, type);
      const worker = await connect<Queues>({ address: a.address, authkey: AUTHKEY, reconnect: false });
      await using onB = await connect<Queues>({ address: b.address, authkey: AUTHKEY });
      const qb = await onB.get_task_queue();
      const qw = await worker.get_task_queue();
      for (let i = 0; i < 2; i++) await qb.put(i);
      const held = [await qw.get({ ack: true }), await qw.get({ ack: true })];
      assert.deepEqual(
        held.map((d) => d.value),
        [0, 1],
      );
      const waiting = qb.get({ ack: true, timeout: 30 });
      await waitingOn(b, 'get');
      await killServer(a);
      await worker.close().catch(() => {});
      // Nothing but A's death gives them back: its session never closed as far as Redis knows.
      await bothBack(waiting, qb);
    } finally {
      await killServer(a);
    }
  });
}

test('a delivery whose answer is too large to send is not made: the item stays at the front, not counted as delivered', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  await using m = await startManager({ store: redis.url, storePrefix: prefix, maxMessageBytes: 64 * 1024 }, (mm) => mm.register('get_task_queue', { shared: 'Queue' }));
  await using c = await connect<{ get_task_queue: QueueProxy<string> }>({ address: m.address, authkey: AUTHKEY, reconnect: false });
  const q = await c.get_task_queue();
  // Put straight into Redis, as the store keeps items (JSON text): no client message could carry it.
  const big = JSON.stringify('x'.repeat(100 * 1024));
  const plain = new Redis(redis.url);
  try {
    const key = `${prefix}:o:shared:get_task_queue`;
    await plain.rpush(`${key}:items`, big, JSON.stringify('small'));
    await assert.rejects(q.get({ ack: true }), /exceeds the message limit.*given back/);
    // The give-back runs once the answer is refused: wait for it in Redis, bounded.
    for (let tries = 0; (await plain.hlen(`${key}:inflight`)) > 0; tries++) assert.ok(tries < 1000, 'the delivery was given back');
    // Marked '#0.1': delivered 0 times (this delivery not counted), its place the first in the take order.
    assert.deepEqual(await plain.lrange(`${key}:items`, 0, -1), [`#0.1 ${big}`, JSON.stringify('small')], 'at the front, not counted');
    assert.deepEqual(deliveriesOn(m), []);
  } finally {
    plain.disconnect();
  }
});
