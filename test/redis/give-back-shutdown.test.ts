/**
 * Give-backs still kept when the manager shuts down gracefully (`shutdown()`, as `serveForever`'s
 * end and SIGTERM to `syncmanager serve` do) get a last, bounded, chance before the store closes:
 * the manager waits for Redis to take them. Here a get's give-back is kept while a relay between
 * the manager and Redis is cut; the manager is asked to shut down, and the relay is mended once
 * the shutdown reached the store: the item is back in Redis once the shutdown is over. Redis still
 * away when the wait ends, the item is lost, and the log says so, naming its queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisForTests } from '../helpers/redisServer';
import { eventually } from '../helpers/until';
import { leftWithGetsHeldInRedis, type LeftWithGets } from '../helpers/leftWithGets';

const redis = redisForTests('givebackshutdown');
const { skip } = redis;

const ITEMS = ['item-a', 'item-b', 'item-c', 'item-d'];

/**
 * A manager whose store goes through a relay, serving `get_queue` (a shared Queue) holding
 * {@link ITEMS}, whose first item a client that left took: its give-back was sent as the relay was
 * cut, so the manager keeps it (the relay stays cut).
 */
async function keptGiveBack(): Promise<LeftWithGets> {
  const s = await leftWithGetsHeldInRedis(redis, 'Queue', ITEMS);
  await s.client.close();
  // The give-back (the first write holding the item's text since the puts) is held, then lost with the connection.
  await s.release(ITEMS[0]!, 1);
  s.relay.cut();
  s.relay.releaseUpstream();
  await eventually('the manager kept the give-back', async () => s.log.some((line) => /giving back .* it is kept/.test(line)), (kept) => kept, 20_000);
  return s;
}

test('a give-back kept while Redis is away when the manager shuts down is made once Redis is back, before the store closes', { skip, timeout: 60_000 }, async () => {
  await using s = await keptGiveBack();
  const stopped = s.manager.shutdown();
  // Redis comes back only once the shutdown reached the store (it waits for the give-back, or gave it up).
  await eventually('the shutdown reached the store', async () => s.log.some((line) => /closing; waiting|is lost/.test(line)), (reached) => reached, 20_000);
  s.relay.mend();
  await stopped;
  assert.equal(await s.plain.llen(s.items), ITEMS.length, 'the item taken is back in Redis');
  assert.ok(!s.log.some((line) => /is lost/.test(line)), `nothing said lost: ${s.log.join(' | ')}`);
});

test('a give-back kept while Redis is away when the manager shuts down, Redis still away when its wait ends, is said lost, naming its queue', { skip, timeout: 60_000 }, async () => {
  await using s = await keptGiveBack();
  await s.manager.shutdown();
  assert.ok(s.log.some((line) => line.includes(`an item of ${s.items.replace(/:items$/, '')} is lost`)), `said lost, naming the queue: ${s.log.join(' | ')}`);
  assert.equal(await s.plain.llen(s.items), ITEMS.length - 1);
});
