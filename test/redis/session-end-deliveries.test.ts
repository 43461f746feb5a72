/**
 * A session that ends holding unacknowledged deliveries gives them back to the front of their
 * queue, and so does a delivery's visibility timeout (SPEC 20.3). When Redis is away at that
 * moment, and stays away longer than a minute, the give-back must still be made once Redis is
 * back: the manager serves on all along, so nothing else gives them back (no survivor reaps a
 * manager that is alive), and an item left in flight for a session that is gone, or for a worker
 * that hangs with its connection open, would be lost for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually, until } from '../helpers/until';

const redis = redisForTests('session-end');
const { skip } = redis;

/** Longer than the minute of tries a session's give-back used to get before it gave up in silence. */
const AWAY_MS = 65_000;

test('deliveries of a session that ended while Redis was away for over a minute go back to the queue once Redis is back', { skip, timeout: 150_000 }, async () => {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const log: string[] = [];
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: redis.prefix(), log: (line) => log.push(line) }, (m) => m.register('get_queue', { shared: 'Queue' }));
  const client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  const worker = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  try {
    const q = await client.get_queue();
    await q.put('item-a');
    await q.put('item-b');
    const taken = await (await worker.get_queue()).get({ ack: true });
    assert.equal(taken.value, 'item-a');
    // Redis goes away; the worker's session ends, unacknowledged, while it is.
    relay.cut();
    const sessions = manager.connectedSessions.size;
    await worker.close();
    await until('the manager saw the worker leave', () => manager.connectedSessions.size < sessions);
    // Held away past every try the manager makes in its first minute (no sleep stands in for an event here: the time away is what is tested).
    await new Promise((resolve) => setTimeout(resolve, AWAY_MS));
    relay.mend();
    // Away longer than its lease, the manager ended its sessions (SPEC 20.4.1): a new client reads the queue.
    const reader = await eventually('a client connects again', () => connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY }).catch(() => undefined), (c) => c !== undefined, 30_000);
    try {
      const back = await reader!.get_queue();
      await eventually('the delivery came back', () => back.qsize().catch((e) => { console.log('qsize', e.message); return -1; }), (n) => n === 2, 30_000);
      assert.deepEqual([await back.getNowait(), await back.getNowait()], ['item-a', 'item-b'], 'the item given back is at the front');
    } finally {
      await reader!.close();
    }
  } finally {
    await client.close().catch(() => {});
    await worker.close().catch(() => {});
    await manager.shutdown().catch(() => {});
    await relay.close();
  }
});

test("a delivery whose visibility timeout passes while Redis is away for over a minute goes back once Redis is back, its worker still connected", { skip, timeout: 150_000 }, async () => {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  // A lease longer than the time away: the manager keeps its sessions, so only the timeout gives the item back.
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: redis.prefix(), storeLeaseMs: 300_000 }, (m) => m.register('get_queue', { shared: 'Queue' }));
  const client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY });
  const worker = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY });
  try {
    const q = await client.get_queue();
    await q.put('item-a');
    await q.put('item-b');
    const taken = await (await worker.get_queue()).get({ ack: true, visibilityTimeout: 1 });
    assert.equal(taken.value, 'item-a');
    relay.cut();
    // The timeout passes a second in, and Redis stays away past every try of the manager's first minute.
    await new Promise((resolve) => setTimeout(resolve, AWAY_MS));
    relay.mend();
    await eventually('the delivery came back', () => q.qsize().catch(() => -1), (n) => n === 2, 30_000);
    assert.ok(worker.connected, 'the worker is still connected: its session did not give the item back');
    assert.deepEqual([await q.getNowait(), await q.getNowait()], ['item-a', 'item-b'], 'the item given back is at the front');
  } finally {
    await client.close().catch(() => {});
    await worker.close().catch(() => {});
    await manager.shutdown().catch(() => {});
    await relay.close();
  }
});
