/**
 * Inspection of the group's objects that a manager's table does not hold (SPEC 17.4, 17.11): a
 * tool connected to manager B reads the contents of a queue, dict, list or Value a client of
 * manager A made and B's clients never touched without B taking a reference for anyone: the
 * group's reference counts (`PREFIX:o:NAME:refs`), B's table and the object's keys stay as they
 * were, during the read as after it. An item edit through B holds the object in B's table while
 * it runs, as a call does, and leaves the counts as they were after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, ProtocolError, type Connected, type DictProxy, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import type { Manager } from '../../src/server';
import type { ObjectEntry } from '../../src/server/objectTable';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, twoManagers } from '../helpers/redisServer';
import { eventually } from '../helpers/until';

const redis = redisForTests('groupinspect');
const { skip } = redis;

type Shared = { shared_dict: DictProxy<unknown> };

function groupManager(storePrefix: string): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix }, (m) => m.register('shared_dict', { shared: 'dict' }));
}

/** The managers of the group that refer to object `id`, as Redis counts them. */
function refsOf(plain: Redis, prefix: string, id: string): Promise<string[]> {
  return plain.smembers(`${prefix}:o:${id.slice('r:'.length)}:refs`).then((members) => members.sort());
}

/** Records every object that enters or leaves `m`'s table from now on (what would change the group's counts). */
function tableChanges(m: Manager): { readonly ids: string[] } {
  const seen: string[] = [];
  const previous = m.table.onChange;
  m.table.onChange = (entry: ObjectEntry, change) => {
    seen.push(`${change} ${entry.id}`);
    previous?.(entry, change);
  };
  return { ids: seen };
}

/** Two managers on one Redis, a client of each, a viewer (an inspection tool) on B and a plain Redis connection. */
async function groupWithViewerOnB() {
  const prefix = redis.prefix();
  const pair = await twoManagers<Shared>(groupManager, prefix);
  const viewer: Connected<Shared> = await connect<Shared>({ address: pair.b.address, authkey: AUTHKEY, name: 'viewer' });
  const plain = new Redis(redis.url);
  const closePair = pair[Symbol.asyncDispose];
  return Object.assign(pair, {
    prefix,
    viewer,
    plain,
    async [Symbol.asyncDispose]() {
      plain.disconnect();
      await viewer.close();
      await closePair.call(pair);
    },
  });
}

test("B's inspection peeks a queue, dict, list and Value a client of A made: contents read from Redis, no reference taken, B's table untouched", { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const q = await g.onA.create<QueueProxy<unknown>>('Queue');
  for (const item of ['first', { task: 2 }, [3, 'three']]) await q.put(item);
  const d = await g.onA.create<DictProxy<unknown>>('dict');
  await d.set('answer', 42);
  await d.set('name', 'group');
  const list = await g.onA.create('list', ['a', 'b']);
  const value = await g.onA.create('Value', 'i', 7);
  const ids = [q.id, d.id, list.id, value.id];
  const aId = g.a.store.group!.managerId;
  for (const id of ids) {
    assert.match(id, /^r:/);
    assert.deepEqual(await refsOf(g.plain, g.prefix, id), [aId], `only A refers to ${id} before`);
  }
  const changes = tableChanges(g.b);
  const sizeBefore = g.b.table.size;

  assert.deepEqual(await g.viewer.inspection.peek(q.id), { id: q.id, kind: 'items', total: 3, offset: 0, items: ['first', { task: 2 }, [3, 'three']] });
  assert.deepEqual(await g.viewer.inspection.peek(q.id, { offset: 1, limit: 1 }), { id: q.id, kind: 'items', total: 3, offset: 1, items: [{ task: 2 }] });
  assert.deepEqual(await g.viewer.inspection.peek(d.id), { id: d.id, kind: 'entries', total: 2, offset: 0, items: [['answer', 42], ['name', 'group']] });
  assert.deepEqual(await g.viewer.inspection.peek(list.id), { id: list.id, kind: 'items', total: 2, offset: 0, items: ['a', 'b'] });
  assert.deepEqual(await g.viewer.inspection.peek(value.id), { id: value.id, kind: 'value', total: 1, offset: 0, items: [7] });

  assert.deepEqual(changes.ids, [], "no object entered B's table, even for the read");
  assert.equal(g.b.table.size, sizeBefore);
  for (const id of ids) {
    assert.equal(g.b.table.get(id), undefined, `${id} is not in B's table`);
    assert.deepEqual(await refsOf(g.plain, g.prefix, id), [aId], `only A refers to ${id} after`);
  }
  // A peek takes nothing: A's client gets every item, in order.
  assert.equal(await q.get(), 'first');
  assert.deepEqual((await g.viewer.inspection.peek(q.id)).total, 2, 'a later peek reads the queue as it is now');
  assert.ok(!(await g.viewer.inspection.snapshot()).objects.some((o) => ids.includes(o.id)), "B's snapshot still lists none of them");
});

test('a peek writes nothing to Redis: a dict no call has written yet keeps only its meta and refs keys', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const d = await g.onA.create<DictProxy<unknown>>('dict', { made: 'with this' });
  const keys = () => g.plain.keys(`${g.prefix}:o:${d.id.slice('r:'.length)}:*`).then((found) => found.sort());
  const before = await keys();
  assert.deepEqual(await g.viewer.inspection.peek(d.id), { id: d.id, kind: 'entries', total: 1, offset: 0, items: [['made', 'with this']] });
  assert.deepEqual(await keys(), before, 'the same keys after the peek');
  assert.deepEqual(await d.get('made'), 'with this');
});

test('a group-wide id the store does not know is UnknownObject for peek and the item edits, as an unknown id always is', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const none = 'r:00000000-0000-0000-0000-000000000000';
  const unknown = (e: unknown) => e instanceof ProtocolError && e.code === ErrorCodes.UnknownObject && e.message.includes(none);
  await assert.rejects(g.viewer.inspection.peek(none), unknown);
  await assert.rejects(g.viewer.inspection.removeItem(none, 0, 'x'), unknown);
  await assert.rejects(g.viewer.inspection.replaceItem(none, 0, 'x', 'y'), unknown);
  // Gone once every manager let go of it: its keys went with the last reference.
  const q = await g.onA.create<QueueProxy<unknown>>('Queue');
  await q.put('soon gone');
  await q.release();
  await eventually("the queue's keys deleted", () => g.plain.keys(`${g.prefix}:o:${q.id.slice(2)}:*`), (keys) => keys.length === 0);
  await assert.rejects(g.viewer.inspection.peek(q.id), (e: unknown) => e instanceof ProtocolError && e.code === ErrorCodes.UnknownObject);
});

test('an object only a stored value refers to is peeked and edited through B too, as the group view lists it', { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const q = await g.onA.create<QueueProxy<unknown>>('Queue');
  await q.put('kept by the dict');
  await (await g.onA.shared_dict()).set('q', q);
  await q.release();
  await eventually('only the stored value refers to the queue', () => refsOf(g.plain, g.prefix, q.id), (m) => JSON.stringify(m) === '["stored"]');
  const changes = tableChanges(g.b);
  assert.deepEqual((await g.viewer.inspection.peek(q.id)).items, ['kept by the dict']);
  assert.deepEqual(changes.ids, []);
  assert.deepEqual(await refsOf(g.plain, g.prefix, q.id), ['stored']);
  // An edit too; B's reference while it runs goes after it, and the stored value still keeps the queue.
  assert.deepEqual(await g.viewer.inspection.replaceItem(q.id, 0, 'kept by the dict', 'edited through B'), { total: 1 });
  await eventually('only the stored value refers to the queue again', () => refsOf(g.plain, g.prefix, q.id), (m) => JSON.stringify(m) === '["stored"]');
  const back = (await (await g.onA.shared_dict()).get('q')) as unknown as QueueProxy<unknown>;
  assert.equal(await back.get(), 'edited through B');
});

test("B's inspection removes and replaces items of a queue and a list only A's client holds: kept in B's table only while each edit runs, as for a call", { skip, timeout: 30_000 }, async () => {
  await using g = await groupWithViewerOnB();
  const q = await g.onA.create<QueueProxy<unknown>>('Queue');
  for (const item of ['a', 'poison', 'typo', 'd']) await q.put(item);
  const list = await g.onA.create('list', ['x', 'oops', 'z']);
  const aId = g.a.store.group!.managerId;
  const changes = tableChanges(g.b);
  assert.deepEqual(await g.viewer.inspection.removeItem(q.id, 1, 'poison'), { total: 3 });
  assert.deepEqual(await g.viewer.inspection.replaceItem(q.id, 1, 'typo', 'fixed'), { total: 3 });
  assert.deepEqual(await g.viewer.inspection.replaceItem(list.id, 1, 'oops', 'y'), { total: 3 });
  // Checked against what the tool showed, as for an object B holds.
  await assert.rejects(g.viewer.inspection.removeItem(q.id, 0, 'not a'), (e: unknown) => e instanceof ProtocolError && e.code === ErrorCodes.InvalidParams && /no longer the one shown/.test(e.message));
  // Each edit held the object in B's table (so the group could not delete it under the edit), and only while it ran.
  const edits = (id: string) => changes.ids.filter((c) => c.endsWith(` ${id}`));
  assert.deepEqual(edits(q.id), ['added', 'removed', 'added', 'removed', 'added', 'removed'].map((c) => `${c} ${q.id}`));
  assert.deepEqual(edits(list.id), [`added ${list.id}`, `removed ${list.id}`]);
  for (const id of [q.id, list.id]) {
    assert.equal(g.b.table.get(id), undefined, `${id} left B's table`);
    await eventually(`only A refers to ${id} again`, () => refsOf(g.plain, g.prefix, id), (m) => JSON.stringify(m) === JSON.stringify([aId]));
  }
  assert.deepEqual([await q.get(), await q.get(), await q.get()], ['a', 'fixed', 'd']);
  assert.deepEqual((await g.viewer.inspection.peek(list.id)).items, ['x', 'y', 'z']);
});
