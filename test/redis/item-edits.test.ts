/**
 * Inspection's Remove Item and Edit Item (SPEC 17.9, 17.10) on queues and lists kept in a real
 * Redis, across managers: an edit through B's inspection acts only on the item B's tool showed,
 * whatever A's clients take meanwhile; a put waiting on A fills the place a removal on B freed;
 * a removed item counts as done for join.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, EmptyError, ProtocolError, tuple, type Connected, type ListProxy, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';

const redis = redisForTests('edits');
const skip = redis.skip;

type Shared = {
  get_queue: QueueProxy<unknown>;
  get_bounded: QueueProxy<unknown>;
  get_lifo: QueueProxy<unknown>;
  get_priority: QueueProxy<unknown>;
  get_list: ListProxy<unknown>;
};

function redisManager(storePrefix: string): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix }, (m) =>
    m
      .register('get_queue', { shared: 'JoinableQueue' })
      .register('get_bounded', { shared: 'Queue', args: [1] })
      .register('get_lifo', { shared: 'LifoQueue' })
      .register('get_priority', { shared: 'PriorityQueue' })
      .register('get_list', { shared: 'list', args: [['a', 'typo', 'c']] }),
  );
}

/** Two managers on one Redis with a client of each, and a viewer (an inspection tool) on B. */
async function groupWithViewerOnB() {
  const pair = await twoManagers<Shared>(redisManager, redis.prefix());
  const viewer: Connected<Shared> = await connect<Shared>({ address: pair.b.address, authkey: AUTHKEY, name: 'viewer' });
  const closePair = pair[Symbol.asyncDispose];
  return Object.assign(pair, {
    viewer,
    async [Symbol.asyncDispose]() {
      await viewer.close();
      await closePair.call(pair);
    },
  });
}

const refused = (pattern: RegExp) => (e: unknown) => e instanceof ProtocolError && e.code === ErrorCodes.InvalidParams && pattern.test(e.message);

test('a queue kept in Redis: an item removed or replaced through B is gone or changed for A, and refused once a getter on A took items', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const qa = await g.onA.get_queue();
  const qb = await g.viewer.get_queue();
  for (const item of ['a', 'poison', { c: [1] }, 'd']) await qa.put(item);
  const shown = (await g.viewer.inspection.peek(qb.id)).items;
  assert.deepEqual(await g.viewer.inspection.removeItem(qb.id, 1, shown[1]), { total: 3 });
  assert.deepEqual(await g.viewer.inspection.replaceItem(qb.id, 1, shown[2], { $tuple: ['fixed', 2] }), { total: 3 });
  assert.equal(await qa.get(), 'a');
  // The view still shows 'a' first: every index now names another item, and nothing is done.
  await assert.rejects(g.viewer.inspection.removeItem(qb.id, 1, shown[1]), refused(/no longer the one shown \(it is "d"\): nothing was removed; peek again/));
  await assert.rejects(g.viewer.inspection.replaceItem(qb.id, 0, 'a', 'z'), refused(/no longer the one shown.*nothing was replaced/));
  await assert.rejects(g.viewer.inspection.removeItem(qb.id, 2, 'd'), refused(/holds 2 items now: there is no item at index 2; nothing was removed/));
  assert.deepEqual(await qa.get(), ['fixed', 2]);
  assert.equal(await qa.get(), 'd');
  // Four put, one removed: three task_done calls finish the queue.
  for (let i = 0; i < 3; i++) await qa.taskDone();
  await qa.join();
  await assert.rejects(qa.taskDone(), /too many times/);
});

test('LifoQueue and PriorityQueue kept in Redis: the index is in get order; a replacement is ordered anew, one that cannot be is refused', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const lifo = await g.onA.get_lifo();
  for (const item of [1, 2, 3]) await lifo.put(item);
  const lifoId = (await g.viewer.get_lifo()).id;
  assert.deepEqual((await g.viewer.inspection.peek(lifoId)).items, [3, 2, 1]);
  await g.viewer.inspection.replaceItem(lifoId, 0, 3, 30);
  await g.viewer.inspection.removeItem(lifoId, 1, 2);
  assert.deepEqual((await g.viewer.inspection.peek(lifoId)).items, [30, 1]);
  assert.equal(await lifo.get(), 30);

  const pq = await g.onA.get_priority();
  for (const item of [3, 1, 2]) await pq.put(item);
  const pqId = (await g.viewer.get_priority()).id;
  assert.deepEqual(await g.viewer.inspection.replaceItem(pqId, 0, 1, 5), { total: 3 });
  assert.deepEqual((await g.viewer.inspection.peek(pqId)).items, [2, 3, 5]);
  await assert.rejects(g.viewer.inspection.replaceItem(pqId, 1, 3, 'three'), refused(/cannot be ordered.*'<' not supported.*nothing was replaced/));
  await assert.rejects(g.viewer.inspection.removeItem(pqId, 0, 1), refused(/no longer the one shown \(it is 2\)/));
  assert.deepEqual(await g.viewer.inspection.removeItem(pqId, 1, 3), { total: 2 });
  assert.deepEqual([await pq.get(), await pq.get()], [2, 5]);
  await assert.rejects(pq.get({ block: false }), EmptyError);
  // Three put, one removed: two task_done calls finish the queue.
  await pq.taskDone();
  await pq.taskDone();
  await pq.join();
  await assert.rejects(pq.taskDone(), /too many times/);
});

test('a put waiting on A for room in a full queue fills the place a removal through B freed; the removed item counts as done for join', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const qa = await g.onA.get_bounded();
  const qb = await g.viewer.get_bounded();
  await qa.put('poison');
  const waitingPut = qa.put('next');
  const joined = qa.join();
  await waitingOn(g.a, 'put');
  await waitingOn(g.a, 'join');
  await g.viewer.inspection.removeItem(qb.id, 0, 'poison');
  await waitingPut;
  // A's client sees the new state through A's inspection too.
  assert.deepEqual((await g.onA.inspection.peek(qa.id)).items, ['next']);
  assert.equal(await qa.get(), 'next');
  await qa.taskDone();
  await joined;
});

test('a list kept in Redis: an item replaced or removed through B, refused once a call through A moved the items', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const la = await g.onA.get_list();
  const lb = await g.viewer.get_list();
  assert.deepEqual(await g.viewer.inspection.replaceItem(lb.id, 1, 'typo', { $tuple: ['b'] }), { total: 3 });
  assert.deepEqual(await la.getValue(), ['a', tuple('b'), 'c']);
  assert.deepEqual(await g.viewer.inspection.removeItem(lb.id, 2, 'c'), { total: 2 });
  assert.equal(await la.pop(0), 'a');
  await assert.rejects(g.viewer.inspection.replaceItem(lb.id, 0, 'a', 'z'), refused(/no longer the one shown.*nothing was replaced/));
  await assert.rejects(g.viewer.inspection.removeItem(lb.id, 1, { $tuple: ['b'] }), refused(/list .* holds 1 item now: there is no item at index 1/));
  assert.deepEqual((await g.onA.inspection.peek(la.id)).items, [{ $tuple: ['b'] }]);
});

test('a worker on A racing with removals and replacements through B loses nothing: each item is got once, removed or replaced, never another in its stead, and join returns', { skip, timeout: 60_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const qa = await g.onA.get_queue();
  const qb = await g.viewer.get_queue();
  const COUNT = 400;
  const all: string[] = [];
  for (let i = 0; i < COUNT; i++) all.push(i % 10 === 9 ? `poison-${i}` : i % 10 === 4 ? `typo-${i}` : `item-${i}`);
  // Past the last item the getter takes: at least these are still there for the tool.
  all.push('last', 'poison-end', 'typo-end');
  for (const item of all) await qa.put(item);

  const got: string[] = [];
  const getter = (async () => {
    for (let i = 0; i < all.length; i++) {
      // A worker: each item taken is marked done, as join expects.
      const item = (await qa.get({ block: false })) as string;
      got.push(item);
      await qa.taskDone();
      if (item === 'last') return;
    }
  })();
  const removed: string[] = [];
  const replaced: string[] = [];
  let refusals = 0;
  const tool = (async () => {
    for (const target of all.filter((item) => !item.startsWith('item-') && item !== 'last')) {
      // As a person at the sidebar: peek, act on the item shown, peek again when refused. A refusal
      // needs a get between the peek and the check, so there are at most as many refusals as items.
      for (let attempt = 0; attempt <= all.length; attempt++) {
        const index = (await g.viewer.inspection.peek(qb.id, { limit: 1000 })).items.indexOf(target);
        if (index === -1) break; // The getter took it first.
        try {
          if (target.startsWith('poison')) await g.viewer.inspection.removeItem(qb.id, index, target);
          else await g.viewer.inspection.replaceItem(qb.id, index, target, target.replace('typo', 'fixed'));
          (target.startsWith('poison') ? removed : replaced).push(target);
          break;
        } catch (error) {
          if (!(error instanceof ProtocolError) || error.code !== ErrorCodes.InvalidParams) throw error;
          refusals++;
        }
      }
    }
  })();
  await Promise.all([getter, tool]);
  for (let i = 0; i < all.length; i++) {
    try {
      got.push((await qa.get({ block: false })) as string);
      await qa.taskDone();
    } catch (error) {
      if (error instanceof EmptyError) break;
      throw error;
    }
  }

  const context = `${removed.length} removed, ${replaced.length} replaced, ${refusals} refused`;
  assert.ok(removed.includes('poison-end') && replaced.includes('typo-end'), context);
  // What was got is every item put, in order, less those removed, with the replaced ones fixed.
  const expected = all.filter((item) => !removed.includes(item)).map((item) => (replaced.includes(item) ? item.replace('typo', 'fixed') : item));
  assert.deepEqual(got, expected, context);
  await assert.rejects(qa.get({ block: false }), EmptyError);
  // Every item was got and marked done, or removed (which counts as done): nothing is left to join.
  await qa.join();
});

test('an item that came back from an acknowledged get (nack) is removed or replaced as any other', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const qa = await g.onA.get_queue();
  const qb = await g.viewer.get_queue();
  for (const item of ['poison', 'typo', 'c']) await qa.put(item);
  const first = await qa.get({ ack: true });
  const second = await qa.get({ ack: true });
  await second.nack();
  await first.nack();
  assert.deepEqual((await g.viewer.inspection.peek(qb.id)).items, ['poison', 'typo', 'c']);
  assert.deepEqual(await g.viewer.inspection.replaceItem(qb.id, 1, 'typo', 'fixed'), { total: 3 });
  assert.deepEqual(await g.viewer.inspection.removeItem(qb.id, 0, 'poison'), { total: 2 });
  assert.deepEqual([await qa.get(), await qa.get()], ['fixed', 'c']);
});
