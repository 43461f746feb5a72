/**
 * Durability of the Redis store: a Redis run with `appendonly yes` and `appendfsync always` is
 * SIGKILLed while producers put numbered items through a manager, and restarted on the same port
 * and folder. The manager reconnects by itself; a put that failed meanwhile is retried by its
 * producer. At the end every acknowledged put (its call answered without an error) is in the
 * queue: Redis writes and fsyncs its append-only file before it answers, and the manager answers
 * a put only once Redis has. A put that failed may or may not be there (Redis may have run it and
 * died before answering); nothing else is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, EmptyError, RemoteError, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redisServer';
import { until } from '../helpers/until';

const skip = redisMissing();

type Queues = { get_task_queue: QueueProxy<string> };

const PRODUCERS = 4;
const ITEMS_PER_PRODUCER = 300;
/** Redis is killed once this many puts have been acknowledged: a quarter of the load. */
const KILL_AFTER = (PRODUCERS * ITEMS_PER_PRODUCER) / 4;
/** A producer gives up on an item after this long (the manager's reconnect backoff is at most 2 s). */
const RETRY_FOR_MS = 30_000;
/** The pause between two tries of one item while the manager cannot reach Redis. */
const RETRY_PAUSE_MS = 20;

/** What the producers did: the puts answered, and the tries that failed. */
interface Load {
  readonly acknowledged: Set<string>;
  readonly attempted: Set<string>;
  failures: number;
}

/** Puts `p:0` … `p:N-1` one after another, each retried (bounded) until a try is answered without error. */
async function produce(q: QueueProxy<string>, p: number, load: Load): Promise<void> {
  for (let i = 0; i < ITEMS_PER_PRODUCER; i++) {
    const item = `${p}:${i}`;
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      load.attempted.add(item);
      try {
        await q.put(item);
        load.acknowledged.add(item);
        break;
      } catch (error) {
        // Only "Redis cannot be reached" is expected here; anything else fails the test.
        if (!(error instanceof RemoteError && error.type === 'ConnectionError')) throw error;
        load.failures++;
        if (Date.now() > deadline) throw new Error(`put ${item} still failing after ${RETRY_FOR_MS} ms: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }
}

test('Redis with appendfsync always, SIGKILLed under load and restarted: 0 acknowledged puts lost', { skip, timeout: 120_000 }, async () => {
  const first = await startRedis({ extra: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  let second: RedisServer | undefined;
  try {
    // A lease far longer than Redis is away: this test is about what Redis keeps, and a restart on a
    // busy machine must not also end the producers' sessions (what leases do, tested in leases.test.ts).
    const storeLeaseMs = 60_000;
    await using manager = await startManager({ store: first.url, storePrefix: 'durability', storeLeaseMs }, (m) => m.register('get_task_queue', { shared: 'Queue' }));
    const clients = await Promise.all(Array.from({ length: PRODUCERS + 1 }, () => connect<Queues>({ address: manager.address, authkey: AUTHKEY })));
    try {
      const load: Load = { acknowledged: new Set(), attempted: new Set(), failures: 0 };
      const producing = Promise.all(clients.slice(0, PRODUCERS).map(async (client, p) => produce(await client.get_task_queue(), p, load)));
      // Producers that stop early (an unexpected error) end the wait at once; `await producing` reports why.
      let stopped = false;
      producing.then(
        () => (stopped = true),
        () => (stopped = true),
      );

      await until(`${KILL_AFTER} acknowledged puts`, () => load.acknowledged.size >= KILL_AFTER || stopped, 60_000);
      await first.kill();
      const beforeKill = load.acknowledged.size;
      second = await first.restart();
      await producing;
      assert.ok(beforeKill < PRODUCERS * ITEMS_PER_PRODUCER, 'Redis was killed while puts were still being made');
      assert.equal(load.acknowledged.size, PRODUCERS * ITEMS_PER_PRODUCER, 'every item was acknowledged in the end');

      // Read the whole queue back through the manager (now on the restarted Redis).
      const q = await clients[PRODUCERS].get_task_queue();
      const found: string[] = [];
      for (let n = 0; n <= load.attempted.size + load.failures; n++) {
        const item = await q.get({ block: false }).catch((error: unknown) => {
          if (error instanceof EmptyError) return undefined;
          throw error;
        });
        if (item === undefined) break;
        found.push(item);
      }
      const present = new Set(found);
      const lost = [...load.acknowledged].filter((item) => !present.has(item));
      assert.deepEqual(lost, [], `${lost.length} acknowledged puts lost (of ${load.acknowledged.size}; ${load.failures} tries failed while Redis was away)`);
      assert.deepEqual(
        found.filter((item) => !load.attempted.has(item)),
        [],
        'nothing in the queue that no producer put',
      );
      // Each producer's items come back in the order it put them (a retried item may come twice).
      for (let p = 0; p < PRODUCERS; p++) {
        const order = found.filter((item) => item.startsWith(`${p}:`)).map((item) => Number(item.slice(item.indexOf(':') + 1)));
        assert.ok(
          order.every((i, k) => k === 0 || i >= order[k - 1]),
          `producer ${p}'s items in order`,
        );
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  } finally {
    await second?.stop();
    await first.stop();
  }
});
