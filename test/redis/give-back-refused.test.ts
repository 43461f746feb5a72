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
import { Redis } from 'ioredis';
import { connect, type QueueProxy } from '../../src/client';
import { frameMessage } from '../../src/common/framing';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually, until } from '../helpers/until';
import { drainQueue } from '../helpers/giveBackOrder';

const redis = redisForTests('givebackrefused');
const { skip } = redis;

const ITEMS = ['item-a', 'item-b', 'item-c', 'item-d'];

/**
 * A manager whose store goes through a relay, serving `get_queue` (a shared `typeid`) holding
 * `items`, and a get of a client that left while Redis held it (paused for writes), so that its
 * item goes back: `holdGiveBack()` lets Redis carry the get out and resolves once the give-back
 * (the first write holding the item's text since the puts) is sent, held by the relay until
 * `relay.releaseUpstream()`.
 */
async function leftWithGet(typeid: 'Queue' | 'PriorityQueue', items: readonly string[]) {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const plain = new Redis(redis.url);
  const log: string[] = [];
  const prefix = redis.prefix();
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix, log: (line) => log.push(line) }, (m) => m.register('get_queue', { shared: typeid }));
  const client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  const q = await client.get_queue();
  for (const item of items) await q.put(item);
  const leaving = await RawClient.open(manager.address);
  const { id } = await createOver(leaving, 'get_queue');
  await plain.client('PAUSE', 60_000, 'WRITE');
  leaving.sendRaw(frameMessage(JSON.stringify({ jsonrpc: '2.0', id: 'get-1', method: 'object/call', params: { id, method: 'get', args: [false] } })));
  await eventually('the get reached Redis and waits there', async () => /blocked_clients:(\d+)/.exec(await plain.info('clients'))?.[1], (n) => Number(n) >= 1);
  const sessions = manager.connectedSessions.size;
  leaving.close();
  await until('the manager saw the client leave', () => manager.connectedSessions.size < sessions);
  return {
    relay,
    plain,
    q,
    log,
    items: `${prefix}:o:shared:get_queue:items`,
    async holdGiveBack() {
      const puts = relay.countUpstream(items[0]!);
      relay.holdUpstreamFrom(items[0]!);
      await plain.client('UNPAUSE');
      await relay.untilUpstream(items[0]!, puts + 1);
    },
    async [Symbol.asyncDispose]() {
      await plain.config('SET', 'maxmemory', '0').catch(() => {});
      await plain.client('UNPAUSE').catch(() => {});
      relay.releaseUpstream();
      await client.close();
      await manager[Symbol.asyncDispose]();
      plain.disconnect();
      await relay.close();
    },
  };
}


for (const typeid of ['Queue', 'PriorityQueue'] as const) {
  test(`an item of a ${typeid} given back while Redis refuses writes for want of memory (OOM) is given back once Redis takes it`, { skip, timeout: 60_000 }, async () => {
    await using s = await leftWithGet(typeid, ITEMS);
    await s.holdGiveBack();
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
  await using s = await leftWithGet('Queue', ['item-a']);
  await s.holdGiveBack();
  assert.equal(await s.plain.exists(s.items), 0, 'the get took the only item');
  await s.plain.set(s.items, 'not a list');
  s.relay.releaseUpstream();
  await eventually('the give-back was given up, and said so', async () => s.log.find((line) => /is lost: Redis refused giving it back.*WRONGTYPE/.test(line)), (line) => line !== undefined, 20_000);
  await s.plain.del(s.items);
});
