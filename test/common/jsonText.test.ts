import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noteNegativeZero, writeJson } from '../../src/common/jsonText';

const NUMBERS = [0, -0, 1, -1, 671, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 1e21, 1e-7, 0.1, -2.5, 123456789.125, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];

test('a number, null or a boolean is written as JSON.stringify writes it', () => {
  for (const value of [...NUMBERS, null, true, false]) assert.equal(writeJson(value), JSON.stringify(value), String(value));
});

test('a negative zero the value codec noted keeps its sign, also alone, and only in the next text written', () => {
  noteNegativeZero();
  assert.equal(writeJson(-0), '-0.0');
  assert.equal(writeJson(-0), '0');
  noteNegativeZero();
  assert.equal(writeJson(5), '5');
  assert.equal(writeJson([-0]), '[0]');
});
