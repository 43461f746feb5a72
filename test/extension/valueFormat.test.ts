import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue, typeOfValue } from '../../src/extension/model/valueFormat';

test('wire values show as Python prints them', () => {
  const cases: [unknown, string][] = [
    [null, 'None'],
    [true, 'True'],
    [3, '3'],
    [2.5, '2.5'],
    ["it's", '"it\'s"'],
    ['a\nb', "'a\\nb'"],
    [[1, 'x'], "[1, 'x']"],
    [{ a: 1 }, "{'a': 1}"],
    [{ $tuple: [1] }, '(1,)'],
    [{ $tuple: [1, 2] }, '(1, 2)'],
    [{ $bytes: Buffer.from([0, 0x61, 0x27]).toString('base64') }, "b'\\x00a\\''"],
    [{ $int: '123456789012345678901234567890' }, '123456789012345678901234567890'],
    [{ $float: 2 }, '2.0'],
    [{ $float: 'nan' }, 'nan'],
    [{ $set: [] }, 'set()'],
    [{ $set: [1, 2] }, '{1, 2}'],
    [{ $frozenset: ['x'] }, "frozenset({'x'})"],
    [{ $dict: [[{ $tuple: [1, 2] }, 'p']] }, "{(1, 2): 'p'}"],
    [{ $opaque: { lang: 'python', type: 'fractions.Fraction', data: '' } }, '<pickled fractions.Fraction>'],
    [{ $proxy: { id: '3', typeid: 'Queue', exposed: [] } }, '<proxy Queue #3>'],
  ];
  for (const [value, shown] of cases) assert.equal(formatValue(value), shown, JSON.stringify(value));
});

test('long values are cut with an ellipsis, within the limit', () => {
  const shown = formatValue(Array.from({ length: 1000 }, (_, i) => i), 50);
  assert.ok(shown.length <= 50);
  assert.ok(shown.endsWith('…'));
  assert.ok(shown.startsWith('[0, 1, 2'));
});

test('types are named as Python names them', () => {
  assert.equal(typeOfValue(1), 'int');
  assert.equal(typeOfValue(1.5), 'float');
  assert.equal(typeOfValue({ $tuple: [] }), 'tuple');
  assert.equal(typeOfValue({ $opaque: { lang: 'python', type: 'decimal.Decimal', data: '' } }), 'Decimal');
  assert.equal(typeOfValue({ a: 1 }), 'dict');
});

test('the JSON style shows values as a JSON client reads them: tuples and sets as arrays, strings in double quotes', () => {
  const json = (v: unknown) => formatValue(v, 120, 'json');
  assert.equal(json(null), 'null');
  assert.equal(json('it\'s'), '"it\'s"');
  assert.equal(json([1, 'two', { three: 3 }]), '[1, "two", {"three": 3}]');
  assert.equal(json({ $tuple: [1, 2] }), '[1, 2]');
  assert.equal(json({ $set: [] }), '[]');
  assert.equal(json({ $dict: [[1, 'a']] }), '[[1, "a"]]', 'a dict with other than string keys as pairs');
  assert.equal(json({ $dict: [['k', { $tuple: [] }]] }), '{"k": []}');
  assert.equal(json({ $int: '12345678901234567890' }), '12345678901234567890', 'every digit');
  assert.equal(json({ $float: 'nan' }), '"NaN"');
  assert.equal(json({ $bytes: 'AAE=' }), '"<2 bytes>"');
  assert.equal(formatValue([1, 2], 120, 'python'), '[1, 2]');
  assert.equal(json('x'.repeat(200)).length, 120, 'cut like the Python style');
});
