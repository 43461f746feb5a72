/**
 * CPython parity, containers: what `_TestContainers` in `Lib/test/_test_multiprocessing.py`
 * checks of managed `list`, `dict`, `Namespace` and queues nested in them, through real sockets.
 * Python's `a[:]` is `slice()`, `a[i]` is `at(i)` (list) or `getItem(k)` (dict), `del proxy` is
 * `release()`; operators the typed proxy has no method for (`b *= 2`) are called by their
 * Python names.
 *
 * Not applicable: test_list_isinstance and test_dict_isinstance (Python's collections.abc
 * registration of the proxy classes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeError, DictProxy, isTuple, IteratorProxy, kwargs, ListProxy, NamespaceProxy, QueueProxy, RuntimeError, tuple } from '../../../src/client';
import { parity, TEST_TIMEOUT } from './harness';

const range = (start: number, stop?: number): number[] => {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  return Array.from({ length: to - from }, (_, i) => from + i);
};

/** All the items an IteratorProxy still gives (Python's `list(it)`). */
async function drain<T>(it: IteratorProxy<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of it) out.push(item);
  return out;
}

// CPython: _TestContainers.test_list
test('list: slices, extend, indexing, in-place repeat, concatenation; proxies stored in lists stay live views', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const a = await s.main.create<ListProxy<unknown>>('list', range(10));
  assert.deepEqual(await a.slice(), range(10));

  const b = await s.main.create<ListProxy<number>>('list');
  assert.deepEqual(await b.slice(), []);
  await b.extend(range(5));
  assert.deepEqual(await b.slice(), range(5));
  assert.equal(await b.at(2), 2);
  assert.deepEqual(await b.slice(2, 10), [2, 3, 4]);

  await b.callMethod('__imul__', [2]); // b *= 2
  assert.deepEqual(await b.slice(), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  assert.deepEqual(await b.concat([5, 6]), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await a.slice(), range(10));

  // A list of the two proxies: its elements come back as proxies of the same lists.
  const e = await s.main.create<ListProxy<ListProxy<unknown>>>('list', [a, b]);
  const contents: unknown[][] = [];
  for await (const element of e) {
    assert.ok(element instanceof ListProxy);
    contents.push(await element.slice());
  }
  assert.deepEqual(contents, [range(10), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]]);

  const f = await s.main.create<ListProxy<ListProxy<unknown>>>('list', [a]);
  await a.append('hello');
  assert.deepEqual(await (await f.at(0)).slice(), [...range(10), 'hello'], 'the stored proxy sees the later append');
});

// CPython: _TestContainers.test_list_iter
test('list: an iterator gives every item once, is exhausted after, and reads the live list', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const a = await s.main.create<ListProxy<number>>('list', range(10));

  const items: number[] = [];
  for await (const item of a) items.push(item);
  assert.deepEqual(items, range(10));

  const it = (await a.callMethod('__iter__')) as IteratorProxy<number>;
  assert.deepEqual(await drain(it), range(10));
  assert.deepEqual(await drain(it), [], 'exhausted');

  // The list modified while iterated: the iterator reads the change.
  const live = (await a.callMethod('__iter__')) as IteratorProxy<number>;
  await a.set(0, 100);
  assert.deepEqual(await live.next(), { done: false, value: 100 });
});

// CPython: _TestContainers.test_list_proxy_in_list
test('list of list proxies: each inner list is its own shared object, changed through the outer one', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const inner = [];
  for (let i = 0; i < 3; i++) inner.push(await s.main.create<ListProxy<number>>('list', range(3)));
  const a = await s.main.create<ListProxy<ListProxy<number>>>('list', inner);
  // The temporaries go, as in Python: the outer list's references keep the inner lists alive.
  for (const proxy of inner) await proxy.release();

  const contents: number[][] = [];
  for await (const element of a) contents.push(await element.slice());
  assert.deepEqual(contents, [range(3), range(3), range(3)]);

  await (await a.at(0)).set(-1, 55);
  assert.deepEqual(await (await a.at(0)).slice(), [0, 1, 55]);
  for (let i = 1; i < 3; i++) assert.deepEqual(await (await a.at(i)).slice(), range(3));

  assert.equal(await (await a.at(1)).pop(), 2);
  assert.equal(await (await a.at(1)).length(), 2);
  for (const i of [0, 2]) assert.equal(await (await a.at(i)).length(), 3);
  await a.release();

  // A list that holds itself.
  const b = await s.main.create<ListProxy<unknown>>('list');
  await b.append(b);
  const self = await b.at(0);
  assert.ok(self instanceof ListProxy);
  assert.equal(self.id, b.id);
  await b.release();
});

// CPython: _TestContainers.test_dict
test('dict: int keys; copy, keys, values and items give what was set', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const d = await s.main.create<DictProxy<string, number>>('dict');
  const indices = range(65, 70);
  for (const i of indices) await d.set(i, String.fromCharCode(i));
  assert.deepEqual(await d.copy(), new Map(indices.map((i) => [i, String.fromCharCode(i)])));
  assert.deepEqual((await d.keys()).sort((x, y) => x - y), indices);
  assert.deepEqual((await d.values()).sort(), indices.map((i) => String.fromCharCode(i)));
  const items = await d.items();
  assert.ok(items.every((item) => isTuple(item)), 'items are (key, value) tuples');
  assert.deepEqual(
    items.sort((x, y) => x[0] - y[0]),
    indices.map((i) => tuple<number | string>(i, String.fromCharCode(i))),
  );
});

// CPython: _TestContainers.test_dict_iter
test('dict: an iterator gives every key once, is exhausted after, and raises RuntimeError once the dict changed size', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const d = await s.main.create<DictProxy<string, number>>('dict');
  const indices = range(65, 70);
  for (const i of indices) await d.set(i, String.fromCharCode(i));

  const keys: number[] = [];
  for await (const key of d) keys.push(key);
  assert.deepEqual(keys, indices);

  const it = (await d.callMethod('__iter__')) as IteratorProxy<number>;
  assert.deepEqual(await drain(it), indices);
  assert.deepEqual(await drain(it), [], 'exhausted');

  const changed = (await d.callMethod('__iter__')) as IteratorProxy<number>;
  await d.clear();
  await assert.rejects(changed.next(), (e: unknown) => e instanceof RuntimeError && /dictionary changed size during iteration/.test(e.message));
});

// CPython: _TestContainers.test_dict_proxy_nested
test('dict of dict proxies: nested dicts are shared objects, alive while anything refers to them', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  type Inner = DictProxy<number>;
  let pets = await s.main.create<Inner>('dict', kwargs({ ferrets: 2, hamsters: 4 }));
  let supplies = await s.main.create<Inner>('dict', kwargs({ water: 10, feed: 3 }));
  const d = await s.main.create<DictProxy<Inner>>('dict', kwargs({ pets, supplies }));

  assert.equal(await supplies.getItem('water'), 10);
  assert.equal(await (await d.getItem('supplies')).getItem('water'), 10);

  await (await d.getItem('supplies')).set('blankets', 5);
  assert.equal(await supplies.getItem('blankets'), 5);
  assert.equal(await (await d.getItem('supplies')).getItem('blankets'), 5);

  await (await d.getItem('supplies')).set('water', 7);
  assert.equal(await supplies.getItem('water'), 7);
  assert.equal(await (await d.getItem('supplies')).getItem('water'), 7);

  await pets.release();
  await supplies.release();
  assert.equal(await (await d.getItem('pets')).getItem('ferrets'), 2, 'kept alive by the outer dict');
  await (await d.getItem('supplies')).set('blankets', 11);
  assert.equal(await (await d.getItem('supplies')).getItem('blankets'), 11);

  pets = await d.getItem('pets');
  supplies = await d.getItem('supplies');
  await supplies.set('water', 7);
  assert.equal(await supplies.getItem('water'), 7);
  assert.equal(await (await d.getItem('supplies')).getItem('water'), 7);

  await d.clear();
  assert.equal(await d.size(), 0);
  assert.equal(await supplies.getItem('water'), 7, 'kept alive by this proxy after the dict let go');
  assert.equal(await pets.getItem('hamsters'), 4);

  const l = await s.main.create<ListProxy<Inner>>('list', [pets, supplies]);
  await (await l.at(0)).set('marmots', 1);
  assert.equal(await pets.getItem('marmots'), 1);
  assert.equal(await (await l.at(0)).getItem('marmots'), 1);

  await pets.release();
  await supplies.release();
  assert.equal(await (await l.at(0)).getItem('marmots'), 1, 'kept alive by the list');

  const outer = await s.main.create<ListProxy<unknown>>('list', [[88, 99], l]);
  const first = await outer.at(0);
  assert.ok(Array.isArray(first) && !(first instanceof ListProxy), 'a plain list stays a plain value');
  assert.deepEqual(first, [88, 99]);
  const last = (await outer.at(-1)) as ListProxy<Inner>;
  assert.equal(await (await last.at(-1)).getItem('feed'), 3);
});

// CPython: _TestContainers.test_nested_queue
test('a queue inside a list and inside a dict is the shared queue itself', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const a = await s.main.create<ListProxy<QueueProxy<number>>>('list');
  const q1 = await s.main.create<QueueProxy<number>>('Queue');
  await a.append(q1);
  await q1.release();
  await (await a.at(0)).put(123);
  assert.equal(await (await a.at(0)).get(), 123);

  const b = await s.main.create<DictProxy<QueueProxy<number>, number>>('dict');
  const q2 = await s.main.create<QueueProxy<number>>('Queue');
  await b.set(0, q2);
  await q2.release();
  await (await b.getItem(0)).put(456);
  assert.equal(await (await b.getItem(0)).get(), 456);
});

// CPython: _TestContainers.test_namespace. CPython's proxy keeps `_hidden` on the proxy itself;
// here it is set on the shared namespace, whose repr leaves out `_` names as Python's does.
test("Namespace: attributes set, read and deleted; str shows the public ones, Namespace(name='Bob')", { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const n = await s.main.create<NamespaceProxy>('Namespace');
  await n.set('name', 'Bob');
  await n.set('job', 'Builder');
  await n.set('_hidden', 'hidden');
  assert.deepEqual([await n.get('name'), await n.get('job')], ['Bob', 'Builder']);
  await n.delete('job');
  assert.equal(await n.str(), "Namespace(name='Bob')");
  assert.equal(await n.get('name'), 'Bob');
  await assert.rejects(n.get('job'), AttributeError);
});
