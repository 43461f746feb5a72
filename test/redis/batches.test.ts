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

/** A script call as a test makes it: its script, the queue it names, and its arguments but the keys and channel. */
type QueueCall = { script: 'smQueuePut'; queue: string; maxsize: number; item: string } | { script: 'smQueueTake'; queue: string; end: 'L' | 'R' };

/** Makes `call` on `store` (its queue's keys and channel filled in); its raw reply, or the error's text. */
function runCall(store: RedisStore, call: QueueCall): Promise<unknown> {
  const [items, unfinished] = queueKeys(store, call.queue);
  const key = store.keyOf(call.queue);
  const made =
    call.script === 'smQueuePut'
      ? store.run(call.script, [items, unfinished], [call.maxsize, call.item, store.channel, key])
      : store.run(call.script, [items, store.deliveryIdsKey], [call.end, store.channel, key]);
  return made.then(
    (reply) => reply,
    // Redis's error alone: a script's text tells where it failed, which differs between a batch and a script of its own.
    (error: Error) => `error: ${error.message.replace(/^.* refused \w+: /, '').replace(/ script: .*$/, '')}`,
  );
}

/** Each named queue's items and unfinished count as Redis holds them. */
async function queueStates(plain: Redis, store: RedisStore, queues: readonly string[]): Promise<unknown[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const [items, unfinished] = queueKeys(store, queue);
      const type = await plain.type(items);
      return [type === 'list' ? await plain.lrange(items, 0, -1) : type, await plain.get(unfinished)];
    }),
  );
}

/** How many times Redis ran `command` (from scripts included). */
async function commandCalls(plain: Redis, command: string): Promise<number> {
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await plain.info('commandstats'))?.[1] ?? 0);
}

/**
 * Makes `calls` twice on fresh prefixes set up by `setUp`: all in one turn (a batch, its runs
 * joined), then one by one (each a script of its own); each call must answer the same, and the
 * queues end the same.
 */
async function sameAsOneByOne(calls: readonly QueueCall[], setUp: (store: RedisStore, plain: Redis) => Promise<void>): Promise<{ replies: unknown[]; rpush: number; lrange: number }> {
  const queues = [...new Set(calls.map((call) => call.queue))];
  const together = await openStore(redis.url, redis.prefix());
  const alone = await openStore(redis.url, redis.prefix());
  const plain = new Redis(redis.url);
  try {
    await setUp(together, plain);
    await setUp(alone, plain);
    const [rpush, lrange] = [await commandCalls(plain, 'rpush'), await commandCalls(plain, 'lrange')];
    const replies = await Promise.all(calls.map((call) => runCall(together, call)));
    const counts = { rpush: (await commandCalls(plain, 'rpush')) - rpush, lrange: (await commandCalls(plain, 'lrange')) - lrange };
    const oneByOne: unknown[] = [];
    for (const call of calls) oneByOne.push(await runCall(alone, call));
    assert.deepEqual(replies, oneByOne, 'each call of the batch answers as it does alone');
    assert.deepEqual(await queueStates(plain, together, queues), await queueStates(plain, alone, queues), 'the queues end the same');
    return { replies, ...counts };
  } finally {
    plain.disconnect();
    await Promise.all([together.close(), alone.close()]);
  }
}

const puts = (queue: string, items: readonly string[], maxsize = 0): QueueCall[] => items.map((item) => ({ script: 'smQueuePut', queue, maxsize, item }));
const takes = (queue: string, count: number, end: 'L' | 'R' = 'L'): QueueCall[] => Array.from({ length: count }, () => ({ script: 'smQueueTake', queue, end }));
const nothing = async (): Promise<void> => {};

test('puts then gets on one queue in one turn go as one run each, every call answering as it would alone', { skip, timeout: 20_000 }, async () => {
  const items = Array.from({ length: 40 }, (_, i) => JSON.stringify(`item ${i}`));
  const { replies, rpush, lrange } = await sameAsOneByOne([...puts('q', items), ...takes('q', 45)], nothing);
  // One RPUSH for the 40 puts and one LRANGE for the 45 gets, where each call alone makes its own.
  assert.deepEqual([rpush, lrange], [1, 1]);
  assert.deepEqual(replies[0], [1, 1, 1]);
  assert.deepEqual(replies[39], [1, 40, 40]);
  // A get answers its item's place in the take order too (the first take of this prefix: 1).
  assert.deepEqual(replies[40], [items[0], 39, 1]);
  assert.deepEqual(replies[84], [null, 0]);
});

test('a run of more puts than Lua unpacks at once puts every item, in order', { skip, timeout: 20_000 }, async () => {
  const items = Array.from({ length: 2500 }, (_, i) => String(i));
  const { replies } = await sameAsOneByOne([...puts('long', items), ...takes('long', 3)], nothing);
  assert.deepEqual(replies.slice(2499), [[1, 2500, 2500], ['0', 2499, 1], ['1', 2498, 2], ['2', 2497, 3]]);
});

test('a getter waiting on another manager is woken by a run of puts, and a putter waiting for room by a run of gets', { skip, timeout: 20_000 }, async () => {
  const prefix = redis.prefix();
  const a = await openStore(redis.url, prefix);
  const b = await openStore(redis.url, prefix);
  const plain = new Redis(redis.url);
  const markedOnB = async (name: string): Promise<void> => {
    const mark = `${a.keyOf(name)}:waited`;
    for (let tries = 0; tries < 400 && (await plain.exists(mark)) === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await plain.exists(mark), 1, `B marked ${name} as waited on`);
  };
  try {
    const got = queueOf(b, 'get_q').get(true, 10);
    await markedOnB('shared:get_q');
    const onA = queueOf(a, 'get_q');
    await Promise.all([onA.put('woken'), onA.put('second'), onA.put('third')]);
    assert.equal(await got, 'woken');
    const boundedOnA = a.sharedObject('get_bounded', 'Queue', [2], {}) as RedisQueue;
    await Promise.all([boundedOnA.put(1), boundedOnA.put(2)]);
    const put = (b.sharedObject('get_bounded', 'Queue', [2], {}) as RedisQueue).put(3, true, 10);
    await markedOnB('shared:get_bounded');
    assert.deepEqual(await Promise.all([boundedOnA.get(false), boundedOnA.get(false)]), [1, 2]);
    await put;
    assert.equal(await boundedOnA.get(false), 3);
  } finally {
    plain.disconnect();
    await Promise.all([a.close(), b.close()]);
  }
});

test('a bounded queue that fills in the middle of a run of puts: the puts past its maxsize answer full, as each would alone', { skip, timeout: 20_000 }, async () => {
  const setUp = async (store: RedisStore): Promise<void> => void (await runCall(store, { script: 'smQueuePut', queue: 'bounded', maxsize: 5, item: '"first"' }));
  const { replies } = await sameAsOneByOne([...puts('bounded', ['1', '2', '3', '4', '5', '6'], 5), ...takes('bounded', 2), ...puts('bounded', ['7', '8', '9'], 5)], setUp);
  assert.deepEqual(replies.slice(0, 6), [[1, 2, 2], [1, 3, 3], [1, 4, 4], [1, 5, 5], [0, 5, 5], [0, 5, 5]]);
  assert.deepEqual(replies.slice(8), [[1, 4, 6], [1, 5, 7], [0, 5, 7]]);
  // Already full: no put of the run goes in.
  await sameAsOneByOne(puts('bounded', ['1', '2', '3', '4', '5', '6', '7'], 5), setUp);
});

test('LIFO gets in a run take the last item first; items that came back from a delivery are taken unmarked', { skip, timeout: 20_000 }, async () => {
  const setUp = async (store: RedisStore, plain: Redis): Promise<void> => void (await plain.rpush(queueKeys(store, 'lifo')[0], '"a"', '#2 "b"', '"c"', '#1 {"d": 1}'));
  const { replies } = await sameAsOneByOne([...takes('lifo', 3, 'R'), ...puts('lifo', ['"e"', '"f"']), ...takes('lifo', 4, 'R')], setUp);
  // Marks without a place: each take gives the item the next place.
  assert.deepEqual(replies, [['{"d": 1}', 3, 1], ['"c"', 2, 2], ['"b"', 1, 3], [1, 2, 1], [1, 3, 2], ['"f"', 2, 4], ['"e"', 1, 5], ['"a"', 0, 6], [null, 0]]);
  await sameAsOneByOne(takes('lifo', 6), setUp);
  // Texts that hold what a mark or the run's separator looks like, inside a JSON string: taken as they are.
  const tricky = ['"#5 not a mark"', '#3 "\\u001f#4 x"', '"a\\u001f#1 b"', '{"#2 ": 1}', '#1.7 "\\u001f#4.2 y"'];
  const { replies: trickyReplies } = await sameAsOneByOne(takes('tricky', 6), async (store, plain) => void (await plain.rpush(queueKeys(store, 'tricky')[0], ...tricky)));
  // An item given back with its place keeps it: the others take the next places (the first of this prefix: 1).
  assert.deepEqual(trickyReplies, [['"#5 not a mark"', 4, 1], ['"\\u001f#4 x"', 3, 2], ['"a\\u001f#1 b"', 2, 3], ['{"#2 ": 1}', 1, 4], ['"\\u001f#4.2 y"', 0, 7], [null, 0]]);
});

test('a run on a key of another type fails each of its calls with the error, and the calls around it answer', { skip, timeout: 20_000 }, async () => {
  const setUp = async (store: RedisStore, plain: Redis): Promise<void> => {
    await plain.set(queueKeys(store, 'bad')[0], 'not a list');
    await plain.set(queueKeys(store, 'bad count')[1], 'not a number');
  };
  const calls = [...puts('good', ['1', '2']), ...puts('bad', ['3', '4']), ...takes('bad', 2), ...puts('bad count', ['5', '6']), ...puts('good', ['7']), ...takes('good', 3)];
  const { replies } = await sameAsOneByOne(calls, setUp);
  for (const failed of replies.slice(2, 8)) assert.match(String(failed), /^error: .*(WRONGTYPE|not an integer)/);
  assert.deepEqual(replies.slice(8), [[1, 3, 3], ['1', 2, 1], ['2', 1, 2], ['7', 0, 3]]);
});

test("a JoinableQueue's unfinished count follows puts and gets made in runs, and join returns once each task is done", { skip, timeout: 20_000 }, async () => {
  const store = await openStore(redis.url, redis.prefix());
  try {
    const q = store.sharedObject('joinable', 'JoinableQueue', [], {}) as RedisQueue & { task_done(): Promise<void>; join(): Promise<void> };
    await Promise.all(Array.from({ length: 10 }, (_, i) => q.put(i)));
    assert.equal(q.describeState().details.unfinishedTasks, 10);
    assert.deepEqual(await Promise.all(Array.from({ length: 10 }, () => q.get(false))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(await q.qsize(), 0);
    let joined = false;
    const join = q.join().then(() => (joined = true));
    await Promise.all(Array.from({ length: 9 }, () => q.task_done()));
    assert.equal(joined, false);
    await q.task_done();
    await join;
    assert.equal(q.describeState().details.unfinishedTasks, 0);
  } finally {
    await store.close();
  }
});
