import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invokeMethod } from '../../../src/server/calls/methodDispatch';
import { PyException } from '../../../src/server/exceptions';
import { Dict, List, Namespace, Queue, Value, builtinType, builtinTypes } from '../../../src/server/builtins';
import { SYNC_MANAGER_TYPEIDS } from '../../../src/common/syncTypeids';

test('builtinTypes maps each SyncManager typeid to its class', () => {
  assert.deepEqual(Object.keys(builtinTypes), [...SYNC_MANAGER_TYPEIDS]);
  assert.equal(builtinTypes.Queue.type, Queue);
  assert.equal(builtinTypes.dict.type, Dict);
  assert.equal(builtinTypes.list.type, List);
  assert.equal(builtinTypes.Namespace.type, Namespace);
  assert.equal(builtinTypes.Value.type, Value);
  // JoinableQueue is SyncManager's name for the same queue.Queue.
  for (const [typeid, entry] of Object.entries(builtinTypes)) assert.equal(entry.type.builtin, typeid === 'JoinableQueue' ? 'Queue' : typeid);
});

test('every exposed method of every built-in is a method of its instances', () => {
  const samples: Record<string, [unknown[], Record<string, unknown>]> = {
    Value: [['i', 0], {}], Array: [['i', [1]], {}], Barrier: [[2], {}],
  };
  for (const [typeid, entry] of Object.entries(builtinTypes)) {
    if (!entry.create) continue;
    const obj = entry.create(...(samples[typeid] ?? [[], {}])) as Record<string, unknown>;
    for (const name of entry.type.exposed) assert.equal(typeof obj[name], 'function', `${typeid}.${name}`);
  }
});

test('Queue(maxsize=3) through the factory makes a queue bounded at 3', () => {
  const q = builtinTypes.Queue.create!([], { maxsize: 3 });
  for (const i of [1, 2, 3]) invokeMethod(q, 'put_nowait', [i], {}, {});
  assert.throws(() => invokeMethod(q, 'put_nowait', [4], {}, {}), (e: unknown) => e instanceof PyException && e.type === 'Full');
});

test('bad constructor arguments raise Python-like TypeErrors from the factories', () => {
  const isTypeError = (e: unknown) => e instanceof PyException && e.type === 'TypeError';
  assert.throws(() => builtinTypes.Queue.create!([], { size: 3 }), (e: unknown) => isTypeError(e) && /unexpected keyword argument 'size'/.test((e as Error).message));
  assert.throws(() => builtinTypes.Value.create!(['i'], {}), isTypeError);
  assert.throws(() => builtinTypes.dict.create!([1, 2], {}), isTypeError);
  assert.throws(() => builtinTypes.list.create!([], { x: 1 }), isTypeError);
  assert.throws(() => builtinTypes.Namespace.create!([{}], {}), isTypeError);
});

test('builtinType finds only the built-in typeids, not Object\'s members', () => {
  assert.equal(builtinType('dict')?.type, Dict);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Pool', 'lock']) assert.equal(builtinType(name), undefined, name);
});
