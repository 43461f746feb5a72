import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float, FrozenSet, tuple } from '../../../src/common/valueTypes';
import { PySet, createSet } from '../../../src/server/builtins/set';
import { PyIterator } from '../../../src/server/builtins/iterator';
import { createList } from '../../../src/server/builtins/list';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { SharedRef } from '../../../src/server/calls/sharedRef';
import { startManager, RawClient } from '../../helpers/manager';
import { call, pyError } from './helpers';

function setOf(...items: unknown[]): PySet {
  return createSet([items], {});
}

/** The members of a set value, as a sorted array of numbers/strings for comparison. */
function sorted(value: unknown): unknown[] {
  assert.ok(value instanceof Set, `expected a Set, got ${String(value)}`);
  return [...value].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

test('add, contains, len and remove; 1, 1.0 and True are one member and the first given is kept', () => {
  const s = setOf();
  assert.equal(call(s, 'add', [1]), undefined);
  call(s, 'add', [new Float(1)]);
  call(s, 'add', [true]);
  call(s, 'add', ['a']);
  assert.equal(call(s, '__len__'), 2);
  assert.equal(call(s, '__contains__', [true]), true);
  assert.equal(call(s, '__contains__', [2]), false);
  assert.deepEqual(s.snapshot(), [1, 'a']);
  assert.equal(call(s, 'remove', [new Float(1)]), undefined);
  assert.deepEqual(s.snapshot(), ['a']);
});

test('remove of a missing member raises KeyError with the member as args', () => {
  assert.throws(() => call(setOf(1), 'remove', ['x']), pyError('KeyError', "'x'", ['x']));
  // A set is looked up as the frozenset of its members, and reported as the set it was.
  const missing = new Set([1]);
  assert.throws(() => call(setOf(1), 'remove', [missing]), pyError('KeyError', '{1}', [missing]));
});

test('discard ignores a missing member; pop takes one and raises KeyError on an empty set', () => {
  const s = setOf(1, 2);
  assert.equal(call(s, 'discard', [3]), undefined);
  const first = call(s, 'pop');
  const second = call(s, 'pop');
  assert.deepEqual([first, second].sort(), [1, 2]);
  assert.throws(() => call(s, 'pop'), pyError('KeyError', "'pop from an empty set'", ['pop from an empty set']));
});

test('unhashable members are refused with Python\'s TypeError; a set key is looked up as a frozenset', () => {
  const s = setOf(new FrozenSet([1]), tuple(1, 2));
  assert.throws(() => call(s, 'add', [[1]]), pyError('TypeError', "unhashable type: 'list'"));
  assert.throws(() => call(s, 'add', [new Set([1])]), pyError('TypeError', "unhashable type: 'set'"));
  assert.throws(() => call(s, '__contains__', [{ a: 1 }]), pyError('TypeError', "unhashable type: 'dict'"));
  assert.throws(() => call(s, 'discard', [[1]]), pyError('TypeError', "unhashable type: 'list'"));
  assert.equal(call(s, '__contains__', [new Set([1])]), true);
  assert.equal(call(s, '__contains__', [tuple<unknown>(true, new Float(2))]), true);
  call(s, 'remove', [new Set([1])]);
  assert.equal(call(s, '__len__'), 1);
});

test('the operators return set values and leave the set alone', () => {
  const s = setOf(1, 2, 3);
  const other = new Set([2, 3, 4]);
  assert.deepEqual(sorted(call(s, '__and__', [other])), [2, 3]);
  assert.deepEqual(sorted(call(s, '__or__', [other])), [1, 2, 3, 4]);
  assert.deepEqual(sorted(call(s, '__sub__', [other])), [1]);
  assert.deepEqual(sorted(call(s, '__xor__', [other])), [1, 4]);
  assert.deepEqual(sorted(call(s, '__rsub__', [other])), [4]);
  assert.deepEqual(sorted(call(s, '__rand__', [new FrozenSet([3, 9])])), [3]);
  assert.deepEqual(s.snapshot(), [1, 2, 3]);
});

test('a reflected operator with a frozenset on the left gives a frozenset, as Python gives the left operand\'s type', () => {
  const s = setOf(1);
  assert.ok(call(s, '__rsub__', [new FrozenSet([1, 2])]) instanceof FrozenSet);
  assert.ok(call(s, '__ror__', [new FrozenSet([2])]) instanceof FrozenSet);
  assert.ok(!(call(s, '__ror__', [new Set([2])]) instanceof FrozenSet));
  assert.ok(!(call(s, '__or__', [new FrozenSet([2])]) instanceof FrozenSet));
});

test('an operator given a non-set raises the TypeError Python\'s operator would end with', () => {
  const s = setOf(1);
  assert.throws(() => call(s, '__and__', [[1]]), pyError('TypeError', "unsupported operand type(s) for &: 'set' and 'list'"));
  assert.throws(() => call(s, '__rand__', [[1]]), pyError('TypeError', "unsupported operand type(s) for &: 'list' and 'set'"));
  assert.throws(() => call(s, '__ior__', ['ab']), pyError('TypeError', "unsupported operand type(s) for |=: 'set' and 'str'"));
  assert.throws(() => call(s, '__le__', [[1]]), pyError('TypeError', "'<=' not supported between instances of 'set' and 'list'"));
  assert.throws(() => call(s, '__gt__', [1]), pyError('TypeError', "'>' not supported between instances of 'set' and 'int'"));
  assert.equal(call(s, '__eq__', [[1]]), false, '== with a non-set is False, as Python falls back to identity');
});

test('the kept member of two equal ones comes from where CPython takes it', () => {
  // {1.0, 2} & {1} is {1}; {1.0} & {1, 2} is {1.0}: the smaller set is walked.
  assert.deepEqual([...(call(setOf(new Float(1), 2), '__and__', [new Set([1])]) as Set<unknown>)], [1]);
  assert.deepEqual([...(call(setOf(new Float(1)), '__and__', [new Set([1, 2])]) as Set<unknown>)], [new Float(1)]);
  // intersection with an iterable keeps the iterable's items; union keeps the set's own.
  assert.deepEqual(sorted(call(setOf(new Float(1), 2), 'intersection', [[1, 2]])), [1, 2]);
  assert.deepEqual([...(call(setOf(new Float(1)), '__or__', [new Set([1, true])]) as Set<unknown>)], [new Float(1)]);
});

test('the in-place operators change the set and return None; s -= s and s ^= s empty it', () => {
  const s = setOf(1, 2, 3);
  assert.equal(call(s, '__iand__', [new Set([1, 2, 5])]), null);
  assert.deepEqual(s.snapshot(), [1, 2]);
  assert.equal(call(s, '__ior__', [new Set([7])]), null);
  assert.equal(call(s, '__isub__', [new Set([1])]), null);
  assert.equal(call(s, '__ixor__', [new Set([2, 8])]), null);
  assert.deepEqual(s.snapshot().sort(), [7, 8]);
  const self = SharedRef.of(s);
  call(s, '__isub__', [self]);
  assert.equal(call(s, '__len__'), 0);
  const t = setOf(1, 2);
  call(t, '__ixor__', [SharedRef.of(t)]);
  assert.equal(call(t, '__len__'), 0);
});

test('comparisons order sets by inclusion', () => {
  const s = setOf(1, 2);
  assert.equal(call(s, '__le__', [new Set([1, 2])]), true);
  assert.equal(call(s, '__lt__', [new Set([1, 2])]), false);
  assert.equal(call(s, '__lt__', [new Set([1, 2, 3])]), true);
  assert.equal(call(s, '__ge__', [new FrozenSet([1])]), true);
  assert.equal(call(s, '__gt__', [new Set([1, 2])]), false);
  assert.equal(call(s, '__gt__', [new Set([3])]), false);
  assert.equal(call(s, '__eq__', [new Set([true, new Float(2)])]), true);
});

test('the named methods take any iterables, several where Python takes *others', () => {
  const s = setOf(1, 2, 3);
  assert.deepEqual(sorted(call(s, 'union', [[4], 'ab', { z: 0 }])), [1, 2, 3, 4, 'a', 'b', 'z']);
  assert.deepEqual(sorted(call(s, 'intersection', [[2, 3, 4], tuple(3)])), [3]);
  assert.deepEqual(sorted(call(s, 'intersection')), [1, 2, 3]);
  assert.deepEqual(sorted(call(s, 'difference', [[2], new Set([3])])), [1]);
  // Python makes a set of the iterable first: [2, 2] adds 2 once.
  assert.deepEqual(sorted(call(setOf(1), 'symmetric_difference', [[2, 2]])), [1, 2]);
  assert.equal(call(s, 'issubset', [[1, 2, 3, 4]]), true);
  assert.equal(call(s, 'issuperset', [[1]]), true);
  assert.equal(call(s, 'isdisjoint', [[4, 5]]), true);
  assert.equal(call(s, 'isdisjoint', [new Set([3])]), false);
  assert.throws(() => call(s, 'issubset', [[[1]]]), pyError('TypeError', "unhashable type: 'list'"));
  assert.throws(() => call(s, 'union', [5]), pyError('TypeError', "'int' object is not iterable"));
  assert.deepEqual(s.snapshot(), [1, 2, 3]);
});

test('the update methods change the set in place and return None', () => {
  const s = setOf(1, 2, 3);
  assert.equal(call(s, 'update', [[4], [5]]), undefined);
  assert.equal(call(s, 'difference_update', [[1], [2]]), undefined);
  assert.equal(call(s, 'intersection_update', [[3, 4, 5, 6]]), undefined);
  assert.equal(call(s, 'symmetric_difference_update', [[5, 9]]), undefined);
  assert.deepEqual(s.snapshot().sort(), [3, 4, 9]);
  // As in Python, items before an unhashable one stay added.
  assert.throws(() => call(s, 'update', [[10, [11]]]), pyError('TypeError', "unhashable type: 'list'"));
  assert.equal(call(s, '__contains__', [10]), true);
  call(s, 'clear');
  assert.equal(call(s, '__len__'), 0);
});

test('a shared list or set given by proxy is read in place', () => {
  const s = setOf(1);
  const list = SharedRef.of(createList([[2, 3]], {}));
  const other = SharedRef.of(setOf(3, 4));
  assert.deepEqual(sorted(call(s, 'union', [list])), [1, 2, 3]);
  assert.deepEqual(sorted(call(s, '__or__', [other])), [1, 3, 4]);
  assert.equal(call(s, '__le__', [other]), false);
  assert.throws(() => call(s, '__or__', [list]), pyError('TypeError', "unsupported operand type(s) for |: 'set' and 'list'"));
});

test('copy and #GETVALUE give a set value; repr is Python\'s; describeState counts the members', () => {
  const s = setOf('a', 1);
  const copy = call(s, 'copy') as Set<unknown>;
  assert.ok(copy instanceof Set && !(copy instanceof FrozenSet));
  copy.add('x');
  assert.equal(call(s, '__len__'), 2);
  assert.deepEqual(callFallback(s, '#GETVALUE'), new Set(['a', 1]));
  assert.equal(callFallback(s, '__repr__'), "{'a', 1}");
  assert.equal(callFallback(setOf(), '__str__'), 'set()');
  assert.deepEqual(s.describeState(), { size: 2, details: {} });
});

test('__iter__ gives a live Iterator; a change of size is Python\'s RuntimeError', () => {
  assert.deepEqual(PySet.methodToTypeid, { __iter__: 'Iterator' });
  const s = setOf(1, 2, 3);
  const it = call(s, '__iter__') as PyIterator;
  assert.ok(it instanceof PyIterator);
  assert.equal(call(it, '__next__'), 1);
  call(s, 'add', [4]);
  assert.throws(() => call(it, '__next__'), pyError('RuntimeError', 'Set changed size during iteration'));
  const all = call(s, '__iter__') as PyIterator;
  assert.deepEqual([1, 2, 3, 4].map(() => call(all, '__next__')), [1, 2, 3, 4]);
  assert.throws(() => call(all, '__next__'), pyError('StopIteration', ''));
});

test('set(...) takes one iterable and no keywords, as Python\'s does', () => {
  assert.deepEqual(createSet([], {}).snapshot(), []);
  assert.deepEqual(createSet(['abca'], {}).snapshot(), ['a', 'b', 'c']);
  assert.throws(() => createSet([[], []], {}), pyError('TypeError', 'set expected at most 1 argument, got 2'));
  assert.throws(() => createSet([], { iterable: [] }), pyError('TypeError', 'set() takes no keyword arguments'));
  assert.throws(() => createSet([1], {}), pyError('TypeError', "'int' object is not iterable"));
  assert.throws(() => createSet([[[1]]], {}), pyError('TypeError', "unhashable type: 'list'"));
});

test('set exposes SetProxy\'s methods (Python 3.14), each with a signature', () => {
  for (const name of ['__and__', '__rxor__', '__iand__', '__iter__', '__le__', 'symmetric_difference_update', 'isdisjoint']) {
    assert.ok(PySet.exposed.includes(name), name);
  }
  assert.equal(PySet.builtin, 'set');
  for (const name of PySet.exposed) {
    assert.ok(PySet.signatures[name], name);
    assert.equal(typeof (setOf() as unknown as Record<string, unknown>)[name], 'function', name);
  }
});

test('over a socket: a set is made, changed and read, and its results come back as $set', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  try {
    const token = (await c.request('object/create', { typeid: 'set', args: [[1, 2, 2, 3]] })).result;
    assert.equal(token.builtin, 'set');
    const callSet = async (method: string, args?: unknown[]) => c.request('object/call', { id: token.id, method, ...(args ? { args } : {}) });
    assert.equal((await callSet('__len__')).result, 3);
    assert.deepEqual((await callSet('__and__', [{ $set: [2, 3, 4] }])).result, { $set: [2, 3] });
    assert.deepEqual((await callSet('union', [[9]])).result, { $set: [1, 2, 3, 9] });
    assert.equal((await callSet('add', [{ $tuple: [1, 'x'] }])).result, null);
    assert.equal((await callSet('__contains__', [{ $tuple: [true, 'x'] }])).result, true);
    const missing = await callSet('remove', ['nope']);
    assert.equal(missing.error.data.type, 'KeyError');
    assert.equal(missing.error.data.message, "'nope'");
    const unhashable = await callSet('add', [[1]]);
    assert.equal(unhashable.error.data.type, 'TypeError');
    assert.deepEqual((await callSet('#GETVALUE')).result, { $set: [1, 2, 3, { $tuple: [1, 'x'] }] });
    assert.equal((await callSet('__repr__')).result, "{1, 2, 3, (1, 'x')}");
  } finally {
    c.close();
  }
});
