/**
 * The gets of a client that left before their answers were sent give their items back to the
 * front of the queue. When the manager's connection to Redis drops just as it gives them back
 * (a relay between the manager and Redis holds what the manager sends from then on, then is cut
 * and mended), the items must not be lost: the manager keeps its give-backs and makes them once
 * Redis is back, in order, and once only, even when Redis did make one whose reply was lost. The
 * same holds for a resumable session not resumed in time, whose waiting gets took items while it
 * was detached, when Redis is away as its window passes (its give-backs then not sent at all),
 * and for a PriorityQueue's give-back, which carries a mark as a Queue's does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, ConnectionLostError, type ManagerClient, type QueueProxy, type SessionSummary } from '../../src/client';
import { frameMessage } from '../../src/common/framing';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay, type TcpRelay } from '../helpers/tcpRelay';
import { eventually, until } from '../helpers/until';
import { drainQueue } from '../helpers/giveBackOrder';

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
  // In one write, so that the manager reads them together and sends them as one run: their answers
  // then come back together, and are given back in one turn (last first, so in order).
  leaving.sendRaw([1, 2, 3].map((n) => frameMessage(JSON.stringify({ jsonrpc: '2.0', id: `get-${n}`, method: 'object/call', params: { id, method: 'get', args: [false] } }))).join(''));
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


test('items given back while the connection to Redis drops, never reaching Redis, are given back once Redis is back, in order', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsInFlight();
  await s.release();
  // The give-backs went with the connection: Redis never saw them.
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await eventually('the three items came back', () => s.q.qsize().catch(() => -1), (n) => n === 4, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item, in the order taken');
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
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item once, in the order taken');
});

/** Waits (bounded) until the manager shows session `id` in the state `wanted` asks for. */
async function untilSession(observer: ManagerClient, id: string, what: string, wanted: (s: SessionSummary | undefined) => boolean): Promise<void> {
  await eventually(`session ${id} ${what}`, async () => wanted((await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === id)), (done) => done, 20_000);
}

for (const typeid of ['Queue', 'PriorityQueue'] as const) {
  test(`items the gets of a resumable session took from a ${typeid} while it was detached, its window passing while Redis is away, are given back once Redis is back, in order`, { skip, timeout: 60_000 }, async () => {
    const store = new URL(redis.url);
    await using storeRelay = await startRelay(`${store.hostname}:${store.port}`);
    // A lease far longer than Redis is away here: the manager keeps serving its sessions meanwhile.
    await using manager = await startManager({ store: `redis://${storeRelay.address}`, storePrefix: redis.prefix(), storeLeaseMs: 60_000 });
    await using clientRelay = await startRelay(manager.address);
    await using observer = await connect({ address: manager.address, authkey: AUTHKEY, name: 'observer', reconnect: false });
    await using client = await connect({ address: clientRelay.address, authkey: AUTHKEY, name: 'taker', resume: { withinMs: 3000 }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const sessionId = client.sessionId;
    const queue = await observer.create<QueueProxy<string>>(typeid);
    const waitingGets = [0, 1, 2].map(() => client.callById(queue.id, 'get').catch((error: unknown) => error));
    await untilSession(observer, sessionId, 'waiting in three gets', (s) => s?.pending.length === 3);
    clientRelay.cut();
    await untilSession(observer, sessionId, 'detached', (s) => s?.resumableUntil !== undefined);
    for (const item of ITEMS) await queue.put(item);
    // The gets still waiting in the detached session take the first three (woken through Redis).
    await eventually('the waiting gets took three items', () => queue.qsize(), (n) => n === 1);
    storeRelay.cut();
    // Until the manager has seen its connection to Redis drop, a call may still be written to it: probe with a read.
    await eventually('the manager saw Redis go', () => queue.qsize().then(() => false, (error: Error) => /was not carried out/.test(error.message)), (refused) => refused, 20_000);
    await untilSession(observer, sessionId, 'gone', (s) => s === undefined);
    storeRelay.mend();
    await eventually('the three items came back', () => queue.qsize().catch(() => -1), (n) => n === 4, 20_000);
    assert.deepEqual(await drainQueue(queue), ITEMS, 'every item, in the order taken');
    clientRelay.mend();
    for (const outcome of await Promise.all(waitingGets)) assert.ok(outcome instanceof ConnectionLostError);
  });
}

/**
 * A manager whose store goes through a relay, serving `get_pq` (a shared PriorityQueue) holding
 * {@link ITEMS}, and a get of a client that left while Redis held the get's reading of the heap:
 * `release(holdFrom)` lets Redis carry the get out, holding what the manager sends from its next
 * write holding `holdFrom` on, and resolves once that write went upstream.
 */
async function leftWithPriorityGet(): Promise<{ relay: TcpRelay; plain: Redis; q: QueueProxy<string>; givenBack: string; release(holdFrom: string): Promise<void> } & AsyncDisposable> {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const plain = new Redis(redis.url);
  const prefix = redis.prefix();
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix }, (m) => m.register('get_pq', { shared: 'PriorityQueue' }));
  const client = await connect<{ get_pq: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  const q = await client.get_pq();
  for (const item of ITEMS) await q.put(item);
  const leaving = await RawClient.open(manager.address);
  const { id } = await createOver(leaving, 'get_pq');
  // Redis holds the get's reading of the heap while its client leaves: its item then goes back.
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
    givenBack: `${prefix}:o:shared:get_pq:items`,
    async release(holdFrom) {
      const before = relay.countUpstream(holdFrom);
      relay.holdUpstreamFrom(holdFrom);
      await plain.client('UNPAUSE');
      await relay.untilUpstream(holdFrom, before + 1);
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

// The item taken (the least) is written to Redis next by its give-back: the get's own save stores the others.
test("a PriorityQueue's item given back whose write is lost with the connection to Redis is given back once Redis is back", { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithPriorityGet();
  await s.release(ITEMS[0]!);
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await eventually('the item came back', () => s.q.qsize().catch(() => -1), (n) => n === 4, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item, by priority');
});

test("a PriorityQueue's item given back whose reply from Redis is lost is given back once only", { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithPriorityGet();
  await s.release(ITEMS[0]!);
  // Redis makes the give-back (the heap saved anew, or the item in the list of those given back), and its reply is lost with the connection.
  const version = s.givenBack.replace(/items$/, 'version');
  const saved = Number(await s.plain.get(version));
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis made the give-back', async () => Number(await s.plain.get(version)) > saved || (await s.plain.llen(s.givenBack)) > 0, (made) => made);
  const writes = s.relay.countUpstream(ITEMS[0]!);
  s.relay.cut();
  s.relay.mend();
  // Made again once Redis is back (Redis knows it made it): that is done once it went upstream again.
  await eventually('the give-back made again', async () => s.relay.countUpstream(ITEMS[0]!), (n) => n > writes, 20_000);
  await eventually('the queue read through the manager again', () => s.q.qsize().catch(() => -1), (n) => n >= 0, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item once, by priority');
});
