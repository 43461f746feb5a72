/**
 * What a state file keeps of each built-in object, through its JSON text and back: order, types,
 * counts, and the values it refuses, without a server process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Dict, Event, Float, LifoQueue, List, Namespace, OpaqueValue, PriorityQueue, PyArray, PySet, Queue, Value, tuple } from '../../src/server';
import { decodeValue, encodeValue } from '../../src/common/valueCodec';
import { SharedRef } from '../../src/server/calls/sharedRef';
import { readStateFile, STATE_FORMAT, STATE_VERSION, writeStateFile } from '../../src/server/state/stateFile';
import { captureObject, checkSavedObject, mismatch, prepareRestore, type SavedObject } from '../../src/server/state/objectState';
import { fileFolder } from '../helpers/tempFolder';

/** Where the round trips write their state files, one each. */
const scratch = fileFolder('objects');
let files = 0;

/** Saves `from`, through a state file, and restores into `into`. */
function roundTrip<T extends object>(from: object, into: T): T {
  const { saved, skipped } = captureObject(from);
  assert.deepEqual(skipped, []);
  const file = join(scratch, `state-${files++}.json`);
  writeStateFile(file, { format: STATE_FORMAT, version: STATE_VERSION, savedAt: '', savedBy: '', objects: { it: saved! } });
  const read = checkSavedObject(readStateFile(file)!.objects.it);
  assert.equal(mismatch(read, into), undefined);
  prepareRestore(read, into)();
  return into;
}

test('queues of every kind come back in the order get takes them, with the count join waits on', () => {
  const fifo = new Queue();
  for (const n of [1, 2, 3]) fifo.put(n);
  fifo.get(); // taken, not yet done: join still waits for it
  const restored = roundTrip(fifo, new Queue(1));
  assert.deepEqual(restored.peekAll(), [2, 3]);
  assert.equal(restored.full(), true, 'restored past a lower maxsize, nothing dropped');
  assert.equal(restored.unfinishedTasks, 3);
  restored.task_done(); // the worker that took 1 reports it after the restart

  const lifo = new LifoQueue();
  for (const n of ['a', 'b', 'c']) lifo.put(n);
  assert.deepEqual([...(function* () { const q = roundTrip(lifo, new LifoQueue()); while (!q.empty()) yield q.get(false); })()], ['c', 'b', 'a']);

  const ranked = new PriorityQueue();
  for (const item of [tuple<unknown>(2, 'x'), tuple<unknown>(1, 'b'), tuple<unknown>(1, 'a'), tuple<unknown>(3, 'z')]) ranked.put(item);
  const back = roundTrip(ranked, new PriorityQueue());
  assert.deepEqual([back.get(false), back.get(false), back.get(false), back.get(false)], [tuple<unknown>(1, 'a'), tuple<unknown>(1, 'b'), tuple<unknown>(2, 'x'), tuple<unknown>(3, 'z')]);
});

test('values keep their types: big ints, integral floats, -0.0, bytes, tuples, dicts with any keys, pickled objects', () => {
  const pickled = new OpaqueValue('python', 'fractions.Fraction', new Uint8Array([128, 2, 99, 46]));
  const sent = [2n ** 80n, new Float(2), -0, Buffer.from('bytes'), tuple<unknown>(1, 'two'), new Map<unknown, unknown>([[tuple<unknown>(1, 2), 'pair'], ['$tag', 1]]), new Set([1, 2]), pickled, null, 'text'];
  // As a session holds them: decoded from the wire, floats boxed.
  const held = decodeValue(encodeValue(sent), { boxFloats: true }) as unknown[];
  const restored = roundTrip(new List(held), new List()).snapshot();
  assert.deepEqual(restored, held);
  assert.ok(restored[1] instanceof Float, 'an integral float stays a float for Python');
  assert.ok(Object.is(Number(restored[2]), -0), 'the sign of -0.0 is kept');
  assert.ok(restored[7] instanceof OpaqueValue && Buffer.from(restored[7].data).equals(Buffer.from(pickled.data)), 'a pickle byte for byte');
});

test('dict, set, Namespace, Value, Array and Event', () => {
  const dict = new Dict();
  dict.__setitem__(tuple<unknown>(1, 2), 'tuple key');
  dict.__setitem__('$x', 'a key like a tag');
  assert.deepEqual(roundTrip(dict, new Dict()).entries(), dict.entries());
  assert.deepEqual(roundTrip(new PySet(['a', 1]), new PySet()).snapshot().sort(), [1, 'a'].sort());
  const ns = new Namespace({ mode: 'fast', __proto__: 'an attribute' } as Record<string, unknown>);
  const into = new Namespace({ stale: true });
  assert.deepEqual(Object.entries(roundTrip(ns, into).snapshot()), Object.entries(ns.snapshot()), 'old attributes go, __proto__ is an attribute');
  assert.equal(roundTrip(new Value('i', 41), new Value('i', 0)).get(), 41);
  assert.deepEqual(roundTrip(new PyArray('d', [1.5, 2]), new PyArray('d', [0])).snapshot().map(Number), [1.5, 2]);
  const event = new Event();
  event.set();
  assert.equal(roundTrip(event, new Event()).is_set(), true);
});

test('a value holding a reference to a shared object is left out, named; the rest is saved', () => {
  const other = new Dict();
  const list = new List(['kept', SharedRef.of(other), [SharedRef.of(other)], 'kept too']);
  const { saved, skipped } = captureObject(list);
  assert.deepEqual((saved as Extract<SavedObject, { type: 'list' }>).items, ['kept', 'kept too']);
  assert.deepEqual(skipped, ['item 1: it holds a reference to a shared dict, which does not outlive the server run', 'item 2: it holds a reference to a shared dict, which does not outlive the server run']);
  const value = captureObject(new Value('O', SharedRef.of(other)));
  assert.equal(value.saved, undefined);
  assert.equal(value.skipped.length, 1);
});

test('restoring fails before anything changes: unorderable PriorityQueue items, an unhashable key, a $proxy', () => {
  const target = new PriorityQueue();
  target.put(5);
  assert.throws(() => prepareRestore({ type: 'PriorityQueue', items: [1, 'one'], unfinished: 2 }, target), /'<' not supported/);
  assert.deepEqual(target.peekAll(), [5], 'untouched');
  const dict = new Dict({ keep: 1 });
  assert.throws(() => prepareRestore({ type: 'dict', entries: [[[1], 'list key']] }, dict), /unhashable type: 'list'/);
  assert.deepEqual(dict.entries(), [['keep', 1]]);
  assert.throws(() => prepareRestore({ type: 'list', items: [{ $proxy: { id: 'x', typeid: 'dict', exposed: [] } }] }, new List()), /a state file holds no references/);
  assert.match(mismatch({ type: 'Array', typecode: 'i', items: [] }, new PyArray('d')) ?? '', /typecode 'i' .* typecode 'd'/);
  assert.match(mismatch({ type: 'Queue', items: [], unfinished: 0 }, new Dict()) ?? '', /saved as a Queue and is now a dict/);
});
