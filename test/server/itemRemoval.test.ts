/**
 * inspect/removeItem (SPEC 17.9): one item out of the middle of a queue or a list, only if it is
 * still the one shown; refused otherwise, so a getter served meanwhile never loses another item.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, type ListProxy, type QueueProxy } from '../../src/client';
import { startManager } from '../helpers/manager';
import { viewerAndWorker } from '../helpers/viewerAndWorker';

async function setup(typeid = 'Queue', maxsize?: number) {
  const s = await viewerAndWorker(await startManager());
  const q = await s.worker.create<QueueProxy<unknown>>(typeid, ...(maxsize === undefined ? [] : [maxsize]));
  return Object.assign(s, { q });
}

test('removes the item at an index when it is the one shown, keeping the others in order', async () => {
  await using s = await setup();
  for (const item of ['a', 'poison', { c: [1] }]) await s.q.put(item);
  const shown = (await s.viewer.inspection.peek(s.q.id)).items;
  assert.deepEqual(await s.viewer.inspection.removeItem(s.q.id, 1, shown[1]), { total: 2 });
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, ['a', { c: [1] }]);
  assert.equal(await s.q.get(), 'a');
});

test('refused when a getter took an item since the view was read: the item at the index is another one', async () => {
  await using s = await setup();
  for (const item of ['first', 'second', 'third']) await s.q.put(item);
  const shown = (await s.viewer.inspection.peek(s.q.id)).items;
  assert.equal(await s.q.get(), 'first');
  await assert.rejects(s.viewer.inspection.removeItem(s.q.id, 1, shown[1]), (e: unknown) => e instanceof ProtocolError && /no longer the one shown.*peek again/.test(e.message));
  await assert.rejects(s.viewer.inspection.removeItem(s.q.id, 2, shown[2]), (e: unknown) => e instanceof ProtocolError && /no item at index 2/.test(e.message));
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, ['second', 'third'], 'nothing removed');
});

test('LifoQueue and PriorityQueue: the index is in get order', async () => {
  for (const typeid of ['LifoQueue', 'PriorityQueue']) {
    await using s = await setup(typeid);
    for (const item of [3, 1, 2]) await s.q.put(item);
    const shown = (await s.viewer.inspection.peek(s.q.id)).items;
    await s.viewer.inspection.removeItem(s.q.id, 0, shown[0]);
    assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, shown.slice(1), typeid);
    assert.equal(await s.q.get(), shown[1], typeid);
  }
});

test('a removed item counts as done for join, and a put waiting for room takes the place', async () => {
  await using s = await setup('Queue', 1);
  await s.q.put('poison');
  const waitingPut = s.q.put('next');
  const joined = s.q.join();
  await s.q.qsize();
  assert.deepEqual(await s.viewer.inspection.removeItem(s.q.id, 0, 'poison'), { total: 1 }, 'the waiting put filled the place at once');
  await waitingPut;
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, ['next']);
  assert.equal(await s.q.get(), 'next');
  await s.q.taskDone();
  await joined;
});

test('a list item too: removed when it is the one shown, refused when the list changed meanwhile', async () => {
  await using s = await setup();
  const list = await s.worker.create<ListProxy<unknown>>('list', ['keep', 'poison', { nested: [1] }]);
  const shown = (await s.viewer.inspection.peek(list.id)).items;
  assert.deepEqual(await s.viewer.inspection.removeItem(list.id, 1, shown[1]), { total: 2 });
  assert.deepEqual(await list.getValue(), ['keep', { nested: [1] }]);
  await list.set(0, 'changed meanwhile');
  await assert.rejects(s.viewer.inspection.removeItem(list.id, 0, 'keep'), (e: unknown) => e instanceof ProtocolError && /no longer the one shown.*nothing was removed/.test(e.message));
  await assert.rejects(s.viewer.inspection.removeItem(list.id, 2, 'x'), /no item at index 2/);
  assert.equal(await list.length(), 2);
});

test('bad requests name what was wrong', async () => {
  await using s = await setup();
  const dict = await s.worker.create('dict');
  await assert.rejects(s.viewer.inspection.removeItem(dict.id, 0, 1), /is not a queue or a list/);
  const list = await s.worker.create<ListProxy<number>>('list', [1]);
  await assert.rejects(s.viewer.inspection.removeItem(s.q.id, -1, 1), /index must be a whole number/);
  await assert.rejects(s.viewer.inspection.removeItem('no-such-id', 0, 1), (e: unknown) => e instanceof ProtocolError);
  assert.deepEqual(await list.getValue(), [1]);
});
