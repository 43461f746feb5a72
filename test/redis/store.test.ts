/**
 * The Redis store with a real redis-server: queues kept in Redis behave as the in-memory ones,
 * two managers on one Redis share a registered queue (a put through A wakes a getter waiting on
 * B), and the bad states give clear errors: Redis unreachable at start, Redis lost while
 * serving (then back), a prefix holding another version's data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, EmptyError, FullError, RemoteError, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisMissing, startRedis, type RedisServer, twoManagers, waitingOn } from '../helpers/redisServer';

const skip = redisMissing();
let redis: RedisServer;
let prefixes = 0;
/** A prefix of its own for each test, so tests never see each other's data. */
const prefix = () => `t${process.pid}-${prefixes++}`;

before(async () => {
  if (!skip) redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

type Queues = { get_task_queue: QueueProxy<unknown> };

function redisManager(storePrefix: string, options: { store?: string } = {}): Promise<Manager> {
  return startManager({ store: options.store ?? redis.url, storePrefix }, (m) => m.register('get_task_queue', { shared: 'Queue' }));
}

test('a queue kept in Redis: put, get, qsize, Empty, Full, task_done and join as in memory', { skip, timeout: 20_000 }, async () => {
  await using manager = await redisManager(prefix());
  const client = await connect({ address: manager.address, authkey: AUTHKEY });
  try {
    const q = await client.create<QueueProxy<unknown>>('Queue', 2);
    assert.equal(await q.empty(), true);
    await q.put([1, 'two', { three: 3 }]);
    await q.put(-0.0);
    assert.equal(await q.full(), true);
    assert.equal(await q.qsize(), 2);
    await assert.rejects(q.put(3, { block: false }), FullError);
    await assert.rejects(q.put(3, { timeout: 0.05 }), FullError);
    assert.deepEqual(await q.get(), [1, 'two', { three: 3 }]);
    assert.ok(Object.is(await q.get(), -0));
    await assert.rejects(q.get({ block: false }), EmptyError);
    await assert.rejects(q.get({ timeout: 0.05 }), EmptyError);
    await assert.rejects(q.get({ timeout: -1 }), (e: RemoteError) => e.type === 'ValueError');
    await q.taskDone();
    await q.taskDone();
    await q.join();
    await assert.rejects(q.taskDone(), (e: RemoteError) => e.type === 'ValueError' && /too many times/.test(e.message));
    const lifo = await client.create<QueueProxy<number>>('LifoQueue');
    for (const n of [1, 2, 3]) await lifo.put(n);
    assert.deepEqual([await lifo.get(), await lifo.get(), await lifo.get()], [3, 2, 1]);
  } finally {
    await client.close();
  }
});

test('two managers on one Redis share a registered queue: a put through A wakes a getter waiting on B', { skip, timeout: 20_000 }, async () => {
  await using pair = await twoManagers<Queues>(redisManager, prefix());
  const { b, onA, onB } = pair;
  const qa = await onA.get_task_queue();
  const qb = await onB.get_task_queue();
  const got = qb.get({ timeout: 10 });
  await waitingOn(b, 'get');
  await qa.put('from A');
  assert.equal(await got, 'from A');
  // Items put through either are got through the other, in order.
  for (let i = 0; i < 5; i++) await qb.put(i);
  const seen = [];
  for (let i = 0; i < 5; i++) seen.push(await qa.get());
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});

test('every queue kept in Redis delivers with ack: ack removes, nack gives back marked redelivered', { skip, timeout: 20_000 }, async () => {
  await using manager = await redisManager(prefix());
  const client = await connect({ address: manager.address, authkey: AUTHKEY });
  try {
    for (const typeid of ['Queue', 'JoinableQueue', 'LifoQueue', 'PriorityQueue']) {
      const q = await client.create<QueueProxy<number>>(typeid);
      await q.put(1);
      const first = await q.get({ ack: true });
      assert.deepEqual([first.value, first.redelivered, first.deliveryCount], [1, false, 1], typeid);
      assert.equal(await q.qsize(), 0, `${typeid}: a delivered item is out of the queue`);
      await first.nack();
      const again = await q.get({ ack: true });
      assert.deepEqual([again.value, again.redelivered, again.deliveryCount], [1, true, 2], typeid);
      assert.notEqual(again.deliveryId, first.deliveryId);
      await again.ack();
      assert.equal(await q.qsize(), 0, `${typeid}: an acknowledged item is gone`);
    }
  } finally {
    await client.close();
  }
});

test('a PriorityQueue kept in Redis: an item given back takes its place by priority again, keeping its count; one that cannot be ordered goes first', { skip, timeout: 20_000 }, async () => {
  await using manager = await redisManager(prefix());
  const client = await connect({ address: manager.address, authkey: AUTHKEY });
  try {
    const q = await client.create<QueueProxy<unknown>>('PriorityQueue');
    for (const n of [5, 9]) await q.put(n);
    const five = await q.get({ ack: true });
    await q.put(3);
    await q.put(7);
    await five.nack();
    assert.equal(await q.qsize(), 4);
    const order = [];
    for (let i = 0; i < 4; i++) {
      const d = await q.get({ ack: true });
      order.push([d.value, d.deliveryCount]);
      await d.ack();
    }
    assert.deepEqual(order, [
      [3, 1],
      [5, 2],
      [7, 1],
      [9, 1],
    ]);
    // A str put while an int was out cannot be ordered against it: the int comes back first, not lost.
    await q.put(1);
    const one = await q.get({ ack: true });
    await q.put('x');
    await one.nack();
    const first = await q.get({ ack: true });
    assert.deepEqual([first.value, first.deliveryCount], [1, 2]);
    assert.equal(await q.get(), 'x');
    await first.ack();
  } finally {
    await client.close();
  }
});

test('--state with a Redis store is refused as a usage error: Redis keeps the objects itself', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../src/server/cli.ts'), 'serve', '--address', '127.0.0.1:0', '--no-config', '--store', 'redis://127.0.0.1:1/0', '--state', join(__dirname, 'never-written.json')], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /--state keeps the objects of the in-memory store; a Redis store keeps them in Redis/);
});

test('a manager refuses to start when its Redis cannot be reached, naming where it tried', { skip, timeout: 20_000 }, async () => {
  const closed = await startRedis();
  const url = closed.url;
  await closed.stop();
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: url });
  await assert.rejects(manager.listen(), (e: Error) => e.message.includes(`cannot reach the Redis store at ${url}`));
  const cli = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../src/server/cli.ts'), 'serve', '--address', '127.0.0.1:0', '--no-config', '--store', url], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stderr, new RegExp(`cannot reach the Redis store at ${url.replace(/[/.]/g, '\\$&')}`));
});

for (const format of ['syncmanager-store/0', 'syncmanager-store/1']) {
  test(`a prefix holding another version's data (${format}) is refused, never mixed`, { skip, timeout: 20_000 }, async () => {
    const taken = prefix();
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    try {
      await raw.set(`${taken}:version`, format);
      const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: redis.url, storePrefix: taken });
      await assert.rejects(manager.listen(), new RegExp(`holds data in format "${format.replace('/', '\\/')}".*refusing to mix`));
    } finally {
      raw.disconnect();
    }
  });
}

test('scripts flushed from Redis while a manager serves (SCRIPT FLUSH): its next calls load them again and work', { skip, timeout: 20_000 }, async () => {
  await using manager = await redisManager(prefix());
  const client = await connect<Queues>({ address: manager.address, authkey: AUTHKEY });
  const { Redis } = await import('ioredis');
  const raw = new Redis(redis.url);
  try {
    const q = await client.get_task_queue();
    await q.put('before');
    assert.equal(await raw.script('FLUSH'), 'OK');
    await q.put('after');
    assert.deepEqual([await q.get({ block: false }), await q.get({ block: false }), await q.qsize()], ['before', 'after', 0]);
    // Calls of one turn (one batch) meeting Redis without the scripts: each is sent again on its
    // own, and answers as it would have in the batch (its reply read by its caller).
    assert.equal(await raw.script('FLUSH'), 'OK');
    const turn = await Promise.all([q.put('x'), q.put('y'), q.get({ block: false }), q.get({ block: false }), q.get({ block: false }).catch((e: RemoteError) => e.type)]);
    assert.deepEqual(turn, [null, null, 'x', 'y', 'Empty']);
  } finally {
    raw.disconnect();
    await client.close();
  }
});

test('Redis lost while serving: calls fail with a clear error, and work again once it is back', { skip, timeout: 30_000 }, async () => {
  const own = await startRedis();
  let restarted: RedisServer | undefined;
  try {
    await using manager = await redisManager(prefix(), { store: own.url });
    const client = await connect<Queues>({ address: manager.address, authkey: AUTHKEY });
    try {
      const q = await client.get_task_queue();
      await q.put('before');
      await own.stop({ keepDir: true });
      await assert.rejects(q.put('while away'), (e: RemoteError) => e.type === 'ConnectionError' && e.message.includes(`Redis store at ${own.url}`) && /reconnects/.test(e.message));
      restarted = await own.restart();
      // Bounded: the manager reconnects with a backoff of at most 2 s.
      let answered = false;
      for (let tries = 0; tries < 200 && !answered; tries++) {
        answered = await q.put('after').then(() => true, () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)));
      }
      assert.ok(answered, 'the manager reconnected to Redis');
      // This redis keeps nothing on disk: 'before' went with it; what was put since is there.
      assert.equal(await q.get({ timeout: 5 }), 'after');
    } finally {
      await client.close();
    }
  } finally {
    await restarted?.stop();
    await own.stop();
  }
});

test('the client library is not loaded by a manager without a Redis store', { timeout: 20_000 }, () => {
  const script = `
    const { Manager } = require(${JSON.stringify(join(__dirname, '../../src/server'))});
    const m = new Manager({ address: '127.0.0.1:0', authkey: 'k' });
    m.listen().then(async () => {
      await m.shutdown();
      const loaded = Object.keys(require.cache).filter((f) => f.includes('ioredis'));
      process.stdout.write(JSON.stringify(loaded));
    });`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, '[]');
});

test('a manager started in a child process (start()) keeps its objects in the same Redis', { skip, timeout: 30_000 }, async () => {
  const shared = prefix();
  const child = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: redis.url, storePrefix: shared }).register('get_task_queue', { shared: 'Queue' });
  await child.start();
  try {
    await using here = await redisManager(shared);
    const onChild = await connect<Queues>({ address: child.address, authkey: AUTHKEY });
    const onHere = await connect<Queues>({ address: here.address, authkey: AUTHKEY });
    try {
      await (await onChild.get_task_queue()).put('through the child');
      assert.equal(await (await onHere.get_task_queue()).get({ timeout: 5 }), 'through the child');
    } finally {
      await onChild.close();
      await onHere.close();
    }
  } finally {
    await child.shutdown();
  }
});
