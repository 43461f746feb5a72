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
import { connect, ConnectionLostError, type ManagerClient, type QueueProxy, type SessionSummary } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';
import { leftWithGetsHeldInRedis, type LeftWithGets } from '../helpers/leftWithGets';
import { drainQueue } from '../helpers/giveBackOrder';

const redis = redisForTests('giveback');
const { skip } = redis;

const ITEMS = ['item-a', 'item-b', 'item-c', 'item-d'];

/**
 * Three gets of a client that left while Redis held them (see {@link leftWithGetsHeldInRedis}),
 * sent in one write, so that their answers come back together and their items are given back in
 * one turn (last first, so in order).
 */
function leftWithGetsInFlight(): Promise<LeftWithGets> {
  return leftWithGetsHeldInRedis(redis, 'Queue', ITEMS, 3);
}

/**
 * Lets Redis carry the three gets out and resolves once the manager has sent its three give-backs
 * (the items' texts gone upstream a second time), holding what it sends from the first on.
 */
async function releaseThreeGiveBacks(s: LeftWithGets): Promise<void> {
  // The first of the manager's writes holding a taken item's text is a give-back.
  s.relay.holdUpstreamFrom('item-');
  await s.plain.client('UNPAUSE');
  await Promise.all(ITEMS.slice(0, 3).map((item) => s.relay.untilUpstream(item, 2)));
}


test('items given back while the connection to Redis drops, never reaching Redis, are given back once Redis is back, in order', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsInFlight();
  await releaseThreeGiveBacks(s);
  // The give-backs went with the connection: Redis never saw them.
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await eventually('the three items came back', () => s.q.qsize().catch(() => -1), (n) => n === 4, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item, in the order taken');
});

test('items given back whose replies from Redis are lost are not given back twice', { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithGetsInFlight();
  await releaseThreeGiveBacks(s);
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

/** A get of a shared PriorityQueue's item, of a client that left while Redis held the get's reading of the heap. */
function leftWithPriorityGet(): Promise<LeftWithGets> {
  return leftWithGetsHeldInRedis(redis, 'PriorityQueue', ITEMS);
}

// The item taken (the least) is written to Redis next by its give-back: the get's own save stores the others.
test("a PriorityQueue's item given back whose write is lost with the connection to Redis is given back once Redis is back", { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithPriorityGet();
  await s.release(ITEMS[0]!, 1);
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await eventually('the item came back', () => s.q.qsize().catch(() => -1), (n) => n === 4, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item, by priority');
});

test("a PriorityQueue's item given back whose reply from Redis is lost is given back once only", { skip, timeout: 60_000 }, async () => {
  await using s = await leftWithPriorityGet();
  await s.release(ITEMS[0]!, 1);
  // Redis makes the give-back (the heap saved anew, or the item in the list of those given back), and its reply is lost with the connection.
  const version = s.items.replace(/items$/, 'version');
  const saved = Number(await s.plain.get(version));
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis made the give-back', async () => Number(await s.plain.get(version)) > saved || (await s.plain.llen(s.items)) > 0, (made) => made);
  const writes = s.relay.countUpstream(ITEMS[0]!);
  s.relay.cut();
  s.relay.mend();
  // Made again once Redis is back (Redis knows it made it): that is done once it went upstream again.
  await eventually('the give-back made again', async () => s.relay.countUpstream(ITEMS[0]!), (n) => n > writes, 20_000);
  await eventually('the queue read through the manager again', () => s.q.qsize().catch(() => -1), (n) => n >= 0, 20_000);
  assert.deepEqual(await drainQueue(s.q), ITEMS, 'every item once, by priority');
});
