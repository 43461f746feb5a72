/**
 * Items given back to a queue kept in Redis come out in the order they were taken (SPEC 20.3),
 * however their give-backs are spread: visibility timeouts expiring one after another, nacks in
 * another order, an item given back and taken again, and the gets of two clients that left with
 * their gets in flight, each session giving its item back on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type ManagerClient, type QueueProxy } from '../../src/client';
import { frameMessage } from '../../src/common/framing';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually, until } from '../helpers/until';

const redis = redisForTests('giveorder');
const { skip } = redis;

async function client(address: string, name: string): Promise<ManagerClient> {
  return connect({ address, authkey: AUTHKEY, name, reconnect: false });
}

/** Takes every item with get_nowait, in get order. */
async function drain<T>(q: QueueProxy<T>): Promise<T[]> {
  const out: T[] = [];
  for (let n = await q.qsize(); n > 0; n--) out.push(await q.getNowait());
  return out;
}

for (const kind of ['Queue', 'LifoQueue'] as const) {
  // A LifoQueue's items are put in reverse, so that both kinds take a, b, c first.
  const fill = async (q: QueueProxy<string>): Promise<void> => {
    for (const item of kind === 'Queue' ? ['a', 'b', 'c', 'd'] : ['d', 'c', 'b', 'a']) await q.put(item);
  };

  test(`Redis ${kind}: deliveries whose visibility timeouts expire one after another come back in the order they were taken`, { skip, timeout: 30_000 }, async () => {
    await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() });
    await using c = await client(manager.address, 'expiring');
    const q = (await c.create(kind)) as QueueProxy<string>;
    await fill(q);
    for (let i = 0; i < 3; i++) await q.get({ ack: true, visibilityTimeout: 0.05 });
    await eventually('the three deliveries to expire', () => q.qsize(), (n) => n === 4);
    assert.deepEqual(await drain(q), ['a', 'b', 'c', 'd']);
  });

  test(`Redis ${kind}: nacks in another order, with another client's get in between, and a re-take restore the take order`, { skip, timeout: 30_000 }, async () => {
    await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() }, (m) => m.register('get_jobs', { shared: kind }));
    await using one = await client(manager.address, 'one');
    await using two = await client(manager.address, 'two');
    const q1 = (await one.create('get_jobs')) as QueueProxy<string>;
    const q2 = (await two.create('get_jobs')) as QueueProxy<string>;
    await fill(q1);
    const a = await q1.get({ ack: true });
    const b = await q2.get({ ack: true });
    const c = await q1.get({ ack: true });
    assert.deepEqual([a.value, b.value, c.value], ['a', 'b', 'c']);
    await a.nack();
    await c.nack();
    await b.nack();
    const again = await q1.get({ ack: true });
    assert.equal(again.value, 'a');
    await again.nack();
    assert.deepEqual(await drain(q1), ['a', 'b', 'c', 'd']);
  });

  test(`Redis ${kind}: two clients that left with a get each in flight: their items come back in the order they were taken`, { skip, timeout: 30_000 }, async () => {
    const store = new URL(redis.url);
    await using relay = await startRelay(`${store.hostname}:${store.port}`);
    const plain = new Redis(redis.url);
    const prefix = redis.prefix();
    try {
      await using manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix }, (m) => m.register('get_queue', { shared: kind }));
      await using c = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
      const q = await c.get_queue();
      await fill(q);
      const leaving = [await RawClient.open(manager.address), await RawClient.open(manager.address)];
      const ids = [];
      for (const raw of leaving) ids.push((await createOver(raw, 'get_queue')).id);
      // Redis holds every command that may write: each get is sent to it, one after the other, and waits there.
      await plain.client('PAUSE', 60_000, 'WRITE');
      const itemsKey = `${prefix}:o:shared:get_queue:items`;
      const sent = relay.countUpstream(itemsKey);
      for (const [n, raw] of leaving.entries()) {
        raw.sendRaw(frameMessage(JSON.stringify({ jsonrpc: '2.0', id: `get-${n}`, method: 'object/call', params: { id: ids[n], method: 'get', args: [false] } })));
        await relay.untilUpstream(itemsKey, sent + n + 1);
      }
      // ...while their clients leave: their answers cannot reach them, so each session gives its item back.
      const sessions = manager.connectedSessions.size;
      for (const raw of leaving) raw.close();
      await until('the manager saw both clients leave', () => manager.connectedSessions.size <= sessions - 2);
      await plain.client('UNPAUSE');
      await eventually('both items came back', () => q.qsize(), (n) => n === 4);
      assert.deepEqual(await drain(q), ['a', 'b', 'c', 'd']);
    } finally {
      await plain.client('UNPAUSE').catch(() => {});
      plain.disconnect();
    }
  });
}
