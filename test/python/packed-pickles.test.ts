/**
 * Dense arguments of unmodified CPython clients kept as pickles of their own (SPEC §19): the queue
 * holds them so, and every client gets the same values as before — Python 3 back from its own
 * opcodes, Python 2 (which cannot read protocol 4's) from the value, a JSON client from the value —
 * with shared references and a memo that must be renumbered.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, isTuple, type QueueProxy } from '../../src/client';
import { Queue } from '../../src/server';
import { PackedPickle } from '../../src/server/python/pickle/packedPickle';
import { unpickle } from '../../src/server/python/pickle/pickleReader';
import { AUTHKEY, startManager } from '../helpers/manager';
import { MAX_CALL_ARGUMENTS } from '../../src/server/limits';
import { assertExitedCleanly, managerClientLines, python2, pythonEnv, pythonOf, root, runPython } from './helpers';

const N = 20_000;

/** The values the producer puts, in order (Python source), and how the check reads each. */
const VALUES = [
  `[{} for _ in range(${N})]`,
  `[{}] * ${N}`,
  `[(i, 'x') for i in range(${N})]`,
  `{'k%d' % i: [i] for i in range(${N})}`,
  `[set([1]), frozenset([2]), b'ab', 2.0, 10**30, None, True] * ${N / 10}`,
];

const connectScript = [...managerClientLines('get_queue'), 'q = m.get_queue()'];
const connectScript2 = [...managerClientLines('get_queue', { python2: true }), 'q = m.get_queue()'];

/** A manager serving one queue as `get_queue`, shut down when the test ends, and the environment of its Python clients. */
async function queueManager(t: TestContext, options: Parameters<typeof startManager>[0] = {}) {
  const queue = new Queue();
  const manager = await startManager(options, (m) => m.register('get_queue', { callable: () => queue }));
  t.after(() => manager.shutdown());
  return { queue, manager, env: pythonEnv(manager.address, AUTHKEY) };
}

test('dense arguments of a Python client are kept as pickles and read back the same by Python 3, Python 2 and a JSON client', async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const { queue, manager, env } = await queueManager(t);
  const put = await runPython(python, ['-c', [...connectScript, `for v in [${VALUES.join(', ')}]: q.put(v)`].join('\n')], [], env);
  assertExitedCleanly(put, 'the Python producer');
  const held = queue.peekAll();
  assert.equal(held.length, VALUES.length);
  for (const [i, item] of held.entries()) assert.ok(item instanceof PackedPickle, `item ${i} is kept as a pickle`);

  // Python 3 gets each back (spliced from its own opcodes), compares, and puts it back.
  const check = [
    ...connectScript,
    `expected = [${VALUES.join(', ')}]`,
    'for i, want in enumerate(expected):',
    '    got = q.get()',
    '    assert got == want and type(got) is type(want), (i, repr(got)[:200])',
    "    if i == 1: assert got[0] is got[1], 'a shared dict stays shared'",
    '    q.put(got)',
  ];
  assertExitedCleanly(await runPython(python, ['-c', check.join('\n')], [], env), 'the Python 3 consumer');

  const py2 = python2();
  if (py2) {
    const py2Check = [
      ...connectScript2,
      'v = q.get()',
      `assert v == [{}] * ${N}, repr(v)[:200]`,
      'q.put(v)',
    ].join('\n');
    assertExitedCleanly(await runPython(py2, ['-c', py2Check], [], env), 'the Python 2 consumer');
  }

  const client = await connect<{ get_queue: QueueProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY });
  t.after(() => client.close());
  const q = await client.get_queue();
  const seen: unknown[] = [];
  for (let i = 0; i < VALUES.length; i++) seen.push(await q.get());
  const byShape = (v: unknown) => (Array.isArray(v) ? `list ${v.length}` : typeof v);
  // The order: Python 3 put back all five (rotating the first), Python 2 rotated one more.
  assert.deepEqual(seen.map(byShape).sort(), ['list 20000', 'list 20000', 'list 20000', 'list 14000', 'object'].sort());
  const tuples = seen.find((v) => Array.isArray(v) && isTuple(v[0])) as unknown[][];
  assert.deepEqual([...tuples[5]], [5, 'x']);
});

test("a Python client's list methods that compare items see dense items as the values they stand for", async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const manager = await startManager({}, (m) => m.register('get_list', { shared: 'list' }));
  t.after(() => manager.shutdown());
  const script = [
    ...managerClientLines('get_list', { proxytype: 'ListProxy' }),
    'l = m.get_list()',
    `big = lambda first: [[first]] + [[1]] * ${N}`,
    'l.append(big(2)); l.append(big(1))',
    'assert l.index(big(1)) == 1',
    'assert l.count(big(2)) == 1',
    'assert big(3) not in l',
    'l.sort()',
    'assert l[0][0] == [1]',
    'l.remove(big(1))',
    'assert len(l) == 1 and l[0] == big(2)',
    "assert str(l).startswith('[[[2], [1], [1]'), str(l)[:40]",
  ].join('\n');
  assertExitedCleanly(await runPython(python, ['-c', script], [], pythonEnv(manager.address, AUTHKEY)), 'the Python client');
});

test("a Python 2 client's dense argument holding str is read back as str by Python 2 and Python 3", async (t) => {
  const py2 = python2();
  const py3 = pythonOf('3.11');
  if (!py2 || !py3) return t.skip('needs CPython 2.7 and 3.11');
  const { queue, env } = await queueManager(t);
  const value = `[{'k': 'v%d' % i, 'u': u'\\xe9'} for i in range(${N / 10})]`;
  assertExitedCleanly(await runPython(py2, ['-c', [...connectScript2, `q.put(${value}); q.put(${value})`].join('\n')], [], env), 'the Python 2 producer');
  assert.ok(queue.peekAll().every((item) => item instanceof PackedPickle), 'kept as pickles');
  const py3Check = [...connectScript, 'v = q.get()', `assert v == ${value} and type(v[0]['k']) is str, repr(v[:2])`].join('\n');
  assertExitedCleanly(await runPython(py3, ['-c', py3Check], [], env), 'the Python 3 consumer');
  const py2Check = [...connectScript2, 'v = q.get()', `assert v == ${value} and type(v[0]['k']) is str and type(v[0]['u']) is unicode, repr(v[:2])`].join('\n');
  assertExitedCleanly(await runPython(py2, ['-c', py2Check], [], env), 'the Python 2 consumer');
});

/** Lists of objects of classes the server keeps opaque: datetimes (REDUCE) and a user's class (NEWOBJ, BUILD), from a module both Pythons import. */
const N_OBJECTS = 10_000;
const OBJECT_VALUES = [
  `[datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=i) for i in range(${N_OBJECTS})]`,
  `[pickle_usermod.Point(i, 'x') for i in range(${N_OBJECTS})]`,
];
const objectLines = ['import datetime, pickle, sys', `sys.path.insert(0, ${JSON.stringify(join(root, 'test', 'server', 'python'))})`, 'import pickle_usermod'];

test("a Python client's dense lists of objects of classes the server keeps opaque are kept as pickles, read back equal by Python 3, and as before by a JSON client", async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const { queue, manager, env } = await queueManager(t);
  // The producer also writes each value's pickle, which the reader reads whole: what a JSON client got before.
  const put = await runPython(python, ['-c', [...objectLines, ...connectScript, `vs = [${OBJECT_VALUES.join(', ')}]`, 'for v in vs + vs: q.put(v)', 'for v in vs: print(pickle.dumps(v, 4).hex())'].join('\n')], [], env);
  assertExitedCleanly(put, 'the Python producer');
  const held = queue.peekAll();
  assert.equal(held.length, 2 * OBJECT_VALUES.length);
  for (const [i, item] of held.entries()) assert.ok(item instanceof PackedPickle, `item ${i} is kept as a pickle`);

  const check = [...objectLines, ...connectScript, `for want in [${OBJECT_VALUES.join(', ')}]:`, '    got = q.get()', '    assert got == want, repr(got)[:200]'];
  assertExitedCleanly(await runPython(python, ['-c', check.join('\n')], [], env), 'the Python 3 consumer');

  const client = await connect<{ get_queue: QueueProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY });
  t.after(() => client.close());
  const q = await client.get_queue();
  const wholes = put.stdout.trim().split('\n').map((hex) => unpickle(Buffer.from(hex, 'hex')) as unknown[]);
  for (const whole of wholes) {
    const got = (await q.get()) as unknown[];
    assert.equal(got.length, N_OBJECTS);
    assert.deepEqual(got, whole);
  }
});

test('under --no-opaque-pickles a dense list of datetimes (a harmless class) is stored and comes back equal, and one of a user class is refused naming it', async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const { queue, env } = await queueManager(t, { opaquePickles: false });
  const script = [
    ...objectLines,
    ...connectScript,
    `want = ${OBJECT_VALUES[0]}`,
    'q.put(want)',
    'assert q.get() == want',
    'try:',
    `    q.put(${OBJECT_VALUES[1]})`,
    "    raise SystemExit('accepted')",
    'except Exception as e:',
    "    assert 'pickle_usermod.Point object' in str(e) and 'refused' in str(e), str(e)",
  ];
  assertExitedCleanly(await runPython(python, ['-c', script.join('\n')], [], env), 'the Python producer');
  assert.equal(queue.peekAll().length, 0);
});

test(`a Python call passing more than ${MAX_CALL_ARGUMENTS} arguments, positional and keyword together, is refused with a TypeError naming the count and the limit`, async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const { env } = await queueManager(t);
  const over = MAX_CALL_ARGUMENTS + 1;
  const script = [
    ...connectScript,
    // One-byte arguments (None, True) cost more built than the read budget allows: the count is still what is said.
    `for args, kwds in [(({},) * ${over}, {}), (({},), dict(('k%d' % i, {}) for i in range(${over - 1}))), (({},) * 50000, {}), ((None,) * 50000, {}), ((True,) * 50000, {}), ((), dict(('k%d' % i, None) for i in range(40000)))]:`,
    '    try:',
    "        q._callmethod('put', args, kwds)",
    "        raise SystemExit('accepted')",
    '    except TypeError as e:',
    `        assert 'a call with %d arguments' % (len(args) + len(kwds)) in str(e) and 'the limit is ${MAX_CALL_ARGUMENTS}' in str(e), str(e)`,
    'assert q.qsize() == 0',
  ];
  assertExitedCleanly(await runPython(python, ['-c', script.join('\n')], [], env), 'the Python client');
});

test("a Python 2 client's dense list of sets (GLOBAL __builtin__.set, REDUCE) is kept as a pickle and read back as sets by Python 2 and Python 3", async (t) => {
  const py2 = python2();
  const py3 = pythonOf('3.11');
  if (!py2 || !py3) return t.skip('needs CPython 2.7 and 3.11');
  const { queue, env } = await queueManager(t);
  const value = `[set([i, 'x']) for i in range(${N_OBJECTS})]`;
  assertExitedCleanly(await runPython(py2, ['-c', [...connectScript2, `q.put(${value}); q.put(${value})`].join('\n')], [], env), 'the Python 2 producer');
  assert.ok(queue.peekAll().every((item) => item instanceof PackedPickle), 'kept as pickles');
  const check = ['v = q.get()', `assert v == ${value} and type(v[0]) is set, repr(v[:2])`];
  assertExitedCleanly(await runPython(py3, ['-c', [...connectScript, ...check].join('\n')], [], env), 'the Python 3 consumer');
  assertExitedCleanly(await runPython(py2, ['-c', [...connectScript2, ...check].join('\n')], [], env), 'the Python 2 consumer');
});
