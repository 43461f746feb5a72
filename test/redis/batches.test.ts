/**
 * The calls a manager makes on Redis in one turn go as one script call carrying each of them in
 * turn (src/server/store/redisScriptBatch.ts): this holds what that must not change. The calls
 * keep the order they were made in, each answers with its own result, an error in one does not
 * fail the others, a getter waiting on another manager is woken by a put inside a batch, and a
 * batch whose connection is lost fails every call in it with the store's ConnectionError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/server/store/redisStore';
import { parseStoreAddress, type RedisStoreAddress } from '../../src/server/store/storeUrl';
import { queueKeys, type RedisQueue } from '../../src/server/store/redisQueue';
import { PyException } from '../../src/server/exceptions';
import { redisForTests, startRedis } from '../helpers/redisServer';

const redis = redisForTests('batch');
const { skip } = redis;

async function openStore(url: string, prefix: string): Promise<RedisStore> {
  const store = new RedisStore(parseStoreAddress(url) as RedisStoreAddress, prefix);
  await store.open();
  return store;
}

const queueOf = (store: RedisStore, typeid: string): RedisQueue => store.sharedObject(typeid, 'Queue', [], {}) as RedisQueue;

/** How many script calls (EVALSHA and EVAL) Redis has served. */
async function scriptCalls(plain: Redis): Promise<number> {
  const stats = await plain.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

test('calls made in one turn go to Redis as one script call, in the order they were made, each with its own result', { skip, timeout: 20_000 }, async () => {
  const store = await openStore(redis.url, redis.prefix());
  const plain = new Redis(redis.url);
  try {
    const q = queueOf(store, 'get_q');
    const other = queueOf(store, 'get_other');
    await q.qsize();
    const before = await scriptCalls(plain);
    // One turn: two puts, two gets of what they put, a put elsewhere, and the length.
    const results = await Promise.all([q.put('a'), q.put('b'), q.get(false), other.put(1), q.get(false), q.qsize(), other.qsize()]);
    const calls = (await scriptCalls(plain)) - before;
    assert.deepEqual(results, [undefined, undefined, 'a', undefined, 'b', 0, 1]);
    assert.ok(calls <= 2, `the seven calls of one turn were ${calls} script calls in Redis`);
    // Calls of later turns are batches of their own, in order too.
    await Promise.all([q.put(1), q.put(2), q.put(3)]);
    assert.deepEqual(await Promise.all([q.get(false), q.get(false), q.get(false), q.qsize()]), [1, 2, 3, 0]);
  } finally {
    plain.disconnect();
    await store.close();
  }
});

test('an error in one call of a batch fails that call alone: the calls before and after it take effect and answer', { skip, timeout: 20_000 }, async () => {
  const prefix = redis.prefix();
  const store = await openStore(redis.url, prefix);
  const plain = new Redis(redis.url);
  try {
    const good = queueOf(store, 'get_good');
    const bad = queueOf(store, 'get_bad');
    // The bad queue's items key holds a string: Redis refuses its list commands (WRONGTYPE).
    await plain.set(queueKeys(store, 'shared:get_bad')[0], 'not a list');
    const [first, broken, last, length] = await Promise.allSettled([good.put(1), bad.put(2), good.put(3), good.qsize()]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(last.status, 'fulfilled');
    assert.deepEqual(length, { status: 'fulfilled', value: 2 });
    assert.equal(broken.status, 'rejected');
    const error = (broken as PromiseRejectedResult).reason as PyException;
    assert.ok(error instanceof PyException && error.type === 'RuntimeError' && /smQueuePut/.test(error.message) && /WRONGTYPE/.test(error.message), String(error));
    assert.deepEqual([await good.get(false), await good.get(false)], [1, 3]);
  } finally {
    plain.disconnect();
    await store.close();
  }
});

test('a getter waiting on another manager is woken by a put inside a batch', { skip, timeout: 20_000 }, async () => {
  const prefix = redis.prefix();
  const a = await openStore(redis.url, prefix);
  const b = await openStore(redis.url, prefix);
  const plain = new Redis(redis.url);
  try {
    const onA = queueOf(a, 'get_q');
    const elsewhere = queueOf(a, 'get_elsewhere');
    const onB = queueOf(b, 'get_q');
    const got = onB.get(true, 10);
    // Waiting: B has marked the queue as waited on (and tried once more after marking it).
    const mark = `${a.keyOf('shared:get_q')}:waited`;
    for (let tries = 0; tries < 400 && (await plain.exists(mark)) === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await plain.exists(mark), 1, 'the getter on B marked the queue as waited on');
    await Promise.all([elsewhere.put('x'), onA.put('woken'), elsewhere.put('y')]);
    assert.equal(await got, 'woken');
  } finally {
    plain.disconnect();
    await Promise.all([a.close(), b.close()]);
  }
});

test('Redis lost while a batch is in flight: every call of the batch fails with ConnectionError, none hangs, and calls work again once Redis is back', { skip, timeout: 30_000 }, async () => {
  const own = await startRedis();
  let restarted: Awaited<ReturnType<typeof own.restart>> | undefined;
  const store = await openStore(own.url, redis.prefix());
  const plain = new Redis(own.url).on('error', () => {});
  try {
    const q = queueOf(store, 'get_q');
    await q.put('before');
    // Redis holds every command that may write, so the batch is sent and never answered...
    await plain.client('PAUSE', 60_000, 'WRITE');
    const batch = [q.put(1), q.put(2), q.get(false), q.qsize()].map((call) => call.then(() => 'answered', (error: Error) => error));
    // ...until Redis is gone, once the batch is there, held by the pause (a blocked client).
    const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await plain.info('clients'))?.[1] ?? 0);
    for (let tries = 0; tries < 400 && (await blocked()) === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok((await blocked()) >= 1, 'the batch reached Redis and waits there');
    await own.kill();
    const outcomes = await Promise.all(batch);
    for (const outcome of outcomes) {
      assert.ok(outcome instanceof PyException && outcome.type === 'ConnectionError' && outcome.message.includes(`Redis store at ${own.url}`), String(outcome));
    }
    restarted = await own.restart();
    let answered = false;
    for (let tries = 0; tries < 200 && !answered; tries++) {
      answered = await q.put('after').then(
        () => true,
        () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)),
      );
    }
    assert.ok(answered, 'the store reconnected to Redis');
    assert.deepEqual(await Promise.all([q.get(false), q.qsize()]), ['after', 0]);
  } finally {
    plain.disconnect();
    await store.close();
    await restarted?.stop();
    await own.stop();
  }
});
