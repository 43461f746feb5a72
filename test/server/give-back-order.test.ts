/**
 * Items given back come out in the order they were taken (SPEC 20.3), however many turns of the
 * manager's event loop their give-backs are spread over: visibility timeouts expiring one after
 * another, nacks sent one by one in any order, gets of other clients in between, an item given
 * back and taken again. Each give-back used to go in front of the earlier ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ManagerClient, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { eventually } from '../helpers/until';

async function client(address: string, name: string): Promise<ManagerClient> {
  return connect({ address, authkey: AUTHKEY, name });
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

  test(`${kind}: deliveries whose visibility timeouts expire one after another come back in the order they were taken`, async () => {
    await using manager = await startManager();
    await using c = await client(manager.address, 'expiring');
    const q = (await c.create(kind)) as QueueProxy<string>;
    await fill(q);
    // Each expiry is a timer of its own: each gives its item back in a turn of its own.
    for (let i = 0; i < 3; i++) await q.get({ ack: true, visibilityTimeout: 0.05 });
    await eventually('the three deliveries to expire', () => q.qsize(), (n) => n === 4);
    assert.deepEqual(await drain(q), ['a', 'b', 'c', 'd']);
  });

  test(`${kind}: nacks sent one at a time, in another order, with another client's get in between, restore the take order`, async () => {
    await using manager = await startManager({}, (m) => m.register('get_jobs', { shared: kind }));
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
    assert.deepEqual(await drain(q1), ['a', 'b', 'c', 'd']);
  });

  test(`${kind}: an item given back and taken again keeps its place among the items given back`, async () => {
    await using manager = await startManager();
    await using c = await client(manager.address, 'again');
    const q = (await c.create(kind)) as QueueProxy<string>;
    await fill(q);
    const a = await q.get({ ack: true });
    const b = await q.get({ ack: true });
    await b.nack();
    await a.nack();
    const again = await q.get({ ack: true });
    assert.equal(again.value, 'a');
    await again.nack();
    assert.deepEqual(await drain(q), ['a', 'b', 'c', 'd']);
  });
}
