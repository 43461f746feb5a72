import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyException } from '../../../src/server/exceptions';
import { Float, isTuple, tuple } from '../../../src/common/valueTypes';
import { Dict, createDict } from '../../../src/server/builtins/dict';
import { call, drain, pyError } from './helpers';
import { PyIterator } from '../../../src/server/builtins/iterator';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { SharedRef } from '../../../src/server/calls/sharedRef';

/** A tuple of mixed items (tuple<T> would infer T from the first). */
const tup = (...items: unknown[]) => tuple<unknown>(...items);

/** Calls a method the way the server does, with wire args and kwargs. */


function dictOf(init: unknown = {}): Dict {
  return createDict([init], {});
}

test('setitem then getitem returns the value for a str key', () => {
  const d = dictOf();
  assert.equal(call(d, '__setitem__', ['a', 1]), undefined);
  assert.equal(call(d, '__getitem__', ['a']), 1);
});

test('getitem of a missing key raises KeyError with the key as args and its repr as message', () => {
  assert.throws(() => call(dictOf(), '__getitem__', ['x']), pyError('KeyError', "'x'", ['x']));
});

test('tuple keys work and a missing one is reported as Python reprs it', () => {
  const d = dictOf(new Map([[tup(1, 'a'), 'found']]));
  assert.equal(call(d, '__getitem__', [tup(true, 'a')]), 'found');
  assert.throws(() => call(d, '__getitem__', [tup(1, 'b')]), pyError('KeyError', "(1, 'b')"));
});

test('1, 1.0, True and a big int equal to them are one key, and the first key given is kept', () => {
  const d = dictOf();
  call(d, '__setitem__', [1, 'int']);
  call(d, '__setitem__', [new Float(1), 'float']);
  call(d, '__setitem__', [true, 'bool']);
  assert.equal(call(d, '__len__'), 1);
  assert.deepEqual(call(d, 'keys'), [1]);
  assert.equal(call(d, '__getitem__', [1n]), 'bool');
});

test('an unhashable key is refused with TypeError by every method that hashes', () => {
  const d = dictOf();
  for (const [method, args] of [['__setitem__', [[1], 2]], ['__getitem__', [[1]]], ['__contains__', [{}]], ['get', [new Set()]], ['pop', [[1], null]]] as const) {
    assert.throws(() => call(d, method, [...args]), (e: unknown) => e instanceof PyException && e.type === 'TypeError' && /^unhashable type: '(list|dict|set)'$/.test(e.message));
  }
});

test('contains, len and delitem behave as dict does', () => {
  const d = dictOf({ a: 1, b: 2 });
  assert.equal(call(d, '__contains__', ['a']), true);
  assert.equal(call(d, '__contains__', ['z']), false);
  assert.equal(call(d, '__delitem__', ['a']), undefined);
  assert.equal(call(d, '__len__'), 1);
  assert.throws(() => call(d, '__delitem__', ['a']), pyError('KeyError', "'a'", ['a']));
});

test('get returns None or the given default for a missing key', () => {
  const d = dictOf({ a: 1 });
  assert.equal(call(d, 'get', ['a']), 1);
  assert.equal(call(d, 'get', ['zz']), null);
  assert.equal(call(d, 'get', ['zz', 3]), 3);
});

test('pop without a default raises KeyError; with a default, even None, returns it', () => {
  const d = dictOf({ a: 1 });
  assert.throws(() => call(d, 'pop', ['x']), pyError('KeyError', "'x'", ['x']));
  assert.equal(call(d, 'pop', ['x', null]), null);
  assert.equal(call(d, 'pop', ['x', 0]), 0);
  assert.equal(call(d, 'pop', ['a']), 1);
  assert.equal(call(d, '__len__'), 0);
});

test('popitem removes the last inserted item and returns it as a tuple', () => {
  const d = dictOf({ a: 1, b: 2 });
  const item = call(d, 'popitem');
  assert.ok(isTuple(item));
  assert.deepEqual([...(item as Iterable<unknown>)], ['b', 2]);
  assert.deepEqual([...(call(d, 'popitem') as Iterable<unknown>)], ['a', 1]);
});

test('popitem on an empty dict raises KeyError as Python words it', () => {
  assert.throws(() => call(dictOf(), 'popitem'), pyError('KeyError', "'popitem(): dictionary is empty'", ['popitem(): dictionary is empty']));
});

test('setdefault returns the value, setting the default (None unless given) when absent', () => {
  const d = dictOf({ a: 1 });
  assert.equal(call(d, 'setdefault', ['a', 5]), 1);
  assert.equal(call(d, 'setdefault', ['q']), null);
  assert.equal(call(d, 'setdefault', ['r', 7]), 7);
  assert.deepEqual(call(d, 'copy'), { a: 1, q: null, r: 7 });
});

test('update takes a mapping, pairs and keywords, keywords last', () => {
  const d = dictOf();
  assert.equal(call(d, 'update', [{ a: 1 }], { b: 2 }), undefined);
  call(d, 'update', [[['c', 3], tup(4, 'four')]]);
  call(d, 'update', [new Map([[tup(1, 2), 'pair']])], { a: 'kw' });
  assert.deepEqual(call(d, 'keys'), ['a', 'b', 'c', 4, tup(1, 2)]);
  assert.equal(call(d, '__getitem__', ['a']), 'kw');
});

test('update with a keyword named other sets that key, as Python does', () => {
  const d = dictOf();
  call(d, 'update', [], { other: 5 });
  assert.deepEqual(call(d, 'copy'), { other: 5 });
});

test('update with two positionals raises Python\'s TypeError', () => {
  assert.throws(() => call(dictOf(), 'update', [{}, {}]), pyError('TypeError', 'update expected at most 1 argument, got 2'));
});

test('update refuses bad pairs with Python\'s errors, keeping the pairs before the bad one', () => {
  const d = dictOf();
  assert.throws(() => call(d, 'update', [[[1, 2], 5]]), pyError('TypeError', 'cannot convert dictionary update sequence element #1 to a sequence'));
  assert.deepEqual(call(d, 'keys'), [1]);
  assert.throws(() => call(d, 'update', [[[1, 2, 3]]]), pyError('ValueError', 'dictionary update sequence element #0 has length 3; 2 is required'));
  assert.throws(() => call(d, 'update', [5]), pyError('TypeError', "'int' object is not iterable"));
});

test('a 2-character str is a pair, as in Python: update(["ab"]) sets a to b', () => {
  const d = dictOf();
  call(d, 'update', [['ab']]);
  assert.deepEqual(call(d, 'copy'), { a: 'b' });
});

test('keys, values and items are arrays, items of (key, value) tuples', () => {
  const d = dictOf(new Map<unknown, unknown>([['a', 1], [2, 'b']]));
  assert.deepEqual(call(d, 'keys'), ['a', 2]);
  assert.deepEqual(call(d, 'values'), [1, 'b']);
  const items = call(d, 'items') as unknown[];
  assert.ok(items.every(isTuple));
  assert.deepEqual(items.map((t) => [...(t as Iterable<unknown>)]), [['a', 1], [2, 'b']]);
});

test('copy is a plain object when every key is a str, else a Map', () => {
  assert.deepEqual(call(dictOf({ a: 1 }), 'copy'), { a: 1 });
  const copy = call(dictOf(new Map([[1, 'x']])), 'copy');
  assert.ok(copy instanceof Map);
  assert.deepEqual([...copy], [[1, 'x']]);
});

test('copy is a snapshot: later changes do not reach it', () => {
  const d = dictOf({ a: 1 });
  const copy = call(d, 'copy') as Record<string, unknown>;
  call(d, '__setitem__', ['a', 2]);
  assert.equal(copy.a, 1);
});

test('clear removes every item', () => {
  const d = dictOf({ a: 1, b: 2 });
  assert.equal(call(d, 'clear'), undefined);
  assert.equal(call(d, '__len__'), 0);
});

test('a key named __proto__ is an ordinary key', () => {
  const d = dictOf(JSON.parse('{"__proto__": 1}'));
  assert.equal(call(d, '__getitem__', ['__proto__']), 1);
  const copy = call(d, 'copy') as object;
  assert.deepEqual(Object.keys(copy), ['__proto__']);
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
});

test('dict(...) takes a mapping or pairs plus keywords, and refuses two positionals', () => {
  assert.deepEqual((call(createDict([[[1, 2]]], { a: 3 }), 'items') as unknown[][]).map((t) => [...t]), [[1, 2], ['a', 3]]);
  assert.deepEqual(call(createDict([], { a: 1 }), 'copy'), { a: 1 });
  assert.throws(() => createDict([{}, {}], {}), pyError('TypeError', 'dict expected at most 1 argument, got 2'));
  assert.throws(() => createDict([1], {}), pyError('TypeError', "'int' object is not iterable"));
});

test('dict exposes DictProxy\'s methods, __iter__ included, each with a signature', () => {
  assert.ok(Dict.exposed.includes('__iter__'));
  assert.equal(Dict.exposed.length, 21);
  for (const name of Dict.exposed) assert.ok(Dict.signatures[name], name);
  assert.deepEqual(Dict.methodToTypeid, { __iter__: 'Iterator', __reversed__: 'Iterator' });
});

// --- iteration, repr and #GETVALUE ---


/** Every item an iterator gives until StopIteration (at most `limit`). */
test('__iter__ gives the keys in order, once; a change of size is Python\'s RuntimeError (test_dict_iter)', () => {
  const d = dictOf();
  for (let i = 65; i < 70; i++) call(d, '__setitem__', [i, String.fromCharCode(i)]);
  const it = call(d, '__iter__');
  assert.ok(it instanceof PyIterator);
  assert.deepEqual(drain(it), [65, 66, 67, 68, 69]);
  assert.deepEqual(drain(it), []);
  const again = call(d, '__iter__') as object;
  call(d, 'clear');
  assert.throws(() => call(again, '__next__'), pyError('RuntimeError', 'dictionary changed size during iteration'));
  // Once failed, the iterator stays done, as Python's does.
  assert.throws(() => call(again, '__next__'), pyError('StopIteration', ''));
});

test('__iter__ sees a value replaced under an existing key: only the size is watched', () => {
  const d = dictOf({ a: 1, b: 2 });
  const it = call(d, '__iter__') as object;
  assert.equal(call(it, '__next__'), 'a');
  call(d, '__setitem__', ['b', 20]);
  assert.equal(call(it, '__next__'), 'b');
});

test('#GETVALUE gives a copy, and repr is Python\'s', () => {
  const d = dictOf(new Map<unknown, unknown>([[1, 'a'], [tup(2, 3), [4]]]));
  const value = callFallback(d, '#GETVALUE') as Map<unknown, unknown>;
  assert.deepEqual([...value], [[1, 'a'], [tup(2, 3), [4]]]);
  value.set('x', 1);
  assert.equal(call(d, '__len__'), 2);
  assert.equal(callFallback(d, '__repr__'), "{1: 'a', (2, 3): [4]}");
  assert.equal(callFallback(dictOf({ k: 'v' }), '__str__'), "{'k': 'v'}");
  assert.deepEqual(callFallback(dictOf({ k: 'v' }), '#GETVALUE'), { k: 'v' });
});

test('update and dict() read a shared dict given by proxy in place', () => {
  const d = dictOf({ a: 1 });
  call(d, 'update', [SharedRef.of(dictOf({ b: 2 }))]);
  assert.deepEqual(call(d, 'copy'), { a: 1, b: 2 });
  assert.deepEqual(call(createDict([SharedRef.of(d)], {}), 'copy'), { a: 1, b: 2 });
});

test('d | other, other | d and d |= other merge as Python 3.9+; a non-mapping is the TypeError Python gives', () => {
  const d = createDict([{ a: 1, b: 2 }], {});
  assert.deepEqual(call(d, '__or__', [{ b: 3, c: 4 }]), { a: 1, b: 3, c: 4 });
  assert.deepEqual(call(d, '__ror__', [{ b: 3, c: 4 }]), { b: 2, c: 4, a: 1 });
  assert.deepEqual(call(d, 'copy'), { a: 1, b: 2 }, '| leaves the dict as it was');
  assert.throws(() => call(d, '__or__', [1]), pyError('TypeError', "unsupported operand type(s) for |: 'dict' and 'int'"));
  assert.throws(() => call(d, '__ror__', [[1]]), pyError('TypeError', "unsupported operand type(s) for |: 'list' and 'dict'"));
  assert.equal(call(d, '__ior__', [[['z', 26]]]), undefined, '|= takes pairs too, as update does');
  assert.deepEqual(call(d, 'copy'), { a: 1, b: 2, z: 26 });
});

test('reversed(d) iterates the keys last first; fromkeys makes a new dict and leaves this one', () => {
  const d = createDict([{ a: 1, b: 2, c: 3 }], {});
  const it = call(d, '__reversed__') as { __next__(): unknown };
  assert.deepEqual([it.__next__(), it.__next__(), it.__next__()], ['c', 'b', 'a']);
  assert.throws(() => it.__next__(), pyError('StopIteration', ''));
  assert.deepEqual(call(d, 'fromkeys', [['x', 'y'], 0]), { x: 0, y: 0 });
  assert.deepEqual(call(d, 'fromkeys', ['ab']), { a: null, b: null });
  assert.equal(call(d, '__len__'), 3);
  assert.deepEqual(Dict.methodToTypeid, { __iter__: 'Iterator', __reversed__: 'Iterator' });
});
