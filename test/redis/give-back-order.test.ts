/**
 * Items given back to a queue kept in Redis come out in the order they were taken (SPEC 20.3),
 * however their give-backs are spread: visibility timeouts expiring one after another, nacks in
 * another order, an item given back and taken again, and the gets of two clients that left with
 * their gets in flight, each session giving its item back on its own.
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
import { ORDERED_KINDS, drainQueue, expiriesComeBackInTakeOrder, fillTakenFirst, nacksComeBackInTakeOrder } from '../helpers/giveBackOrder';

const redis = redisForTests('giveorder');
const { skip } = redis;

for (const kind of ORDERED_KINDS) {
  test(`Redis ${kind}: deliveries whose visibility timeouts expire one after another come back in the order they were taken`, { skip, timeout: 30_000 }, async () => {
    await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() });
    await expiriesComeBackInTakeOrder(manager.address, kind, false);
  });

  test(`Redis ${kind}: nacks in another order, with another client's get in between, and a re-take restore the take order`, { skip, timeout: 30_000 }, async () => {
    await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() }, (m) => m.register('get_jobs', { shared: kind }));
    await nacksComeBackInTakeOrder(manager.address, kind, true, false);
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
      await fillTakenFirst(kind, q);
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
      assert.deepEqual(await drainQueue(q), ['a', 'b', 'c', 'd']);
    } finally {
      await plain.client('UNPAUSE').catch(() => {});
      plain.disconnect();
    }
  });
}
