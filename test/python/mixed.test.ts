/**
 * Python and TypeScript clients of one manager, on the same objects:
 * - a Python producer and a TypeScript consumer on one queue, and the reverse, with values of
 *   every kind keeping their types (int, float, str, bytes, tuple, dict with tuple keys, None, big
 *   int, bool, nested list, set); and Python to Python across versions through our server;
 * - Python's `SyncManager(address, authkey).connect()` making a dict, Queue, Lock, Event, list and
 *   Namespace that the TypeScript side finds in `manager.snapshot()` and changes, and Python sees
 *   the changes;
 * - a custom typeid registered on our side (a TypeScript Counter class) used from Python through
 *   `BaseManager.register(name)` and proxy calls.
 * One subtest per Python version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, isTuple, tuple, type QueueProxy } from '../../src/client';
import { Float } from '../../src/common/valueTypes';
import { sig } from '../../src/server';
import { startManager } from '../helpers/manager';
import { assertExitedCleanly, findPythons, fixture, python2, python3s, pythonEnv, requirePythons, runPython, startPython, type PythonInstall } from './helpers';

const AUTHKEY = 'mixed-key';

const BYTES = Buffer.concat([Buffer.from([0, 0xff]), Buffer.from('bytes')]);

/** How each value Python puts (test/python/fixtures/mixed_values.py: VALUES) must read in TypeScript. */
const fromPython: Record<string, (v: unknown) => void> = {
  int: (v) => assert.equal(v, 42),
  'negative int': (v) => assert.equal(v, -7),
  float: (v) => assert.equal(v, 1.5),
  'integral float': (v) => assert.equal(Number(v), 2),
  str: (v) => assert.equal(v, 'text'),
  'non-ascii str': (v) => assert.equal(v, 'ünicöde ✓'),
  bytes: (v) => {
    assert.ok(v instanceof Uint8Array, `bytes arrive as a Uint8Array, not ${typeof v}`);
    assert.ok(Buffer.from(v).equals(BYTES));
  },
  tuple: (v) => {
    assert.ok(isTuple(v), 'a tuple stays a tuple');
    assert.deepEqual([...v], [1, 'a', null]);
  },
  'dict with tuple keys': (v) => {
    assert.ok(v instanceof Map, `a dict with a tuple key arrives as a Map, not ${Object.prototype.toString.call(v)}`);
    assert.equal(v.size, 2);
    const keys = [...v.keys()];
    const tupleKey = keys.find((k) => isTuple(k));
    assert.ok(tupleKey, 'the tuple key stays a tuple');
    assert.deepEqual([...(tupleKey as unknown as unknown[])], [1, 2]);
    assert.equal(v.get(tupleKey), 'tuple key');
    const list = v.get('k');
    assert.ok(Array.isArray(list) && !isTuple(list));
    assert.deepEqual(list, [1, 2]);
  },
  None: (v) => assert.equal(v, null),
  'big int': (v) => assert.equal(v, 2n ** 100n),
  'negative big int': (v) => assert.equal(v, -(2n ** 70n)),
  True: (v) => assert.equal(v, true),
  False: (v) => assert.equal(v, false),
  'nested list': (v) => {
    assert.ok(Array.isArray(v) && !isTuple(v));
    assert.deepEqual(v, [1, [2.5, 'x']]);
    assert.ok(!isTuple((v as unknown[])[1]));
  },
  set: (v) => {
    assert.ok(v instanceof Set, `a set arrives as a Set, not ${Object.prototype.toString.call(v)}`);
    assert.deepEqual([...v].sort(), [1, 2]);
  },
  'str-keyed dict': (v) => assert.deepEqual(v, { plain: 'dict' }),
};

/** The same values, as TypeScript puts them for a Python consumer to compare with VALUES. */
const toPython: [string, unknown][] = [
  ['int', 42],
  ['negative int', -7],
  ['float', 1.5],
  ['integral float', new Float(2)],
  ['str', 'text'],
  ['non-ascii str', 'ünicöde ✓'],
  ['bytes', BYTES],
  ['tuple', tuple<unknown>(1, 'a', null)],
  ['dict with tuple keys', new Map<unknown, unknown>([[tuple(1, 2), 'tuple key'], ['k', [1, 2]]])],
  ['None', null],
  ['big int', 2n ** 100n],
  ['negative big int', -(2n ** 70n)],
  ['True', true],
  ['False', false],
  ['nested list', [1, [2.5, 'x']]],
  ['set', new Set([1, 2])],
  ['str-keyed dict', { plain: 'dict' }],
];

type Q = { get_queue: QueueProxy<unknown> };

async function queueManager() {
  return startManager({ authkey: AUTHKEY }, (m) => m.register('get_queue', { shared: 'Queue' }));
}

const consumedOk = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));

test('a Python producer and a TypeScript consumer on one queue: every value keeps its type', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async (vt) => {
      await using manager = await queueManager();
      const produced = await runPython(py, [fixture('mixed_values.py'), 'produce'], [], pythonEnv(manager.address, AUTHKEY));
      assertExitedCleanly(produced, 'mixed_values.py produce');
      const count = Number(/^done (\d+)$/m.exec(produced.stdout)?.[1]);
      // Python 2's str is bytes and text at once: its producer leaves the bytes value out.
      const names = Object.keys(fromPython).filter((n) => !(py.major === 2 && n === 'bytes'));
      assert.equal(count, names.length);

      await using client = await connect<Q>({ address: manager.address, authkey: AUTHKEY, name: 'ts-consumer' });
      const q = await client.get_queue();
      const seen: string[] = [];
      for (let i = 0; i < count; i++) {
        const pair = await q.get({ timeout: 5 });
        assert.ok(isTuple(pair) && pair.length === 2, `each item is a (name, value) tuple: ${String(pair)}`);
        const [name, value] = pair as unknown as [string, unknown];
        await vt.test(name, () => fromPython[name](value));
        seen.push(name);
      }
      assert.deepEqual(seen, names, 'in the order Python put them');
      assert.equal(await q.qsize(), 0);
    });
  }
});

test('a TypeScript producer and a Python consumer on one queue: every value keeps its type', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await queueManager();
      await using client = await connect<Q>({ address: manager.address, authkey: AUTHKEY, name: 'ts-producer' });
      const q = await client.get_queue();
      for (const [name, value] of toPython) await q.put(tuple(name, value));
      const consumed = await runPython(py, [fixture('mixed_values.py'), 'consume', String(toPython.length)], [], pythonEnv(manager.address, AUTHKEY));
      assertExitedCleanly(consumed, 'mixed_values.py consume');
      assert.deepEqual(consumedOk(consumed.stdout), toPython.map(([n]) => n), consumed.stdout);
    });
  }
});

test('Python to Python through our server, across versions (2.7 → 3.x, 3.x → 2.7, oldest → newest 3)', async (t) => {
  const py2 = python2();
  const p3 = python3s();
  const pairs: [PythonInstall, PythonInstall][] = [];
  if (py2 && p3.length) pairs.push([py2, p3.at(-1)!], [p3.at(-1)!, py2]);
  if (p3.length > 1) pairs.push([p3[0], p3.at(-1)!], [p3.at(-1)!, p3[0]]);
  assert.ok(pairs.length > 0, `needs two Pythons: ${findPythons().map((p) => p.version).join(', ')}`);
  for (const [producer, consumer] of pairs) {
    await t.test(`${producer.label} → ${consumer.label}`, { timeout: 30_000 }, async () => {
      await using manager = await queueManager();
      const env = pythonEnv(manager.address, AUTHKEY);
      const produced = await runPython(producer, [fixture('mixed_values.py'), 'produce'], [], env);
      assertExitedCleanly(produced, 'produce');
      const count = Number(/^done (\d+)$/m.exec(produced.stdout)?.[1]);
      const consumed = await runPython(consumer, [fixture('mixed_values.py'), 'consume', String(count)], [], env);
      assertExitedCleanly(consumed, 'consume');
      assert.equal(consumedOk(consumed.stdout).length, count, consumed.stdout);
    });
  }
});

test("Python's SyncManager.connect(): dict, Queue, Lock, Event, list and Namespace, seen and changed by the TypeScript side", async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY });
      const proc = startPython(py, fixture('sync_objects.py'), [], pythonEnv(manager.address, AUTHKEY));
      const [, json] = await proc.waitForLine(/^READY (\{.*\})$/);
      const ids = JSON.parse(json) as Record<'dict' | 'Queue' | 'Lock' | 'Event' | 'list' | 'Namespace', string>;

      // The manager's own view: the six objects Python made, under SyncManager's typeids, and
      // Python's connection holding the lock.
      const snapshot = manager.snapshot();
      for (const [typeid, id] of Object.entries(ids)) {
        const object = snapshot.objects.find((o) => o.id === id);
        assert.ok(object, `${typeid} ${id} is in the manager's table`);
        assert.equal(object.typeid, typeid);
        assert.ok(object.refcount >= 1, `${typeid} is referenced`);
      }
      const pythonSessions = snapshot.sessions.filter((s) => s.protocol === 'python');
      assert.ok(pythonSessions.length >= 1, `a python session is listed: ${JSON.stringify(snapshot.sessions)}`);
      assert.ok(pythonSessions.some((s) => s.holds?.includes(ids.Lock)), `a python session holds the lock: ${JSON.stringify(pythonSessions)}`);
      assert.equal(snapshot.objects.find((o) => o.id === ids.Queue)?.size, 2, 'the queue holds the two items Python put');
      assert.equal(snapshot.objects.find((o) => o.id === ids.list)?.size, 4);
      assert.equal(snapshot.objects.find((o) => o.id === ids.dict)?.size, 2);

      // The TypeScript client, on the same objects by id.
      await using client = await connect({ address: manager.address, authkey: AUTHKEY, name: 'ts-side' });
      const peek = await client.inspection.peek(ids.Queue);
      assert.equal(peek.total, 2);
      assert.equal(peek.items[0], 'from python');
      assert.equal(await client.callById(ids.dict, '__getitem__', ['answer']), 42);
      assert.equal(await client.callById(ids.dict, '__getitem__', [tuple(1, 2)]), 'pair');
      await client.callById(ids.dict, '__setitem__', ['ts', 'hello']);
      assert.equal(await client.callById(ids.Queue, 'get_nowait'), 'from python');
      await client.callById(ids.Queue, 'put', ['from ts']);
      assert.equal(await client.callById(ids.list, '__len__'), 4);
      await client.callById(ids.list, 'append', [5]);
      assert.equal(await client.callById(ids.Namespace, '__getattribute__', ['x']), 10);
      assert.equal(await client.callById(ids.Namespace, '__getattribute__', ['name']), 'py');
      await client.callById(ids.Namespace, '__setattr__', ['y', 'from ts']);
      assert.equal(await client.callById(ids.Event, 'is_set'), false);
      await client.callById(ids.Event, 'set');
      assert.equal(await client.callById(ids.Lock, 'acquire', [], { timeout: 0.05 }), false, 'Python holds the lock');

      proc.send('go');
      await proc.waitForLine(/^released$/);
      const checks = proc.lines().filter((l) => l.startsWith('CHECK '));
      assert.deepEqual(
        checks,
        ['event', 'queue', 'queue empty', 'dict', 'list', 'namespace'].map((n) => `CHECK ${n} ok`),
        proc.output(),
      );
      // Python released it: the TypeScript side takes it now, while Python is still connected.
      assert.equal(await client.callById(ids.Lock, 'acquire', [], { timeout: 5 }), true);
      await client.callById(ids.Lock, 'release');
      proc.send('bye');
      assertExitedCleanly(await proc.finished(), 'sync_objects.py');
      // Python's proxies decref at exit (answered before the process ends): the six objects are gone.
      const left = manager.snapshot().objects.filter((o) => Object.values(ids).includes(o.id));
      assert.deepEqual(left.map((o) => `${o.typeid} refcount ${o.refcount}`), [], 'every object Python made was released');
    });
  }
});

class Counter {
  /** Python-style parameters, so a Python client's `increment(by=3)` binds (a plain JS method takes positionals only). */
  static signatures = { increment: sig(['by', 1]), value: sig(), reset: sig() };
  n = 0;
  increment(by = 1) {
    return (this.n += by);
  }
  value() {
    return this.n;
  }
  reset() {
    this.n = 0;
  }
}

test('a custom typeid registered on our side (a TypeScript Counter), used from Python through BaseManager.register(name)', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      const shared = new Counter();
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => {
        m.register('Counter', { callable: Counter, exposed: ['increment', 'value'] });
        m.register('get_counter', { callable: () => shared, exposed: ['increment', 'value'] });
      });
      const result = await runPython(py, fixture('custom_counter.py'), [], pythonEnv(manager.address, AUTHKEY));
      assertExitedCleanly(result, 'custom_counter.py');
      const out = Object.fromEntries(result.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
      assert.equal(out.increments, '1 3 6', `increment(), increment(2), increment(by=3):\n${result.stdout}`);
      assert.equal(out.value, '6');
      assert.equal(out.exposed, 'increment,value', 'the proxy has the exposed methods only');
      assert.equal(out.reset, 'refused True', 'calling a method outside exposed is a RemoteError naming it');
      assert.equal(out.shared, '5 5');
      assert.match(out.str, /^<Counter object/, 'str(proxy) is the object\'s repr, from the manager');
      // The TypeScript side sees what Python did: the shared object itself, and Python's own Counter by id.
      assert.equal(shared.n, 5);
      // Python's proxy of its own Counter was released when the script ended (its finalizer's
      // decref, answered before the process exited): the object left the table, as in CPython.
      assert.equal(manager.snapshot().objects.find((o) => o.id === out.id), undefined, 'the Counter Python made is gone after its decref');
    });
  }
});

test("SyncManager's proxies as each Python's own code uses them: slices, dict iteration, has_key (2.7), and every type", async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY });
      const result = await runPython(py, fixture('proxy_methods.py'), [], pythonEnv(manager.address, AUTHKEY));
      assertExitedCleanly(result, 'proxy_methods.py');
      const checks = result.stdout.split('\n').filter((l) => l.startsWith('CHECK '));
      assert.ok(checks.length >= 13, result.stdout);
      assert.deepEqual(checks.filter((l) => !l.endsWith(' ok')), [], `every check passes:\n${result.stdout}`);
    });
  }
});
