/**
 * The gets of a client that left before their answers were sent give their items back to the
 * front of the queue. When the manager's connection to Redis drops just as it gives them back
 * (a relay between the manager and Redis holds what the manager sends from then on, then is cut
 * and mended), the items must not be lost: the manager keeps its give-backs and makes them once
 * Redis is back, in order, and once only, even when Redis did make one whose reply was lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type QueueProxy } from '../../src/client';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay, type TcpRelay } from '../helpers/tcpRelay';
import { eventually, until } from '../helpers/until';

const redis = redisForTests('giveback');
const { skip } = redis;

const ITEMS = ['item-a', 'item-b', 'item-c', 'item-d'];

/**
 * A manager whose store goes through a relay, serving `get_queue` (a shared Queue) holding
 * {@link ITEMS}, and three gets of a client that left while Redis held them (paused for writes):
 * `release` lets Redis carry them out, and resolves once the manager has sent its three
 * give-backs (the items' texts gone upstream a second time). The relay holds what the manager
 * sends from the first give-back on.
 */
async function leftWithGetsInFlight(): Promise<{ relay: TcpRelay; plain: Redis; q: QueueProxy<string>; items: string; release(): Promise<void> } & AsyncDisposable> {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const plain = new Redis(redis.url);
  const prefix = redis.prefix();
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix }, (m) => m.register('get_queue', { shared: 'Queue' }));
  const client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  const q = await client.get_queue();
  for (const item of ITEMS) await q.put(item);
  const leaving = await RawClient.open(manager.address);
  const { id } = await createOver(leaving, 'get_queue');
  // Redis holds every command that may write: the three gets are sent and wait there...
  await plain.client('PAUSE', 60_000, 'WRITE');
  for (let i = 0; i < 3; i++) leaving.send('object/call', { id, method: 'get', args: [false] });
  await eventually('the gets reached Redis and wait there', async () => /blocked_clients:(\d+)/.exec(await plain.info('clients'))?.[1], (n) => Number(n) >= 1);
  // ...while their client leaves: their answers cannot reach it, so their items go back.
  const sessions = manager.connectedSessions.size;
  leaving.close();
  await until('the manager saw the client leave', () => manager.connectedSessions.size < sessions);
  return {
    relay,
    plain,
    q,
    items: `${prefix}:o:shared:get_queue:items`,
    async release() {
      // The first of the manager's writes holding a taken item's text is a give-back.
      relay.holdUpstreamFrom('item-');
      await plain.client('UNPAUSE');
      await Promise.all(ITEMS.slice(0, 3).map((item) => relay.untilUpstream(item, 2)));
    },
    async [Symbol.asyncDispose]() {
      await plain.client('UNPAUSE').catch(() => {});
      relay.releaseUpstream();
      relay.mend();
      await client.close();
      await manager[Symbol.asyncDispose]();
      plain.disconnect();
      await relay.close();
    },
  };
}

/** The items of the queue in get order, taken through the manager. */
async function drain(q: QueueProxy<string>): Promise<string[]> {
  const items: string[] = [];
  for (let size = await q.qsize(), i = 0; i < size; i++) items.push(await q.getNowait());
  return items;
}

test('items given back while the connection to Redis drops, never reaching Redis, are given back once Redis is back, in order', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsInFlight();
  await s.release();
  // The give-backs went with the connection: Redis never saw them.
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await eventually('the three items came back', () => s.q.qsize().catch(() => -1), (n) => n === 4, 20_000);
  assert.deepEqual(await drain(s.q), ITEMS, 'every item, in the order taken');
});

test('items given back whose replies from Redis are lost are not given back twice', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsInFlight();
  await s.release();
  // Redis makes the give-backs, and their replies are lost with the connection.
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis made the give-backs', () => s.plain.llen(s.items), (n) => n === 4);
  s.relay.cut();
  s.relay.mend();
  await eventually('the queue read through the manager again', () => s.q.qsize().catch(() => -1), (n) => n >= 0, 20_000);
  // The manager made its give-backs again once Redis was back (or knew them made): that is done by now.
  await eventually('the give-backs tried again', async () => s.relay.countUpstream('item-c'), (n) => n >= 3, 20_000);
  assert.deepEqual(await drain(s.q), ITEMS, 'every item once, in the order taken');
});
