import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float } from '../../../src/common/valueTypes';
import { Value, createValue } from '../../../src/server/builtins/value';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { call, pyError } from './helpers';

/** Calls a method the way the server does, with wire args and kwargs. */


test('get returns the value given at construction', () => {
  assert.equal(call(createValue(['i', 3], {}), 'get'), 3);
});

test('set replaces the value and returns None', () => {
  const v = createValue(['d', new Float(2)], {});
  assert.equal(call(v, 'set', [2.5]), undefined);
  assert.equal(call(v, 'get'), 2.5);
});

test('set does no type checking, as managers.Value does none', () => {
  const v = createValue(['i', 1], {});
  call(v, 'set', ['abc']);
  assert.equal(call(v, 'get'), 'abc');
});

test('Value(typecode, value, lock) binds keywords and ignores lock', () => {
  const v = createValue([], { typecode: 'd', value: new Float(2), lock: false });
  assert.deepEqual(call(v, 'get'), new Float(2));
  assert.equal(v.typecode, 'd');
});

test('Value() without typecode and value raises TypeError naming both', () => {
  assert.throws(() => createValue([], {}), pyError('TypeError', /missing 2 required .*'typecode' and 'value'/));
});

test('get with an argument raises TypeError', () => {
  assert.throws(() => call(new Value('i', 1), 'get', [1]), pyError('TypeError', /takes 0 positional arguments but 1 was given/));
});

test('Value exposes get and set, each with a signature', () => {
  assert.deepEqual([...Value.exposed], ['get', 'set']);
  for (const name of Value.exposed) assert.ok(Value.signatures[name], name);
});

test('repr is Value(typecode, value) as Python\'s, and #GETVALUE gives the value', () => {
  const v = createValue(['i', 3], {});
  assert.equal(callFallback(v, '__repr__'), "Value('i', 3)");
  call(v, 'set', ['text']);
  assert.equal(callFallback(v, '__str__'), "Value('i', 'text')");
  assert.equal(callFallback(v, '#GETVALUE'), 'text');
  assert.equal(callFallback(createValue(['d', new Float(2)], {}), '__repr__'), "Value('d', 2.0)");
});
