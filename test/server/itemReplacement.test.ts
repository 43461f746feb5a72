/**
 * inspect/replaceItem (SPEC 17.10): one item of a queue or a list edited in place, only if it is still
 * the one shown; refused otherwise, so an item a getter took meanwhile is never replaced by another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, tuple, type ListProxy, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import { startManager } from '../helpers/manager';
import { viewerAndWorker } from '../helpers/viewerAndWorker';

async function setup(typeid = 'Queue', maxsize?: number) {
  const s = await viewerAndWorker(await startManager());
  const q = await s.worker.create<QueueProxy<unknown>>(typeid, ...(maxsize === undefined ? [] : [maxsize]));
  return Object.assign(s, { q });
}

const refusedWith = (code: number, pattern: RegExp) => (e: unknown) => e instanceof ProtocolError && e.code === code && pattern.test(e.message);

test('replaces the item at an index when it is the one shown, in its place; the new item is a value in wire form', async () => {
  await using s = await setup();
  for (const item of ['a', 'poison', { c: [1] }]) await s.q.put(item);
  const shown = (await s.viewer.inspection.peek(s.q.id)).items;
  assert.deepEqual(await s.viewer.inspection.replaceItem(s.q.id, 1, shown[1], { $tuple: ['fixed', 2] }), { total: 3 });
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, ['a', { $tuple: ['fixed', 2] }, { c: [1] }]);
  assert.equal(await s.q.get(), 'a');
  assert.deepEqual(await s.q.get(), ['fixed', 2]);
});

test('refused when a getter took an item since the view was read: nothing is replaced', async () => {
  await using s = await setup();
  for (const item of ['first', 'second', 'third']) await s.q.put(item);
  const shown = (await s.viewer.inspection.peek(s.q.id)).items;
  assert.equal(await s.q.get(), 'first');
  await assert.rejects(s.viewer.inspection.replaceItem(s.q.id, 1, shown[1], 'edited'), refusedWith(ErrorCodes.InvalidParams, /no longer the one shown.*nothing was replaced.*peek again/));
  await assert.rejects(s.viewer.inspection.replaceItem(s.q.id, 2, shown[2], 'edited'), refusedWith(ErrorCodes.InvalidParams, /no item at index 2/));
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, ['second', 'third'], 'nothing replaced');
});

test('LifoQueue: the index is in get order; PriorityQueue: the new item takes its place in priority order', async () => {
  {
    await using s = await setup('LifoQueue');
    for (const item of [1, 2, 3]) await s.q.put(item);
    await s.viewer.inspection.replaceItem(s.q.id, 0, 3, 30);
    assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, [30, 2, 1]);
    assert.equal(await s.q.get(), 30);
  }
  {
    await using s = await setup('PriorityQueue');
    for (const item of [3, 1, 2]) await s.q.put(item);
    await s.viewer.inspection.replaceItem(s.q.id, 0, 1, 5);
    assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, [2, 3, 5]);
    assert.equal(await s.q.get(), 2);
  }
});

test("a PriorityQueue refuses an item that cannot be ordered against the others, keeping every item", async () => {
  await using s = await setup('PriorityQueue');
  for (const item of [3, 1, 2]) await s.q.put(item);
  await assert.rejects(s.viewer.inspection.replaceItem(s.q.id, 1, 2, 'two'), refusedWith(ErrorCodes.InvalidParams, /cannot be ordered.*'<' not supported.*nothing was replaced/));
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, [1, 2, 3]);
  assert.equal(await s.q.qsize(), 3);
});

test('replacing counts nothing for join and frees no room in a full queue', async () => {
  await using s = await setup('Queue', 1);
  await s.q.put('old');
  await s.viewer.inspection.replaceItem(s.q.id, 0, 'old', 'new');
  assert.equal(await s.q.full(), true);
  assert.equal(await s.q.get(), 'new');
  await s.q.taskDone();
  await s.q.join();
  await assert.rejects(s.q.taskDone(), /task_done\(\) called too many times/);
});

test('a list item too: replaced in its place when it is the one shown, refused when the list changed meanwhile', async () => {
  await using s = await setup();
  const list = await s.worker.create<ListProxy<unknown>>('list', ['a', 'typo', 'c']);
  assert.deepEqual(await s.viewer.inspection.replaceItem(list.id, 1, 'typo', { $tuple: ['fixed'] }), { total: 3 });
  assert.deepEqual(await list.getValue(), ['a', tuple('fixed'), 'c']);
  assert.deepEqual((await s.viewer.inspection.peek(list.id)).items[1], { $tuple: ['fixed'] }, 'a tuple stays a tuple');
  await list.pop(0);
  await assert.rejects(s.viewer.inspection.replaceItem(list.id, 0, 'a', 'edited'), refusedWith(ErrorCodes.InvalidParams, /no longer the one shown.*nothing was replaced/));
  assert.deepEqual((await s.viewer.inspection.peek(list.id)).items, [{ $tuple: ['fixed'] }, 'c'], 'the item that moved into place was not replaced');
});

test('bad requests name what was wrong', async () => {
  await using s = await setup();
  await s.q.put(1);
  const dict = await s.worker.create('dict');
  await assert.rejects(s.viewer.inspection.replaceItem(dict.id, 0, 1, 2), refusedWith(ErrorCodes.InvalidParams, /is not a queue or a list/));
  const list = await s.worker.create<ListProxy<number>>('list', [1]);
  await assert.rejects(s.viewer.inspection.replaceItem(s.q.id, -1, 1, 2), refusedWith(ErrorCodes.InvalidParams, /index must be a whole number/));
  await assert.rejects(s.viewer.inspection.replaceItem(s.q.id, 0, 1, { $nope: 1 }), refusedWith(ErrorCodes.InvalidValue, /\$nope/));
  await assert.rejects(s.viewer.inspection.replaceItem('no-such-id', 0, 1, 2), refusedWith(ErrorCodes.UnknownObject, /no-such-id/));
  assert.deepEqual(await list.getValue(), [1]);
  assert.deepEqual((await s.viewer.inspection.peek(s.q.id)).items, [1]);
});
