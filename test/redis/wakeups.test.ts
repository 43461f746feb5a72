/**
 * Wake-ups across managers on one Redis: a queue's put and get publish a change only while some
 * manager has a caller waiting on that queue, so calls nobody waits for cost no message to every
 * manager; a caller waiting on another manager is still woken, even when the mark saying that
 * somebody waits is lost from Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { QueueProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';

const redis = redisForTests('w');
const skip = redis.skip;

type Queues = { get_task_queue: QueueProxy<unknown> };

function redisManager(storePrefix: string): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix }, (m) => m.register('get_task_queue', { shared: 'Queue' }));
}

/** A subscriber of the store's wake channel, recording what is published there in order. */
async function listen(prefix: string): Promise<{ seen: string[]; upTo(marker: string): Promise<string[]>; close(): void }> {
  const channel = `${prefix}:wake`;
  const subscriber = new Redis(redis.url);
  const publisher = new Redis(redis.url);
  const seen: string[] = [];
  const markers = new Map<string, () => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    seen.push(message);
    markers.get(message)?.();
  });
  await subscriber.subscribe(channel);
  return {
    seen,
    /** What was published before `marker`, which this publishes now: Redis delivers a channel's messages in order. */
    async upTo(marker: string): Promise<string[]> {
      const arrived = new Promise<void>((resolve) => markers.set(marker, resolve));
      await publisher.publish(channel, marker);
      await arrived;
      return seen.slice(0, seen.indexOf(marker));
    },
    close() {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}

test('puts and gets nobody waits for publish nothing; a put still wakes a getter waiting on another manager', { skip, timeout: 20_000 }, async () => {
  const prefix = redis.prefix();
  await using pair = await twoManagers<Queues>(redisManager, prefix);
  const wake = await listen(prefix);
  try {
    const qa = await pair.onA.get_task_queue();
    const qb = await pair.onB.get_task_queue();
    for (let i = 0; i < 3; i++) await qa.put(i);
    for (let i = 0; i < 3; i++) assert.equal(await qb.get(), i);
    assert.deepEqual(await wake.upTo('after the calls nobody waited for'), []);
    const got = qb.get({ timeout: 10 });
    await waitingOn(pair.b, 'get');
    await qa.put('from A');
    assert.equal(await got, 'from A');
  } finally {
    wake.close();
  }
});

test('a getter waiting on one manager is woken by a put through another even when the waiting mark is lost from Redis', { skip, timeout: 20_000 }, async () => {
  const prefix = redis.prefix();
  await using pair = await twoManagers<Queues>(redisManager, prefix);
  const raw = new Redis(redis.url);
  try {
    const qa = await pair.onA.get_task_queue();
    const qb = await pair.onB.get_task_queue();
    const got = qb.get({ timeout: 15 });
    await waitingOn(pair.b, 'get');
    // The mark saying that somebody waits goes (evicted, say): the put publishes nothing, and the
    // waiting manager must notice the loss by itself.
    const mark = `${prefix}:o:shared:get_task_queue:waited`;
    for (let tries = 0; (await raw.exists(mark)) === 0; tries++) {
      assert.ok(tries < 5000, `the getter on B marks ${mark}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await raw.del(mark), 1);
    await qa.put('after the mark was lost');
    assert.equal(await got, 'after the mark was lost');
  } finally {
    raw.disconnect();
  }
});
