import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float, Slice, tuple } from '../../../src/common/valueTypes';
import { PyArray, createArray } from '../../../src/server/builtins/array';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { SharedRef } from '../../../src/server/calls/sharedRef';
import { startManager, RawClient } from '../../helpers/manager';
import { call, pyError } from './helpers';

/** The messages below are CPython 3.13's (3.12's are the same, but 3.12 has no 'w'), on 64-bit Linux. */

function arrayOf(typecode: string, items: unknown): PyArray {
  return createArray([typecode, items], {});
}

const slice = (start: unknown, stop: unknown, step: unknown = null) => new Slice(start, stop, step);

test('Array(typecode, sequence) holds the items; len, getitem and setitem as ArrayProxy calls them', () => {
  const a = arrayOf('i', [680, 626, 934, 821, 150]);
  assert.equal(call(a, '__len__'), 5);
  assert.equal(call(a, '__getitem__', [3]), 821);
  assert.equal(call(a, '__getitem__', [-1]), 150);
  assert.equal(call(a, '__getitem__', [true]), 626);
  assert.equal(call(a, '__setitem__', [0, -5]), undefined);
  assert.deepEqual(a.snapshot(), [-5, 626, 934, 821, 150]);
});

test('an index out of range or not an int raises array.array\'s errors', () => {
  const a = arrayOf('i', [1, 2, 3]);
  assert.throws(() => call(a, '__getitem__', [3]), pyError('IndexError', 'array index out of range'));
  assert.throws(() => call(a, '__getitem__', [-4]), pyError('IndexError', 'array index out of range'));
  assert.throws(() => call(a, '__setitem__', [3, 1]), pyError('IndexError', 'array assignment index out of range'));
  assert.throws(() => call(a, '__getitem__', ['x']), pyError('TypeError', 'array indices must be integers'));
  assert.throws(() => call(a, '__getitem__', [new Float(1)]), pyError('TypeError', 'array indices must be integers'));
  assert.throws(() => call(a, '__getitem__', [2n ** 70n]), pyError('IndexError', "cannot fit 'int' into an index-sized integer"));
  // The index is checked before the value, as in CPython.
  assert.throws(() => call(a, '__setitem__', [9, 'x']), pyError('IndexError', 'array assignment index out of range'));
});

test('each integer typecode keeps its C range, with array.array\'s OverflowError for each', () => {
  const cases: [string, number | bigint, number | bigint, string, string][] = [
    ['b', -128, 127, 'signed char is less than minimum', 'signed char is greater than maximum'],
    ['B', 0, 255, 'unsigned byte integer is less than minimum', 'unsigned byte integer is greater than maximum'],
    ['h', -32768, 32767, 'signed short integer is less than minimum', 'signed short integer is greater than maximum'],
    ['H', 0, 65535, 'unsigned short is less than minimum', 'unsigned short is greater than maximum'],
    ['i', -(2 ** 31), 2 ** 31 - 1, 'signed integer is less than minimum', 'signed integer is greater than maximum'],
    ['I', 0, 2 ** 32 - 1, "can't convert negative value to unsigned int", 'unsigned int is greater than maximum'],
    ['l', -(2n ** 63n), 2n ** 63n - 1n, 'Python int too large to convert to C long', 'Python int too large to convert to C long'],
    ['L', 0, 2n ** 64n - 1n, "can't convert negative value to unsigned int", 'Python int too large to convert to C unsigned long'],
    ['q', -(2n ** 63n), 2n ** 63n - 1n, 'int too big to convert', 'int too big to convert'],
    ['Q', 0, 2n ** 64n - 1n, "can't convert negative int to unsigned", 'int too big to convert'],
  ];
  for (const [code, min, max, below, above] of cases) {
    const a = arrayOf(code, [min, max]);
    assert.deepEqual(a.snapshot(), [min, max], code);
    assert.throws(() => call(a, '__setitem__', [0, BigInt(min) - 1n]), pyError('OverflowError', below), code);
    assert.throws(() => arrayOf(code, [BigInt(max) + 1n]), pyError('OverflowError', above), code);
  }
  // Beyond a C long, the narrow types fail converting to one first.
  assert.throws(() => arrayOf('b', [2n ** 64n]), pyError('OverflowError', 'Python int too large to convert to C long'));
  assert.throws(() => arrayOf('I', [2n ** 64n]), pyError('OverflowError', 'Python int too large to convert to C unsigned long'));
});

test('integer typecodes take ints and bools only, with Python\'s TypeError for the rest', () => {
  assert.deepEqual(arrayOf('h', [true, false, 7]).snapshot(), [1, 0, 7]);
  for (const [value, type] of [['x', 'str'], [1.5, 'float'], [new Float(2), 'float'], [null, 'NoneType'], [[1], 'list']] as const) {
    assert.throws(() => arrayOf('i', [value]), pyError('TypeError', `'${type}' object cannot be interpreted as an integer`), type);
  }
});

test('64-bit items come back as numbers while a double holds them, else as big ints', () => {
  const a = arrayOf('q', [2 ** 33, 2n ** 62n]);
  assert.equal(call(a, '__getitem__', [0]), 2 ** 33);
  assert.equal(call(a, '__getitem__', [1]), 2n ** 62n);
});

test('f and d take any real number; f rounds to float32 (overflowing to inf); integral floats stay floats', () => {
  const f = arrayOf('f', [0.1, 2, true, 1e39, new Float(3)]);
  assert.deepEqual(f.snapshot(), [0.10000000149011612, new Float(2), new Float(1), Infinity, new Float(3)]);
  const d = arrayOf('d', [0.1, 1e39, 2n ** 200n]);
  assert.deepEqual(d.snapshot(), [0.1, new Float(1e39), new Float(1.6069380442589903e60)]);
  assert.throws(() => arrayOf('d', [2n ** 1024n]), pyError('OverflowError', 'int too large to convert to float'));
  assert.throws(() => arrayOf('f', ['x']), pyError('TypeError', 'must be real number, not str'));
  assert.throws(() => call(d, '__setitem__', [0, null]), pyError('TypeError', 'must be real number, not NoneType'));
});

test('u and w hold characters; a str initializes them, and only them', () => {
  assert.deepEqual(arrayOf('u', 'ab\u{1F600}').snapshot(), ['a', 'b', '\u{1F600}']);
  assert.deepEqual(arrayOf('w', ['x', 'y']).snapshot(), ['x', 'y']);
  for (const bad of ['xy', 1, '']) {
    assert.throws(() => arrayOf('u', [bad]), pyError('TypeError', 'array item must be unicode character'), String(bad));
  }
  assert.throws(() => arrayOf('i', 'ab'), pyError('TypeError', "cannot use a str to initialize an array with typecode 'i'"));
});

test('an initializer may be any iterable, or bytes read as machine values', () => {
  assert.deepEqual(arrayOf('i', tuple(1, 2)).snapshot(), [1, 2]);
  assert.deepEqual(arrayOf('i', new Map([[3, 'x']])).snapshot(), [3]);
  assert.deepEqual(arrayOf('i', Buffer.from([1, 0, 0, 0, 255, 255, 255, 255])).snapshot(), [1, -1]);
  assert.deepEqual(arrayOf('B', Buffer.from('hi')).snapshot(), [104, 105]);
  assert.throws(() => arrayOf('i', Buffer.from([1, 0, 0])), pyError('ValueError', 'bytes length not a multiple of item size'));
  assert.throws(() => arrayOf('i', 5), pyError('TypeError', "'int' object is not iterable"));
  assert.throws(() => arrayOf('i', null), pyError('TypeError', "'NoneType' object is not iterable"));
});

test('a bad typecode raises Python 3.13\'s errors', () => {
  assert.throws(() => arrayOf('x', []), pyError('ValueError', 'bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)'));
  assert.throws(() => arrayOf('c', []), pyError('ValueError', 'bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)'));
  assert.throws(() => arrayOf('ii', []), pyError('TypeError', 'array() argument 1 must be a unicode character, not str'));
  assert.throws(() => arrayOf(1 as unknown as string, []), pyError('TypeError', 'array() argument 1 must be a unicode character, not int'));
  assert.throws(() => arrayOf('constructor', []), pyError('TypeError', 'array() argument 1 must be a unicode character, not str'));
});

test('Array(...) binds typecode, sequence and lock as managers.Array does, and ignores lock', () => {
  assert.deepEqual(createArray([], { typecode: 'd', sequence: [1.5], lock: false }).snapshot(), [1.5]);
  assert.throws(() => createArray(['i'], {}), pyError('TypeError', "Array() missing 1 required positional argument: 'sequence'"));
  assert.throws(() => createArray(['i', [], true, 4], {}), pyError('TypeError', /^Array\(\) takes from 2 to 3 positional arguments but 4 were given$/));
});

test('a slice reads a list of the items (Python gives an array.array), with any step', () => {
  const a = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(call(a, '__getitem__', [slice(1, 3)]), [1, 2]);
  assert.deepEqual(call(a, '__getitem__', [slice(null, null, -3)]), [9, 6, 3, 0]);
  assert.deepEqual(call(a, '__getitem__', [slice(2n ** 70n, null)]), []);
  assert.deepEqual(call(a, '__getitem__', [slice(-3, null)]), [7, 8, 9]);
  assert.deepEqual(call(arrayOf('d', [1, 2.5]), '__getitem__', [slice(null, null)]), [new Float(1), 2.5]);
  assert.throws(() => call(a, '__getitem__', [slice(null, null, 0)]), pyError('ValueError', 'slice step cannot be zero'));
  assert.throws(() => call(a, '__getitem__', [slice('a', null)]), pyError('TypeError', 'slice indices must be integers or None or have an __index__ method'));
});

test('a step-1 slice assignment takes a list of any length: the array grows or shrinks', () => {
  const grow = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  call(grow, '__setitem__', [slice(2, 4), [1, 2, 3, 4]]);
  assert.deepEqual(grow.snapshot(), [0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9]);
  const shrink = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  call(shrink, '__setitem__', [slice(2, 8), []]);
  assert.deepEqual(shrink.snapshot(), [0, 1, 8, 9]);
  const insert = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  call(insert, '__setitem__', [slice(5, 2), tuple(7)]);
  assert.deepEqual(insert.snapshot(), [0, 1, 2, 3, 4, 7, 5, 6, 7, 8, 9]);
});

test('an extended slice assignment takes exactly as many items, or none, which deletes them (as CPython\'s array does)', () => {
  const a = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  call(a, '__setitem__', [slice(null, null, -3), [1, 2, 3, 4]]);
  assert.deepEqual(a.snapshot(), [4, 1, 2, 3, 4, 5, 2, 7, 8, 1]);
  assert.throws(() => call(a, '__setitem__', [slice(0, 5, 2), [7, 8]]), pyError('ValueError', 'attempt to assign array of size 2 to extended slice of size 3'));
  const reversed = arrayOf('i', [0, 1, 2]);
  call(reversed, '__setitem__', [slice(null, null, -1), [0, 1, 2]]);
  assert.deepEqual(reversed.snapshot(), [2, 1, 0]);
  const deleted = arrayOf('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  call(deleted, '__setitem__', [slice(null, null, -3), []]);
  assert.deepEqual(deleted.snapshot(), [1, 2, 4, 5, 7, 8]);
});

test('a slice assignment converts every item first: a bad one changes nothing', () => {
  const a = arrayOf('b', [1, 2, 3]);
  assert.throws(() => call(a, '__setitem__', [slice(0, 2), [5, 300]]), pyError('OverflowError', 'signed char is greater than maximum'));
  assert.throws(() => call(a, '__setitem__', [slice(0, 2), 5]), pyError('TypeError', 'can only assign array (not "int") to array slice'));
  assert.throws(() => call(a, '__setitem__', [slice(null, null, 0), []]), pyError('ValueError', 'slice step cannot be zero'));
  assert.deepEqual(a.snapshot(), [1, 2, 3]);
});

test('a shared Array of the same typecode may be assigned to a slice; another typecode is refused', () => {
  const a = arrayOf('i', [0, 0, 0]);
  call(a, '__setitem__', [slice(0, 2), SharedRef.of(arrayOf('i', [5, 6]))]);
  assert.deepEqual(a.snapshot(), [5, 6, 0]);
  assert.throws(() => call(a, '__setitem__', [slice(0, 2), SharedRef.of(arrayOf('d', [5, 6]))]), pyError('TypeError', 'bad argument type for built-in operation'));
});

test('#GETVALUE gives the items, repr is array.array\'s, describeState gives the size and typecode', () => {
  const a = arrayOf('f', [0.1, 2]);
  assert.deepEqual(callFallback(a, '#GETVALUE'), [0.10000000149011612, new Float(2)]);
  assert.equal(callFallback(a, '__repr__'), "array('f', [0.10000000149011612, 2.0])");
  assert.equal(callFallback(arrayOf('u', 'ab'), '__repr__'), "array('u', 'ab')");
  assert.equal(callFallback(arrayOf('i', []), '__str__'), "array('i')");
  assert.deepEqual(a.describeState(), { size: 2, details: { typecode: 'f' } });
});

test('Array exposes ArrayProxy\'s three methods, each with a signature', () => {
  assert.equal(PyArray.builtin, 'Array');
  assert.deepEqual([...PyArray.exposed], ['__len__', '__getitem__', '__setitem__']);
  for (const name of PyArray.exposed) assert.ok(PyArray.signatures[name], name);
});

test('over a socket: an Array is made, sliced with $slice and assigned', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  try {
    const token = (await c.request('object/create', { typeid: 'Array', args: ['i', [680, 626, 934, 821, 150, 233, 548]] })).result;
    assert.equal(token.builtin, 'Array');
    const callArray = (method: string, args?: unknown[]) => c.request('object/call', { id: token.id, method, ...(args ? { args } : {}) });
    assert.equal((await callArray('__len__')).result, 7);
    assert.deepEqual((await callArray('__getitem__', [{ $slice: [2, 5, null] }])).result, [934, 821, 150]);
    assert.equal((await callArray('__setitem__', [{ $slice: [null, null, 2] }, [1, 2, 3, 4]])).result, null);
    assert.deepEqual((await callArray('#GETVALUE')).result, [1, 626, 2, 821, 3, 233, 4]);
    const tooMany = await callArray('__setitem__', [{ $slice: [null, null, 2] }, [1, 2]]);
    assert.equal(tooMany.error.data.type, 'ValueError');
    assert.equal(tooMany.error.data.message, 'attempt to assign array of size 2 to extended slice of size 4');
    const floats = (await c.request('object/create', { typeid: 'Array', args: ['d', [1, 2.5]] })).result;
    assert.deepEqual((await c.request('object/call', { id: floats.id, method: '__getitem__', args: [0] })).result, { $float: 1 });
    const bad = await c.request('object/create', { typeid: 'Array', args: ['x', []] });
    assert.equal(bad.error.data.type, 'ValueError');
  } finally {
    c.close();
  }
});
