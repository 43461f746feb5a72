/**
 * What the give-back tests share, whichever store holds the queue: reading a queue out in get
 * order, filling it so that its first gets take a, b, c, and the two ways of giving items back
 * spread over several turns of the manager's event loop (SPEC 20.3: they come out in take order).
 */
import assert from 'node:assert/strict';
import { connect, type ManagerClient, type QueueProxy } from '../../src/client';
import { AUTHKEY } from './manager';
import { eventually } from './until';

/** The queue kinds whose give-backs keep the take order (a PriorityQueue orders them by priority). */
export const ORDERED_KINDS = ['Queue', 'LifoQueue'] as const;

/** Takes every item with get_nowait: the queue's items in get order. */
export async function drainQueue<T>(q: QueueProxy<T>): Promise<T[]> {
  const items: T[] = [];
  for (let size = await q.qsize(), i = 0; i < size; i++) items.push(await q.getNowait());
  return items;
}

/** Puts a, b, c, d so that `kind`'s first gets take a, b, c (a LifoQueue's go in reverse). */
export async function fillTakenFirst(kind: (typeof ORDERED_KINDS)[number], q: QueueProxy<string>): Promise<void> {
  for (const item of kind === 'Queue' ? ['a', 'b', 'c', 'd'] : ['d', 'c', 'b', 'a']) await q.put(item);
}

/** A client of the manager at `address`, named for the inspection. */
export async function namedClient(address: string, name: string, reconnect = true): Promise<ManagerClient> {
  return connect({ address, authkey: AUTHKEY, name, ...(reconnect ? {} : { reconnect: false }) });
}

/**
 * Three acknowledged deliveries whose visibility timeouts expire one after another (each expiry
 * a timer of its own, so each gives its item back in a turn of its own) come back in take order.
 */
export async function expiriesComeBackInTakeOrder(address: string, kind: (typeof ORDERED_KINDS)[number], reconnect = true): Promise<void> {
  await using c = await namedClient(address, 'expiring', reconnect);
  const q = (await c.create(kind)) as QueueProxy<string>;
  await fillTakenFirst(kind, q);
  for (let i = 0; i < 3; i++) await q.get({ ack: true, visibilityTimeout: 0.05 });
  await eventually('the three deliveries to expire', () => q.qsize(), (n) => n === 4);
  assert.deepEqual(await drainQueue(q), ['a', 'b', 'c', 'd']);
}

/**
 * Nacks sent one at a time in another order than the takes, with another client's get between
 * them, restore the take order; with `retake`, the first item is then taken again and given back
 * again, keeping its place. The manager at `address` registers `get_jobs` as a shared `kind`.
 */
export async function nacksComeBackInTakeOrder(address: string, kind: (typeof ORDERED_KINDS)[number], retake: boolean, reconnect = true): Promise<void> {
  await using one = await namedClient(address, 'one', reconnect);
  await using two = await namedClient(address, 'two', reconnect);
  const q1 = (await one.create('get_jobs')) as QueueProxy<string>;
  const q2 = (await two.create('get_jobs')) as QueueProxy<string>;
  await fillTakenFirst(kind, q1);
  const a = await q1.get({ ack: true });
  const b = await q2.get({ ack: true });
  const c = await q1.get({ ack: true });
  assert.deepEqual([a.value, b.value, c.value], ['a', 'b', 'c']);
  await a.nack();
  await c.nack();
  await b.nack();
  if (retake) {
    const again = await q1.get({ ack: true });
    assert.equal(again.value, 'a');
    await again.nack();
  }
  assert.deepEqual(await drainQueue(q1), ['a', 'b', 'c', 'd']);
}
