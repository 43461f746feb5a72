/**
 * An item a get gives back (its client left before the answer was sent) that Redis refuses for
 * now must not be lost: out of memory under maxmemory (OOM), a replica after a failover
 * (READONLY), busy with a long script (BUSY), loading its data (LOADING). The manager keeps the
 * give-back and makes it again until Redis takes it. Here a relay between the manager and Redis
 * holds the give-back while Redis is made to run out of memory (maxmemory 1, noeviction), so
 * Redis refuses it; once maxmemory is lifted, the item comes back. A refusal Redis will repeat
 * however often it is asked (a key of another type) gives up, and says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisForTests } from '../helpers/redisServer';
import { eventually } from '../helpers/until';
import { drainQueue } from '../helpers/giveBackOrder';
import { leftWithGetsHeldInRedis } from '../helpers/leftWithGets';

const redis = redisForTests('givebackrefused');
const { skip } = redis;

const ITEMS = ['item-a', 'item-b', 'item-c', 'item-d'];

for (const typeid of ['Queue', 'PriorityQueue'] as const) {
  test(`an item of a ${typeid} given back while Redis refuses writes for want of memory (OOM) is given back once Redis takes it`, { skip, timeout: 60_000 }, async () => {
    await using s = await leftWithGetsHeldInRedis(redis, typeid, ITEMS);
    await s.release('item-a', 1);
    await s.plain.config('SET', 'maxmemory-policy', 'noeviction');
    await s.plain.config('SET', 'maxmemory', '1');
    s.relay.releaseUpstream();
    await eventually('the give-back was refused for want of memory', async () => s.log.some((line) => /giving back .*OOM/.test(line)), (refused) => refused, 20_000);
    assert.equal(await s.q.qsize().catch(() => -1), ITEMS.length - 1, 'the item taken is not back while Redis refuses it');
    await s.plain.config('SET', 'maxmemory', '0');
    await eventually('the item came back', () => s.q.qsize().catch(() => -1), (n) => n === ITEMS.length, 20_000);
    assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item once, in order');
    assert.ok(!s.log.some((line) => /lost/.test(line)), `nothing said lost: ${s.log.join(' | ')}`);
  });
}

test('an item given back to a queue whose key Redis holds as another type (WRONGTYPE, which Redis will always refuse) is given up, and the log says it is lost', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsHeldInRedis(redis, 'Queue', ['item-a']);
  await s.release('item-a', 1);
  assert.equal(await s.plain.exists(s.items), 0, 'the get took the only item');
  await s.plain.set(s.items, 'not a list');
  s.relay.releaseUpstream();
  await eventually('the give-back was given up, and said so', async () => s.log.find((line) => /is lost: Redis refused giving it back.*WRONGTYPE/.test(line)), (line) => line !== undefined, 20_000);
  await s.plain.del(s.items);
});
