/**
 * A resumable session holds a delivery and a lock through manager A. A is cut off from Redis
 * (and from the session's client) longer than its lease: manager B takes the session over, and
 * the client holds both there. Then the session's resumption window passes on A, which does not
 * know yet that it lost the session: it ends it, and gives back what the session held, kept
 * until Redis is back. Those give-backs must not be made: the session's holdings are the client's
 * on B now (the same owner id in Redis), and given back they would be had twice: the item got
 * again by another worker while the client works on it, the lock taken while the client holds it.
 * Checked in each give-back's own script, as a put-back is (give-back-taken-over.test.ts). The
 * same when A is on Redis as the window passes, its lease lapsed but not renewed yet (the lapse
 * made here by deleting A's lease key, as a long pause would).
 *
 * And a resumable session that ends while Redis is away, on a manager that keeps it, has its
 * deliveries given back once Redis is back, not only once its lease lapses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type LockProxy, type QueueProxy, type SemaphoreProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';

const redis = redisForTests('endtakenover');
const { skip } = redis;

/** Each manager's registration: the task queue, kept in Redis, that every test's session takes from. */
const shared = (m: { register(typeid: string, options: { shared: 'Queue' }): void }) => m.register('get_task_queue', { shared: 'Queue' });

/** The session's resumption window: long enough for B to take it over once A's lease lapsed, short enough to pass on A while A is cut off. */
const WINDOW_MS = 4000;

/**
 * A resumable client that reaches A at `addressOfA` first and B after it, holding a delivery of
 * item 7 and a lock; and another client of B, to see what B's clients could take.
 */
async function aSessionHolding(addressOfA: string, addressOfB: string) {
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({
    address: `${addressOfA},${addressOfB}`,
    authkey: AUTHKEY,
    resume: { withinMs: WINDOW_MS },
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxMs: 60_000 },
  });
  const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: addressOfB, authkey: AUTHKEY, reconnect: false });
  const tasks = await client.get_task_queue();
  const lock = await client.create<LockProxy>('Lock');
  await tasks.put(7);
  const delivery = await tasks.get({ ack: true });
  assert.equal(delivery.value, 7);
  assert.equal(await lock.acquire(), true);
  return {
    client,
    other,
    // Kept to the end, as a program using the queue would: a proxy let go of may be released.
    tasks,
    lock,
    delivery,
    async [Symbol.asyncDispose]() {
      await other.close();
      await client.close();
    },
  };
}

test("a session taken over by another manager, whose window then passes on its first manager cut off from Redis, keeps its delivery and its lock: the first manager's give-backs are not made", { skip, timeout: 90_000 }, async () => {
  const prefix = redis.prefix();
  const store = new URL(redis.url);
  await using storeRelay = await startRelay(`${store.hostname}:${store.port}`);
  const logA: string[] = [];
  await using a = await startManager({ store: `redis://${storeRelay.address}`, storePrefix: prefix, storeLeaseMs: 1000, log: (line) => logA.push(line) }, shared);
  await using b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 1000 }, shared);
  await using relayA = await startRelay(a.address);
  const plain = new Redis(redis.url);
  await using _plain = { [Symbol.asyncDispose]: async () => plain.disconnect() };
  await using session = await aSessionHolding(relayA.address, b.address);
  const { client, other, lock, delivery } = session;
  const items = `${prefix}:o:shared:get_task_queue:items`;
  const inFlight = `${prefix}:o:shared:get_task_queue:inflight`;
  // A is cut off from Redis and from the client: once A's lease lapses, the client resumes on B.
  const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
  storeRelay.cut();
  relayA.cut();
  assert.equal((await restored).resumed, true, 'the session was resumed on B');
  // The window passes on A, still cut off: it ends the session, its give-back kept until Redis is back.
  await eventually("A ended the session and keeps its give-back", async () => logA.some((line) => /giving back the deliveries of .* an ended session held failed/.test(line)), (kept) => kept, 30_000);
  storeRelay.mend();
  // A back on Redis finds its lease lapsed; a call through A after that runs after the give-backs A made.
  await eventually('A found its lease lapsed', async () => logA.some((line) => /lease ran out/.test(line)), (found) => found, 20_000);
  await eventually('no give-back waits on A', async () => logA.some((line) => /no give-back waits for Redis any more/.test(line)), (done) => done, 20_000);
  await using later = await connect<{ get_task_queue: QueueProxy<number> }>({ address: a.address, authkey: AUTHKEY, reconnect: false });
  await eventually('A serves again', () => later.get_task_queue().then((q) => q.qsize()).catch(() => -1), (n) => n >= 0, 20_000);
  assert.equal(await plain.llen(items), 0, 'the item the client holds on B is not in the queue again');
  assert.equal(await plain.hlen(inFlight), 1, 'its delivery is still in flight');
  assert.ok(logA.some((line) => /is not given back: another manager took its session over/.test(line)), 'A said why it did not give the deliveries back');
  assert.equal(await other.callById(lock.id, 'acquire', [false]), false, 'the lock the client holds on B is not free');
  await delivery.ack();
  await lock.unlock();
  assert.equal(await other.callById(lock.id, 'acquire', [false]), true, 'released by its holder, the lock is free');
});

test("a session taken over by another manager while its first manager, on Redis, has not found its lease lapsed yet keeps its delivery, its lock and its permit when its window passes on the first", { skip, timeout: 90_000 }, async () => {
  const prefix = redis.prefix();
  const logA: string[] = [];
  const plain = new Redis(redis.url);
  await using _plain = { [Symbol.asyncDispose]: async () => plain.disconnect() };
  // A renews its lease every 20 s: it finds the lapse made below only well after the session's window passed on it.
  await using a = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 60_000, log: (line) => logA.push(line) }, shared);
  const [aId] = await plain.smembers(`${prefix}:managers`);
  await using b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 1000 }, shared);
  await using relayA = await startRelay(a.address);
  await using session = await aSessionHolding(relayA.address, b.address);
  const { client, other, lock, delivery } = session;
  const permits = await client.create<SemaphoreProxy>('Semaphore', 1);
  assert.equal(await permits.acquire(), true);
  const items = `${prefix}:o:shared:get_task_queue:items`;
  const inFlight = `${prefix}:o:shared:get_task_queue:inflight`;
  // A's lease lapses (deleted) and the client loses A: it resumes on B.
  const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
  await plain.del(`${prefix}:m:${aId}`);
  relayA.cut();
  assert.equal((await restored).resumed, true, 'the session was resumed on B');
  // The window passes on A: it ends the session, giving back at once what it held.
  await eventually('A ended the session', async () => logA.some((line) => /not resumed in time/.test(line)), (ended) => ended, 30_000);
  // A call through A runs after those give-backs (one connection to Redis, in order).
  await using later = await connect<{ get_task_queue: QueueProxy<number> }>({ address: a.address, authkey: AUTHKEY, reconnect: false });
  const lockFree = await other.callById(lock.id, 'acquire', [false]);
  const permitFree = await other.callById(permits.id, 'acquire', [false]);
  assert.equal(await (await later.get_task_queue()).qsize(), 0, `the item the client holds on B is not in the queue again (lock taken by another: ${String(lockFree)})`);
  assert.equal(logA.some((line) => /lease ran out/.test(line)), false, 'A has not found its lease lapsed meanwhile');
  assert.equal(await plain.llen(items), 0);
  assert.equal(await plain.hlen(inFlight), 1, 'its delivery is still in flight');
  assert.equal(lockFree, false, 'the lock the client holds on B is not free');
  assert.equal(permitFree, false, 'nor the permit it holds there');
  await delivery.ack();
  await lock.unlock();
  await permits.release();
  assert.equal(await other.callById(lock.id, 'acquire', [false]), true, 'released by its holder, the lock is free');
});

test('a resumable session that ends while Redis is away has its deliveries given back once Redis is back, not once its lease lapses', { skip, timeout: 90_000 }, async () => {
  const prefix = redis.prefix();
  const store = new URL(redis.url);
  await using storeRelay = await startRelay(`${store.hostname}:${store.port}`);
  const log: string[] = [];
  await using manager = await startManager({ store: `redis://${storeRelay.address}`, storePrefix: prefix, log: (line) => log.push(line) }, shared);
  const plain = new Redis(redis.url);
  await using _plain = { [Symbol.asyncDispose]: async () => plain.disconnect() };
  // A window of a minute: its session lease lapses a minute after its end at the earliest.
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: manager.address, authkey: AUTHKEY, resume: { withinMs: 60_000 }, reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxMs: 60_000 } });
  const tasks = await client.get_task_queue();
  await tasks.put(7);
  assert.equal((await tasks.get({ ack: true })).value, 7);
  storeRelay.cut();
  await client.close();
  await eventually('the give-back kept until Redis is back', async () => log.some((line) => /giving back the deliveries of .* an ended session held failed/.test(line)), (kept) => kept, 20_000);
  storeRelay.mend();
  await eventually('no give-back waits any more', async () => log.some((line) => /no give-back waits for Redis any more/.test(line)), (done) => done, 20_000);
  assert.equal(await plain.lrange(`${prefix}:o:shared:get_task_queue:items`, 0, -1).then((items) => items.length), 1, 'the item is back in the queue');
});

test('a delivery held by a session another manager took over is acknowledged there after the program released its queue proxy, as on the manager that made it', { skip, timeout: 90_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  await using _plain = { [Symbol.asyncDispose]: async () => plain.disconnect() };
  await using a = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 60_000 }, shared);
  const [aId] = await plain.smembers(`${prefix}:managers`);
  await using b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 1000 }, shared);
  await using relayA = await startRelay(a.address);
  await using session = await aSessionHolding(relayA.address, b.address);
  const { client, delivery } = session;
  const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
  await plain.del(`${prefix}:m:${aId}`);
  relayA.cut();
  assert.equal((await restored).resumed, true, 'the session was resumed on B');
  // The program is done with the queue's proxy (released, as a collected one is); the delivery it holds is not settled yet.
  await session.tasks.release();
  await delivery.ack();
  assert.equal(await plain.hlen(`${prefix}:o:shared:get_task_queue:inflight`), 0, 'acknowledged: no longer in flight');
  assert.equal(await plain.llen(`${prefix}:o:shared:get_task_queue:items`), 0, 'and not back in the queue');
});
