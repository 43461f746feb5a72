import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Namespace, createNamespace } from '../../../src/server/builtins/namespace';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { call, pyError } from './helpers';

/** Calls a method the way the server does, with wire args and kwargs. */


test('Namespace(**kwds) makes the keywords its attributes', () => {
  const ns = createNamespace([], { a: 1, b: 'two' });
  assert.equal(call(ns, '__getattribute__', ['a']), 1);
  assert.equal(call(ns, '__getattribute__', ['b']), 'two');
});

test('Namespace refuses positional constructor arguments with TypeError', () => {
  assert.throws(() => createNamespace([1], {}), pyError('TypeError', /Namespace\(\) takes 0 positional arguments but 1 was given$/));
});

test('a missing attribute raises AttributeError "\'Namespace\' object has no attribute \'x\'"', () => {
  assert.throws(() => call(new Namespace(), '__getattribute__', ['x']), pyError('AttributeError', "'Namespace' object has no attribute 'x'"));
});

test('setattr then getattr returns the value; delattr removes it', () => {
  const ns = new Namespace();
  assert.equal(call(ns, '__setattr__', ['x', [1, 2]]), undefined);
  assert.deepEqual(call(ns, '__getattribute__', ['x']), [1, 2]);
  assert.equal(call(ns, '__delattr__', ['x']), undefined);
  assert.throws(() => call(ns, '__getattribute__', ['x']), pyError('AttributeError', "'Namespace' object has no attribute 'x'"));
});

test('delattr of a missing attribute raises AttributeError', () => {
  assert.throws(() => call(new Namespace(), '__delattr__', ['x']), pyError('AttributeError', "'Namespace' object has no attribute 'x'"));
});

test('names starting with _ are accepted, as Python\'s server accepts them', () => {
  const ns = new Namespace();
  assert.throws(() => call(ns, '__getattribute__', ['_x']), pyError('AttributeError', "'Namespace' object has no attribute '_x'"));
  call(ns, '__setattr__', ['_x', 5]);
  assert.equal(call(ns, '__getattribute__', ['_x']), 5);
});

test('a non-str attribute name raises TypeError "attribute name must be string, not \'int\'"', () => {
  const ns = new Namespace();
  for (const method of ['__getattribute__', '__delattr__']) {
    assert.throws(() => call(ns, method, [1]), pyError('TypeError', "attribute name must be string, not 'int'"));
  }
  assert.throws(() => call(ns, '__setattr__', [1, 5]), pyError('TypeError', "attribute name must be string, not 'int'"));
});

test('attribute names never reach the object: __proto__ and method names are plain attributes', () => {
  const ns = new Namespace();
  call(ns, '__setattr__', ['__proto__', 1]);
  call(ns, '__setattr__', ['__getattribute__', 2]);
  assert.equal(call(ns, '__getattribute__', ['__proto__']), 1);
  assert.equal(call(ns, '__getattribute__', ['__getattribute__']), 2);
  assert.deepEqual(Object.keys(ns.snapshot()), ['__proto__', '__getattribute__']);
});

test('__dict__ reads all attributes, setting it replaces them, deleting it clears them', () => {
  const ns = createNamespace([], { a: 1 });
  assert.deepEqual(call(ns, '__getattribute__', ['__dict__']), { a: 1 });
  call(ns, '__setattr__', ['__dict__', { b: 2 }]);
  assert.deepEqual(ns.snapshot(), { b: 2 });
  assert.throws(() => call(ns, '__setattr__', ['__dict__', 5]), pyError('TypeError', "__dict__ must be set to a dictionary, not a 'int'"));
  call(ns, '__delattr__', ['__dict__']);
  assert.deepEqual(ns.snapshot(), {});
});

test('snapshot and toJSON give the attributes as a copy', () => {
  const ns = createNamespace([], { a: 1 });
  const snap = ns.snapshot();
  snap.a = 2;
  assert.deepEqual(ns.toJSON(), { a: 1 });
});

test('Namespace exposes NamespaceProxy\'s three methods, each with a signature', () => {
  assert.deepEqual([...Namespace.exposed], ['__getattribute__', '__setattr__', '__delattr__']);
  for (const name of Namespace.exposed) assert.ok(Namespace.signatures[name], name);
});

test('repr shows the public attributes sorted, as Python\'s Namespace does (test_namespace)', () => {
  const n = new Namespace();
  call(n, '__setattr__', ['name', 'Bob']);
  call(n, '__setattr__', ['job', 'Builder']);
  call(n, '__setattr__', ['_hidden', 'hidden']);
  assert.deepEqual([call(n, '__getattribute__', ['name']), call(n, '__getattribute__', ['job'])], ['Bob', 'Builder']);
  call(n, '__delattr__', ['job']);
  assert.equal(callFallback(n, '__str__'), "Namespace(name='Bob')");
  call(n, '__setattr__', ['a', [1, 'x']]);
  assert.equal(callFallback(n, '__repr__'), "Namespace(a=[1, 'x'], name='Bob')");
  assert.equal(callFallback(new Namespace(), '__repr__'), 'Namespace()');
});

test('#GETVALUE gives every attribute, private ones too, as a plain dict copy', () => {
  const n = createNamespace([], { a: 1, _b: 2 });
  const value = callFallback(n, '#GETVALUE') as Record<string, unknown>;
  assert.deepEqual(value, { a: 1, _b: 2 });
  value.a = 9;
  assert.equal(call(n, '__getattribute__', ['a']), 1);
});
