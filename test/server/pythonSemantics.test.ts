import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float, FrozenSet, OpaqueValue, tuple } from '../../src/common/valueTypes';

/** A tuple of mixed items (tuple<T> would infer T from the first). */
const tup = (...items: unknown[]) => tuple<unknown>(...items);
import { LAST, PyDict, pyCompare, pyEquals, pyHashKey, pyIterate, pyRepr, pyTruthy, pyTypeName } from '../../src/server/pythonSemantics';
import { pyError } from './builtins/helpers';


const bytes = (...b: number[]) => Buffer.from(b);

/**
 * A frozenset of these members. `new FrozenSet(items)` currently throws in valueTypes.ts (Set's
 * constructor calls the overridden add before #sealed exists), so fall back to a Set with
 * FrozenSet's prototype, which is all these functions look at.
 */
function frozenset(...items: unknown[]): FrozenSet {
  try {
    return new FrozenSet(items);
  } catch {
    return Object.setPrototypeOf(new Set(items), FrozenSet.prototype) as FrozenSet;
  }
}

test('pyTypeName names each representation as Python does', () => {
  const cases: [unknown, string][] = [
    [1, 'int'], [10n ** 30n, 'int'], [1.5, 'float'], [new Float(2), 'float'], [NaN, 'float'], ['s', 'str'],
    [bytes(1), 'bytes'], [true, 'bool'], [null, 'NoneType'], [[1], 'list'], [tup(1), 'tuple'], [{ a: 1 }, 'dict'],
    [new Map([[1, 2]]), 'dict'], [new Set([1]), 'set'], [frozenset(1), 'frozenset'],
    [new OpaqueValue('python', 'fractions.Fraction', bytes(1)), 'Fraction'],
  ];
  for (const [v, name] of cases) assert.equal(pyTypeName(v), name, `type of ${String(v)}`);
});

test('pyRepr of str picks quotes and escapes as Python does', () => {
  assert.equal(pyRepr('abc'), "'abc'");
  assert.equal(pyRepr("a'b"), `"a'b"`);
  assert.equal(pyRepr(`it's "q"`), `'it\\'s "q"'`);
  assert.equal(pyRepr('\x00\x7f\u00a0\u2028é\u{1F600}\n\t\\'), "'\\x00\\x7f\\xa0\\u2028é\u{1F600}\\n\\t\\\\'");
});

test('pyRepr of bytes shows printable ASCII and escapes the rest', () => {
  assert.equal(pyRepr(bytes(0, 0x61)), "b'\\x00a'");
  assert.equal(pyRepr(bytes(0, 0x61, 0x27, 0x22)), `b'\\x00a\\'"'`);
  assert.equal(pyRepr(bytes(0x27, 0x78)), `b"'x"`);
  assert.equal(pyRepr(bytes(0x5c, 0x0a, 0xff)), "b'\\\\\\n\\xff'");
});

test('pyRepr of numbers matches Python ints and floats', () => {
  const cases: [unknown, string][] = [
    [new Float(2), '2.0'], [new Float(1e16), '1e+16'], [new Float(1e15), '1000000000000000.0'], [1e-5, '1e-05'],
    [0.0001, '0.0001'], [-1.5e-7, '-1.5e-07'], [1.5, '1.5'], [0.1 + 0.2, '0.30000000000000004'], [NaN, 'nan'],
    [-Infinity, '-inf'], [new Float(123456789012345678), '1.2345678901234568e+17'], [1e20, '100000000000000000000'],
    [10n ** 20n, '100000000000000000000'], [new Float(-0), '-0.0'], [true, 'True'], [false, 'False'], [null, 'None'],
  ];
  for (const [v, text] of cases) assert.equal(pyRepr(v), text);
});

test('pyRepr of containers matches Python', () => {
  assert.equal(pyRepr(tup(1)), '(1,)');
  assert.equal(pyRepr(tup()), '()');
  assert.equal(pyRepr(tup(1, 'a')), "(1, 'a')");
  assert.equal(pyRepr([1, [2, tup(3)]]), '[1, [2, (3,)]]');
  assert.equal(pyRepr({ a: 1, b: [null, true] }), "{'a': 1, 'b': [None, True]}");
  assert.equal(pyRepr(new Map<unknown, unknown>([[1, 'x'], [tup(1, 2), bytes(0x79)]])), "{1: 'x', (1, 2): b'y'}");
  assert.equal(pyRepr(new Set([1, 2])), '{1, 2}');
  assert.equal(pyRepr(new Set()), 'set()');
  assert.equal(pyRepr(frozenset(1)), 'frozenset({1})');
  assert.equal(pyRepr(frozenset()), 'frozenset()');
});

test('pyRepr of a list that holds itself prints [...]', () => {
  const a: unknown[] = [1];
  a.push(a);
  assert.equal(pyRepr(a), '[1, [...]]');
});

test('pyEquals: 1 == 1.0 == True == Float(1) == 1n, and 1e20 == 10**20', () => {
  for (const x of [1, new Float(1), true, 1n]) for (const y of [1, new Float(1), true, 1n]) assert.ok(pyEquals(x, y));
  assert.ok(pyEquals(1e20, 10n ** 20n));
  assert.ok(!pyEquals(1.5, 1n));
  assert.ok(!pyEquals(1, '1'));
  assert.ok(!pyEquals(NaN, NaN));
  assert.ok(pyEquals(null, undefined));
});

test('pyEquals: a tuple never equals a list, sequences compare item by item', () => {
  assert.ok(!pyEquals(tup(1), [1]));
  assert.ok(pyEquals(tup(1, 'a'), tup(true, 'a')));
  assert.ok(pyEquals([1, [2]], [1, [new Float(2)]]));
  assert.ok(!pyEquals([1, 2], [1, 2, 3]));
});

test('pyEquals: dicts by items whatever their representation, sets by members, bytes by content', () => {
  assert.ok(pyEquals({ a: 1 }, new Map([['a', new Float(1)]])));
  assert.ok(pyEquals(new Map([[1, 2]]), new Map([[new Float(1), 2]])));
  assert.ok(!pyEquals({ a: 1 }, { a: 2 }));
  assert.ok(!pyEquals({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(pyEquals(new Set([true]), frozenset(1)));
  assert.ok(!pyEquals(new Set([1]), new Set([2])));
  assert.ok(pyEquals(bytes(1, 2), new Uint8Array([1, 2])));
  assert.ok(!pyEquals(bytes(1, 2), bytes(1, 3)));
});

test('pyHashKey gives Python-equal values the same key', () => {
  const keys = [1, 1.0, true, new Float(1), 1n].map(pyHashKey);
  assert.equal(new Set(keys).size, 1);
  assert.equal(pyHashKey(1e20), pyHashKey(10n ** 20n));
  assert.equal(pyHashKey(-0), pyHashKey(0));
  assert.equal(pyHashKey(tup(1, 'a')), pyHashKey(tup(new Float(1), 'a')));
  assert.equal(pyHashKey(frozenset(1, 2)), pyHashKey(frozenset(2, 1)));
  assert.equal(pyHashKey(bytes(1, 2)), pyHashKey(new Uint8Array([1, 2])));
});

test('pyHashKey keeps unequal values apart, even ones whose text looks alike', () => {
  const values = [1, 0.5, '1', 'i1', bytes(1), tup(1), tup('a,b'), tup('a', 'b'), tup(tup('a'), 'b'), frozenset(1), null, 'N', ''];
  assert.equal(new Set(values.map(pyHashKey)).size, values.length);
});

test('pyHashKey refuses unhashable values with Python\'s TypeError', () => {
  assert.throws(() => pyHashKey([1]), pyError('TypeError', "unhashable type: 'list'"));
  assert.throws(() => pyHashKey({ a: 1 }), pyError('TypeError', "unhashable type: 'dict'"));
  assert.throws(() => pyHashKey(new Map()), pyError('TypeError', "unhashable type: 'dict'"));
  assert.throws(() => pyHashKey(new Set()), pyError('TypeError', "unhashable type: 'set'"));
  assert.throws(() => pyHashKey(tup(1, [2])), pyError('TypeError', "unhashable type: 'list'"));
});

test('pyCompare orders numbers of every representation exactly', () => {
  assert.ok(pyCompare(1, 1.5) < 0);
  assert.ok(pyCompare(true, new Float(0.5)) > 0);
  assert.equal(pyCompare(2n, new Float(2)), 0);
  assert.ok(pyCompare(2n ** 53n + 1n, 2 ** 53) > 0);
  assert.ok(pyCompare(2 ** 53, 2n ** 53n + 1n) < 0);
  assert.ok(pyCompare(-Infinity, -(10n ** 400n)) < 0);
});

test('pyCompare orders strings by code point, as Python does', () => {
  const sorted = ['\u{1F600}', '\uffff', 'a'].sort(pyCompare);
  assert.deepEqual(sorted, ['a', '\uffff', '\u{1F600}']);
});

test('pyCompare orders tuples and lists lexicographically', () => {
  assert.ok(pyCompare(tup(1, 2), tup(1, 2, 0)) < 0);
  assert.ok(pyCompare(tup(1, 'b'), tup(1, 'c')) < 0);
  assert.ok(pyCompare([1, 3], [1, 2]) > 0);
  assert.ok(pyCompare(bytes(1), bytes(1, 0)) < 0);
});

test('pyCompare refuses mixed types with Python\'s TypeError', () => {
  assert.throws(() => pyCompare('a', 1), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
  assert.throws(() => pyCompare(tup(1), [1]), pyError('TypeError', "'<' not supported between instances of 'tuple' and 'list'"));
  assert.throws(() => pyCompare(null, null), pyError('TypeError', "'<' not supported between instances of 'NoneType' and 'NoneType'"));
  assert.throws(() => pyCompare({}, {}), pyError('TypeError', "'<' not supported between instances of 'dict' and 'dict'"));
});

test('pyTruthy follows Python: zeros, None and empty containers are false', () => {
  for (const v of [0, -0, 0n, false, null, '', [], tup(), {}, new Map(), new Set(), bytes(), new Float(0)]) assert.equal(pyTruthy(v), false, pyRepr(v));
  for (const v of [1, 0.5, NaN, 'a', [0], { a: 0 }, new Float(2)]) assert.equal(pyTruthy(v), true, pyRepr(v));
});

test('pyIterate gives what Python iteration gives, and refuses non-iterables', () => {
  assert.deepEqual(pyIterate('a\u{1F600}'), ['a', '\u{1F600}']);
  assert.deepEqual(pyIterate(bytes(97, 98)), [97, 98]);
  assert.deepEqual(pyIterate({ x: 1, y: 2 }), ['x', 'y']);
  assert.deepEqual(pyIterate(new Map([[1, 2]])), [1]);
  assert.throws(() => pyIterate(5), pyError('TypeError', "'int' object is not iterable"));
  assert.throws(() => pyIterate(null), pyError('TypeError', "'NoneType' object is not iterable"));
});

test('PyDict keeps insertion order and the first key given for equal keys', () => {
  const d = new PyDict<string>();
  d.set(1, 'a');
  d.set('x', 'b');
  d.set(new Float(1), 'c');
  assert.deepEqual([...d.entries()], [[1, 'c'], ['x', 'b']]);
  d.delete(true);
  d.set(1.0, 'd');
  assert.deepEqual([...d.keys()], ['x', 1]);
});

test('PyDict take(LAST) removes the most recent entry', () => {
  const d = new PyDict<number>([['a', 1], ['b', 2], ['c', 3]]);
  d.delete('c');
  const b = d.take(LAST);
  assert.deepEqual([b?.key, b?.value], ['b', 2]);
  assert.equal(d.take(LAST)?.key, 'a');
  assert.equal(d.take(LAST), undefined);
  assert.equal(d.size, 0);
});

test('PyDict take gives back an entry in its place, or last if its neighbours changed', () => {
  const d = new PyDict<number>([['a', 1], ['b', 2], ['c', 3]]);
  d.take('b')?.putBack();
  assert.deepEqual([...d.entries()], [['a', 1], ['b', 2], ['c', 3]]);
  d.take('a')?.putBack();
  d.take(LAST)?.putBack();
  assert.deepEqual([...d.keys()], ['a', 'b', 'c'], 'first and last go back in place too');
  const only = new PyDict<number>([['x', 1]]);
  only.take('x')?.putBack();
  assert.deepEqual([...only.entries()], [['x', 1]]);
  const moved = d.take('b')!;
  d.delete('c');
  moved.putBack();
  assert.deepEqual([...d.keys()], ['a', 'b'], 'its neighbour went: it goes last');
  const again = d.take('a')!;
  d.set('a', 9);
  again.putBack();
  assert.deepEqual([...d.entries()], [['b', 2], ['a', 9]], 'a key set again keeps its newer value');
});

test('PyDict toValue gives a plain object for str keys (even __proto__), else a Map', () => {
  const d = new PyDict([['__proto__', 1], ['b', 2]]);
  const v = d.toValue() as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__', 'b']);
  d.set(tup(1), 3);
  assert.ok(d.toValue() instanceof Map);
});
