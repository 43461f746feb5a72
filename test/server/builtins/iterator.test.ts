/**
 * Iteration and nesting through real sockets: `__iter__` and `__reversed__` hand back Iterator
 * proxies whose `__next__` calls give the items and then a StopIteration error, as Python's
 * IteratorProxy sees them; shared containers hold proxies to each other (CPython's
 * test_dict_iter, test_list_iter, test_dict_proxy_nested, test_list_proxy_in_list).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyIterator, sizeCheckedSource } from '../../../src/server/builtins/iterator';
import { startManager, RawClient } from '../../helpers/manager';
import { call, pyError } from './helpers';

interface Token {
  id: string;
  typeid: string;
  exposed: string[];
}

/** A raw client with shorthands for the requests these tests make. */
class Client {
  constructor(readonly raw: RawClient) {}

  async create(typeid: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<Token> {
    const reply = await this.raw.request('object/create', { typeid, ...(args ? { args } : {}), ...(kwargs ? { kwargs } : {}) });
    assert.ok(reply.result, JSON.stringify(reply.error));
    return reply.result;
  }

  /** The whole reply (result or error) of a call. */
  call(token: Token, method: string, args?: unknown[]): Promise<{ result?: any; error?: any }> {
    return this.raw.request('object/call', { id: token.id, method, ...(args ? { args } : {}) });
  }

  /** A call's result; fails the test on an error. */
  async value(token: Token, method: string, args?: unknown[]): Promise<any> {
    const reply = await this.call(token, method, args);
    assert.ok(!reply.error, JSON.stringify(reply.error));
    return reply.result;
  }

  /** A call whose result is a proxy: its token. */
  async proxy(token: Token, method: string, args?: unknown[]): Promise<Token> {
    const result = await this.value(token, method, args);
    assert.ok(result?.$proxy, `expected a $proxy, got ${JSON.stringify(result)}`);
    return result.$proxy;
  }

  /** `__next__` until StopIteration (at most `limit` items). */
  async drain(iterator: Token, limit = 100): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let i = 0; i < limit; i++) {
      const reply = await this.call(iterator, '__next__');
      if (reply.error) {
        assert.equal(reply.error.data.type, 'StopIteration');
        return out;
      }
      out.push(reply.result);
    }
    throw new Error(`more than ${limit} items`);
  }
}

/** Runs `body` with a client of a fresh manager. */
async function withClient(body: (c: Client) => Promise<void>): Promise<void> {
  await using manager = await startManager();
  const raw = await RawClient.open(manager.address);
  try {
    await body(new Client(raw));
  } finally {
    raw.close();
  }
}

const ref = (token: Token) => ({ $proxy: token });

test('iter(dict) is an Iterator proxy: the keys, then StopIteration for good (test_dict_iter)', () =>
  withClient(async (c) => {
    const d = await c.create('dict');
    for (let i = 65; i < 70; i++) await c.value(d, '__setitem__', [i, String.fromCharCode(i)]);
    const it = await c.proxy(d, '__iter__');
    assert.equal(it.typeid, 'Iterator');
    assert.deepEqual(it.exposed, ['__next__', 'send', 'throw', 'close']);
    assert.deepEqual(await c.drain(it), [65, 66, 67, 68, 69]);
    assert.deepEqual(await c.drain(it), []);
    assert.equal((await c.raw.request('object/decref', { id: it.id })).result, null);
  }));

test('a dict cleared while iterated makes the next __next__ a RuntimeError', () =>
  withClient(async (c) => {
    const d = await c.create('dict', [{ a: 1, b: 2 }]);
    const it = await c.proxy(d, '__iter__');
    assert.equal(await c.value(it, '__next__'), 'a');
    await c.value(d, 'clear');
    const reply = await c.call(it, '__next__');
    assert.equal(reply.error.data.type, 'RuntimeError');
    assert.equal(reply.error.data.message, 'dictionary changed size during iteration');
  }));

test('iter(list) reads the live list by index; reversed(list) from the end (test_list_iter)', () =>
  withClient(async (c) => {
    const a = await c.create('list', [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    const it = await c.proxy(a, '__iter__');
    assert.deepEqual(await c.drain(it), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await c.drain(it), []);
    const again = await c.proxy(a, '__iter__');
    await c.value(a, '__setitem__', [0, 100]);
    assert.equal(await c.value(again, '__next__'), 100);
    const back = await c.proxy(a, '__reversed__');
    assert.equal(back.typeid, 'Iterator');
    assert.deepEqual((await c.drain(back)).slice(0, 3), [9, 8, 7]);
  }));

test('iter(set) gives each member once; a set that grows while iterated is a RuntimeError', () =>
  withClient(async (c) => {
    const s = await c.create('set', [['x', 'y']]);
    assert.deepEqual(await c.drain(await c.proxy(s, '__iter__')), ['x', 'y']);
    const it = await c.proxy(s, '__iter__');
    await c.value(s, 'add', ['z']);
    const reply = await c.call(it, '__next__');
    assert.equal(reply.error.data.type, 'RuntimeError');
    assert.equal(reply.error.data.message, 'Set changed size during iteration');
  }));

test('an Iterator refuses send, throw and close as a plain iterator does', () =>
  withClient(async (c) => {
    const it = await c.proxy(await c.create('dict'), '__iter__');
    for (const method of ['send', 'throw', 'close']) {
      const reply = await c.call(it, method, method === 'send' ? [null] : []);
      assert.equal(reply.error.data.type, 'AttributeError', method);
      assert.equal(reply.error.data.message, `'dict_keyiterator' object has no attribute '${method}'`);
    }
  }));

test('dicts hold proxies to dicts, and changes through either are the same dict (test_dict_proxy_nested)', () =>
  withClient(async (c) => {
    const pets = await c.create('dict', [], { ferrets: 2, hamsters: 4 });
    const supplies = await c.create('dict', [], { water: 10, feed: 3 });
    const d = await c.create('dict', [], { pets: ref(pets), supplies: ref(supplies) });
    const inner = await c.proxy(d, '__getitem__', ['supplies']);
    assert.equal(inner.id, supplies.id);
    assert.equal(await c.value(inner, '__getitem__', ['water']), 10);
    await c.value(inner, '__setitem__', ['blankets', 5]);
    assert.equal(await c.value(supplies, '__getitem__', ['blankets']), 5);
    await c.value(d, 'clear');
    assert.equal(await c.value(d, '__len__'), 0);
    assert.equal(await c.value(pets, '__getitem__', ['hamsters']), 4);
    const l = await c.create('list', [[ref(pets), ref(supplies)]]);
    const first = await c.proxy(l, '__getitem__', [0]);
    await c.value(first, '__setitem__', ['marmots', 1]);
    assert.equal(await c.value(pets, '__getitem__', ['marmots']), 1);
    // A plain list inside a list comes back as a list, not a proxy.
    const outer = await c.create('list', [[[88, 99], ref(l)]]);
    assert.deepEqual(await c.value(outer, '__getitem__', [0]), [88, 99]);
    const last = await c.proxy(outer, '__getitem__', [-1]);
    const supplies2 = await c.proxy(last, '__getitem__', [-1]);
    assert.equal(await c.value(supplies2, '__getitem__', ['feed']), 3);
  }));

test('lists hold proxies to lists, and a list may hold itself (test_list_proxy_in_list)', () =>
  withClient(async (c) => {
    const inners = [await c.create('list', [[0, 1, 2]]), await c.create('list', [[0, 1, 2]]), await c.create('list', [[0, 1, 2]])];
    const a = await c.create('list', [inners.map(ref)]);
    const first = await c.proxy(a, '__getitem__', [0]);
    await c.value(first, '__setitem__', [-1, 55]);
    assert.deepEqual(await c.value(inners[0], '__getitem__', [{ $slice: [null, null, null] }]), [0, 1, 55]);
    assert.deepEqual(await c.value(inners[1], '__getitem__', [{ $slice: [null, null, null] }]), [0, 1, 2]);
    const second = await c.proxy(a, '__getitem__', [1]);
    assert.equal(await c.value(second, 'pop'), 2);
    assert.equal(await c.value(inners[1], '__len__'), 2);
    const b = await c.create('list');
    await c.value(b, 'append', [ref(b)]);
    assert.match(await c.value(b, '__repr__'), /^\[<proxy of list object at 0x[0-9a-f]+>\]$/);
  }));

test('slices of a list travel as $slice: read, assign and delete', () =>
  withClient(async (c) => {
    const l = await c.create('list', [[0, 1, 2, 3, 4, 5]]);
    assert.deepEqual(await c.value(l, '__getitem__', [{ $slice: [1, 3, null] }]), [1, 2]);
    assert.deepEqual(await c.value(l, '__getitem__', [{ $slice: [null, null, -2] }]), [5, 3, 1]);
    await c.value(l, '__setitem__', [{ $slice: [0, 2, null] }, ['a']]);
    await c.value(l, '__delitem__', [{ $slice: [null, null, 2] }]);
    assert.deepEqual(await c.value(l, '#GETVALUE'), [2, 4]);
    const zero = await c.call(l, '__getitem__', [{ $slice: [null, null, 0] }]);
    assert.equal(zero.error.data.type, 'ValueError');
    assert.equal(zero.error.data.message, 'slice step cannot be zero');
  }));

test('sizeCheckedSource and PyIterator, directly: the end is StopIteration, every time after', () => {
  const items = [1, 2];
  const it = new PyIterator(
    sizeCheckedSource(
      () => items[Symbol.iterator](),
      () => items.length,
      'dictionary',
    ),
    'dict_keyiterator',
  );
  assert.equal(call(it, '__next__'), 1);
  assert.equal(call(it, '__next__'), 2);
  assert.throws(() => call(it, '__next__'), pyError('StopIteration', ''));
  items.push(3);
  assert.throws(() => call(it, '__next__'), pyError('StopIteration', ''));
});
