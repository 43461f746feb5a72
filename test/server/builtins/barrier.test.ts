import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallCancelled, PyException } from '../../../src/server/exceptions';
import { Float } from '../../../src/common/valueTypes';
import { Barrier, createBarrier } from '../../../src/server/builtins/barrier';
import type { CallContext } from '../../../src/server/calls/methodDispatch';
import { ErrorCodes } from '../../../src/common/errorCodes';
import { RawClient, startManager } from '../../helpers/manager';
import { until } from '../../helpers/until';
import { call, pyError, settled } from './helpers';

/** The parties of the CPython-style tests. */
const N = 5;

/** A party's `wait()` as a Promise, whether it returned at once, threw, or must wait. */
async function arrive(b: Barrier, args: unknown[] = [], kwargs: Record<string, unknown> = {}, context: CallContext = {}): Promise<unknown> {
  return call(b, 'wait', args, kwargs, context);
}

/** Python's `barrier.<name>` through BarrierProxy's `__getattribute__`. */
function attr(b: Barrier, name: string): unknown {
  return call(b, '__getattribute__', [name]);
}

const broken = pyError('BrokenBarrierError', '');

/** Runs `f(party)` for N parties at once, as CPython's tests run N threads. */
function runParties<T>(f: (party: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: N }, (_, party) => f(party)));
}

test('the constructor checks parties as Python 3.13 does', () => {
  assert.throws(() => createBarrier([0], {}), pyError('ValueError', 'parties must be > 0'));
  assert.throws(() => createBarrier([-1], {}), pyError('ValueError', 'parties must be > 0'));
  assert.throws(() => createBarrier([new Float(0.5)], {}), pyError('ValueError', 'parties must be > 0'));
  assert.throws(() => createBarrier(['a'], {}), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
  assert.throws(() => createBarrier([null], {}), pyError('TypeError', "'<' not supported between instances of 'NoneType' and 'int'"));
  assert.throws(() => createBarrier([], {}), pyError('TypeError', "Barrier() missing 1 required positional argument: 'parties'"));
  assert.throws(() => createBarrier([1, null, null, 3], {}), pyError('TypeError', 'Barrier() takes from 1 to 3 positional arguments but 4 were given'));
  assert.throws(() => createBarrier([1], { x: 1 }), pyError('TypeError', "Barrier() got an unexpected keyword argument 'x'"));
  assert.equal(attr(createBarrier([], { parties: 2, action: null, timeout: 1 }), 'parties'), 2);
});

test('over the protocol the action can only be None: a client cannot send a callable', () => {
  for (const action of [1, 'print', { f: 1 }, true]) {
    assert.throws(() => createBarrier([2, action], {}), pyError('TypeError', /action must be None over the protocol: a client cannot send a callable/));
  }
  assert.throws(() => createBarrier([2], { action: 'f' }), pyError('TypeError', /got 'str'/));
  // Python checks parties first.
  assert.throws(() => createBarrier([0, 1], {}), pyError('ValueError', 'parties must be > 0'));
});

test('parties, n_waiting and broken are read through __getattribute__; other names are AttributeErrors', async () => {
  const b = new Barrier(2);
  assert.deepEqual([attr(b, 'parties'), attr(b, 'n_waiting'), attr(b, 'broken')], [2, 0, false]);
  const p = arrive(b, [10]);
  await settled(p);
  assert.equal(attr(b, 'n_waiting'), 1);
  assert.equal(await arrive(b), 1);
  assert.equal(await p, 0);
  assert.throws(() => attr(b, 'x'), pyError('AttributeError', "'Barrier' object has no attribute 'x'"));
  assert.throws(() => attr(b, 'wait'), pyError('AttributeError', "'Barrier' object has no attribute 'wait'"));
  assert.throws(() => attr(b, '_count'), pyError('AttributeError', "'Barrier' object has no attribute '_count'"));
  assert.throws(() => call(b, '__getattribute__', [1]), pyError('TypeError', "attribute name must be string, not 'int'"));
  assert.deepEqual([...Barrier.exposed].sort(), ['__getattribute__', 'abort', 'reset', 'wait']);
});

test('parties keeps the value given: Barrier(2.0) trips at two and prints 2.0', async () => {
  const b = new Barrier(new Float(2));
  assert.match(b.__repr__(), /waiters=0\/2\.0>$/);
  const first = arrive(b, [10]);
  assert.equal(call(b, 'wait'), 1);
  assert.equal(await first, 0);
  assert.ok(attr(b, 'parties') instanceof Float);
});

test('a single party passes at once, again and again (test_single_thread)', () => {
  const b = new Barrier(1);
  assert.equal(call(b, 'wait'), 0);
  assert.equal(call(b, 'wait'), 0);
  assert.equal(call(new Barrier(true), 'wait'), 0);
});

/** CPython's multipass: N parties in lockstep, two waits per pass, counting arrivals between. */
async function lockstep(b: Barrier, passes: number): Promise<void> {
  const before: boolean[] = [];
  const after: boolean[] = [];
  await runParties(async () => {
    for (let i = 0; i < passes; i++) {
      before.push(true);
      assert.equal(after.length, i * N);
      await arrive(b);
      after.push(true);
      assert.equal(before.length, (i + 1) * N);
      await arrive(b);
    }
    assert.equal(attr(b, 'n_waiting'), 0);
    assert.equal(attr(b, 'broken'), false);
  });
}

test('a barrier is passed in lockstep (test_barrier)', async () => {
  await lockstep(new Barrier(N, null, 30), 1);
});

test('a barrier works for 10 consecutive runs (test_barrier_10)', async () => {
  await lockstep(new Barrier(N, null, 30), 10);
});

test('wait returns each arrival index once, first 0, last parties-1 (test_wait_return)', async () => {
  const b = new Barrier(N);
  const waits = Array.from({ length: N - 1 }, () => arrive(b));
  assert.equal(call(b, 'wait'), N - 1, 'the last arrival returns at once');
  assert.deepEqual(await Promise.all(waits), [0, 1, 2, 3]);
});

test('the action runs once, in the last arrival, before anyone is released (test_action)', async () => {
  const released: number[] = [];
  let runs = 0;
  let waitingWhenRun = -1;
  const b = new Barrier(N, () => {
    runs++;
    waitingWhenRun = b.n_waiting;
    assert.equal(released.length, 0, 'nobody released before the action');
  });
  const waits = Array.from({ length: N - 1 }, () => arrive(b).then((i) => released.push(i as number)));
  await settled(waits[0]);
  assert.equal(runs, 0);
  assert.equal(call(b, 'wait'), N - 1);
  await Promise.all(waits);
  assert.deepEqual([runs, waitingWhenRun, released.length], [1, N - 1, N - 1]);
});

test('an action that throws breaks the barrier: the last caller gets its exception, the others BrokenBarrierError', async () => {
  const b = new Barrier(3, () => {
    throw new PyException('RuntimeError', 'action failed');
  });
  const waits = [arrive(b), arrive(b)];
  assert.throws(() => call(b, 'wait'), pyError('RuntimeError', 'action failed'));
  for (const w of waits) await assert.rejects(w, broken);
  assert.equal(attr(b, 'broken'), true);
  assert.throws(() => call(b, 'wait'), broken);
});

test('an action\'s promise is not awaited, and its failure is a process warning, not a crash', async () => {
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
  const b = new Barrier(2, () => Promise.reject(new Error('late failure')));
  const first = arrive(b);
  assert.equal(call(b, 'wait'), 1);
  assert.equal(await first, 0);
  assert.match((await warned).message, /a Barrier action's promise failed: Error: late failure/);
  assert.equal(b.broken, false);
});

test('an action that aborts or resets its own barrier ends the cycle for everyone; one that waits on it fails', async () => {
  for (const end of ['abort', 'reset'] as const) {
    const b: Barrier = new Barrier(2, () => call(b, end));
    const first = arrive(b);
    assert.throws(() => call(b, 'wait'), broken);
    await assert.rejects(first, broken);
    assert.equal(b.broken, end === 'abort');
  }
  const b: Barrier = new Barrier(1, () => call(b, 'wait'));
  assert.throws(() => call(b, 'wait'), pyError('RuntimeError', "a barrier's action cannot wait on its own barrier"));
  assert.equal(b.broken, true);
});

test('abort puts the barrier in a broken state (test_abort)', async () => {
  const b = new Barrier(N, null, 30);
  const passed: boolean[] = [];
  const gotBroken: boolean[] = [];
  await runParties(async () => {
    const i = await arrive(b);
    if (i === Math.floor(N / 2)) {
      call(b, 'abort');
      return;
    }
    try {
      await arrive(b);
      passed.push(true);
    } catch (e) {
      assert.ok(e instanceof PyException && e.type === 'BrokenBarrierError');
      gotBroken.push(true);
    }
  });
  assert.deepEqual([passed.length, gotBroken.length, attr(b, 'broken')], [0, N - 1, true]);
  assert.match(b.__repr__(), /^<threading\.Barrier at 0x[0-9a-f]+: broken>$/);
  assert.equal(attr(b, 'n_waiting'), 0);
});

test('reset frees the waiting parties with BrokenBarrierError and the barrier works again (test_reset)', async () => {
  const b = new Barrier(N, null, 30);
  const passed: boolean[] = [];
  const gotBroken: boolean[] = [];
  const again: boolean[] = [];
  await runParties(async () => {
    const i = await arrive(b);
    if (i === Math.floor(N / 2)) {
      await until(`${N - 1} parties waiting`, () => b.n_waiting === N - 1);
      call(b, 'reset');
    } else {
      try {
        await arrive(b);
        passed.push(true);
      } catch (e) {
        assert.ok(e instanceof PyException && e.type === 'BrokenBarrierError');
        gotBroken.push(true);
      }
    }
    await arrive(b);
    again.push(true);
  });
  assert.deepEqual([passed.length, gotBroken.length, again.length], [0, N - 1, N]);
});

test('a broken barrier can be reset and used again (test_abort_and_reset)', async () => {
  const b = new Barrier(N, null, 30);
  const b2 = new Barrier(N);
  const passed: boolean[] = [];
  const gotBroken: boolean[] = [];
  const again: boolean[] = [];
  await runParties(async () => {
    try {
      const i = await arrive(b);
      if (i === Math.floor(N / 2)) throw new Error('abort');
      await arrive(b);
      passed.push(true);
    } catch (e) {
      if (e instanceof PyException) gotBroken.push(true);
      else call(b, 'abort');
    }
    if ((await arrive(b2)) === Math.floor(N / 2)) call(b, 'reset');
    await arrive(b2);
    await arrive(b);
    again.push(true);
  });
  assert.deepEqual([passed.length, gotBroken.length, again.length], [0, N - 1, N]);
});

test('a wait that times out breaks the barrier for every party, and a late one too (test_timeout)', async () => {
  const b = new Barrier(N, null, 30);
  const late = Math.floor(N / 2);
  const onTime = Array.from({ length: N - 1 }, () => arrive(b, [0.05]));
  assert.equal(attr(b, 'n_waiting'), N - 1);
  for (const w of onTime) await assert.rejects(w, broken);
  assert.equal(attr(b, 'broken'), true);
  // The late party arrives after the others gave up: the barrier is broken for it too.
  await assert.rejects(arrive(b, [0.05]), broken, `party ${late}`);
});

test('the barrier\'s default timeout applies to waits without one (test_default_timeout)', async () => {
  const b = new Barrier(N, null, 0.05);
  const started = Date.now();
  const onTime = Array.from({ length: N - 1 }, () => arrive(b));
  for (const w of onTime) await assert.rejects(w, broken);
  assert.ok(Date.now() - started >= 40, 'they waited about the default timeout');
  await assert.rejects(arrive(b), broken);
  // A wait's own timeout overrides the default.
  call(b, 'reset');
  const patient = arrive(b, [10]);
  assert.equal(await settled(patient), false);
  call(b, 'abort');
  await assert.rejects(patient, broken);
});

test('timeout 0 or negative breaks the barrier at once; the last arrival never looks at its timeout', async () => {
  for (const timeout of [0, -1, -Infinity, new Float(0)]) {
    const b = new Barrier(3);
    const first = arrive(b);
    assert.throws(() => call(b, 'wait', [timeout]), broken);
    await assert.rejects(first, broken);
    assert.equal(b.broken, true);
  }
  const b = new Barrier(2);
  const first = arrive(b);
  assert.equal(call(b, 'wait', [-1]), 1);
  assert.equal(await first, 0);
  const second = arrive(b);
  assert.equal(call(b, 'wait', ['not a number']), 1);
  assert.equal(await second, 0);
});

test('bad timeouts fail as Python\'s do, with no effect on the barrier', async () => {
  const b = new Barrier(3);
  assert.throws(() => call(b, 'wait', ['a']), pyError('TypeError', "unsupported operand type(s) for +: 'float' and 'str'"));
  assert.throws(() => call(b, 'wait', [[]]), pyError('TypeError', "unsupported operand type(s) for +: 'float' and 'list'"));
  assert.throws(() => call(b, 'wait', [Infinity]), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  assert.throws(() => call(b, 'wait', [10 ** 10]), pyError('OverflowError', 'timestamp too large to convert to C PyTime_t'));
  assert.throws(() => call(new Barrier(2, null, 'a'), 'wait'), pyError('TypeError', "unsupported operand type(s) for +: 'float' and 'str'"));
  assert.deepEqual([b.n_waiting, b.broken], [0, false]);
  // NaN: Python polls forever; here it waits without a deadline.
  const nan = arrive(b, [NaN]);
  assert.equal(await settled(nan), false);
  call(b, 'abort');
  await assert.rejects(nan, broken);
  // Broken is checked before the timeout, as in Python.
  assert.throws(() => call(b, 'wait', ['a']), broken);
});

test('arguments are bound as Python binds them', () => {
  const b = new Barrier(2);
  assert.throws(() => call(b, 'wait', [1, 2]), pyError('TypeError', /takes from 0 to 1 positional arguments but 2 were given/));
  assert.throws(() => call(b, 'wait', [], { x: 1 }), pyError('TypeError', /got an unexpected keyword argument 'x'/));
  assert.throws(() => call(b, 'abort', [1]), pyError('TypeError', /takes 0 positional arguments but 1 was given/));
  assert.throws(() => call(b, 'reset', [1]), pyError('TypeError', /takes 0 positional arguments but 1 was given/));
});

test('a withdrawn waiter breaks the barrier: it gets CallCancelled, the others BrokenBarrierError at once', async () => {
  const b = new Barrier(3);
  const controller = new AbortController();
  const stays = arrive(b, [10]);
  const leaves = arrive(b, [], {}, { signal: controller.signal });
  assert.equal(await settled(stays), false);
  assert.deepEqual(b.describeState(), { details: { parties: 3, waiting: 2, broken: false } });
  controller.abort();
  await assert.rejects(leaves, CallCancelled);
  await assert.rejects(stays, broken);
  assert.deepEqual(b.describeState(), { details: { parties: 3, waiting: 0, broken: true } });
  await assert.rejects(arrive(b), broken, 'later waits are broken until reset');
  call(b, 'reset');
  const waits = [arrive(b), arrive(b)];
  assert.equal(call(b, 'wait'), 2);
  assert.deepEqual(await Promise.all(waits), [0, 1]);
});

test('a call withdrawn before it runs has no effect; one withdrawn after its release keeps its index', async () => {
  const b = new Barrier(2);
  const gone = new AbortController();
  gone.abort();
  assert.throws(() => call(b, 'wait', [], {}, { signal: gone.signal }), CallCancelled);
  assert.deepEqual([b.n_waiting, b.broken], [0, false]);
  const controller = new AbortController();
  const first = arrive(b, [], {}, { signal: controller.signal });
  assert.equal(call(b, 'wait'), 1);
  controller.abort();
  assert.equal(await first, 0);
  assert.equal(b.broken, false);
});

test('many cycles: five parties pass a thousand times in order (test_thousand)', async () => {
  const b = new Barrier(N);
  const seen: number[] = [];
  await runParties(async () => {
    for (let i = 0; i < 1000; i++) {
      await arrive(b);
      seen.push(i);
    }
  });
  assert.equal(seen.length, 1000 * N);
  for (let k = 0; k < seen.length; k++) assert.equal(seen[k], Math.floor(k / N), `entry ${k}`);
  assert.deepEqual(b.describeState(), { details: { parties: N, waiting: 0, broken: false } });
});

test('repr is Python\'s: waiters and parties, or broken', async () => {
  const b = new Barrier(2);
  assert.match(b.__repr__(), /^<threading\.Barrier at 0x[0-9a-f]+: waiters=0\/2>$/);
  const p = arrive(b);
  assert.match(b.__repr__(), /: waiters=1\/2>$/);
  call(b, 'abort');
  await assert.rejects(p, broken);
  assert.match(b.__repr__(), /^<threading\.Barrier at 0x[0-9a-f]+: broken>$/);
});

async function barrierOn(c: RawClient): Promise<string> {
  return (await c.request('object/create', { typeid: 'get_barrier' })).result.id;
}

/** Sends a wait and makes sure it is registered (calls on one connection are taken in order). */
async function sendWait(c: RawClient, id: string): Promise<number | string> {
  const waitId = c.send('object/call', { id, method: 'wait' });
  const probe = await c.request('object/call', { id, method: '__getattribute__', args: ['broken'] });
  assert.equal(probe.result, false);
  return waitId;
}

test('over sockets: three clients wait on a Barrier(3) and get indices 0, 1 and 2', async () => {
  await using manager = await startManager({}, (m) => m.register('get_barrier', { shared: 'Barrier', args: [3] }));
  const clients = await Promise.all([0, 1, 2].map(() => RawClient.open(manager.address)));
  const ids = await Promise.all(clients.map(barrierOn));
  const w0 = await sendWait(clients[0], ids[0]);
  const w1 = await sendWait(clients[1], ids[1]);
  assert.equal((await clients[2].request('object/call', { id: ids[2], method: '__getattribute__', args: ['n_waiting'] })).result, 2);
  assert.equal((await clients[2].request('object/call', { id: ids[2], method: 'wait' })).result, 2);
  const r0 = await clients[0].next(2000);
  const r1 = await clients[1].next(2000);
  assert.deepEqual([r0.id, r0.result, r1.id, r1.result], [w0, 0, w1, 1]);
  for (const c of clients) c.close();
});

test('over sockets: a waiting client whose socket is destroyed breaks the barrier for the others', async () => {
  await using manager = await startManager({}, (m) => m.register('get_barrier', { shared: 'Barrier', args: [3] }));
  const quitter = await RawClient.open(manager.address);
  const stayer = await RawClient.open(manager.address);
  const late = await RawClient.open(manager.address);
  const [qid, sid, lid] = [await barrierOn(quitter), await barrierOn(stayer), await barrierOn(late)];
  await sendWait(quitter, qid);
  const waitId = await sendWait(stayer, sid);
  quitter.close();
  const reply = await stayer.next(2000);
  assert.equal(reply.id, waitId);
  assert.equal(reply.error.code, ErrorCodes.RemoteException);
  assert.equal(reply.error.data.type, 'BrokenBarrierError');
  const after = await late.request('object/call', { id: lid, method: 'wait' });
  assert.equal(after.error.data.type, 'BrokenBarrierError');
  await late.request('object/call', { id: lid, method: 'reset' });
  assert.equal((await late.request('object/call', { id: lid, method: '__getattribute__', args: ['broken'] })).result, false);
  stayer.close();
  late.close();
});

test('over sockets: a cancelled wait gets RequestCancelled and breaks the barrier; repr and bad actions answer', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Barrier', args: [2] })).result;
  const waitId = c.send('object/call', { id, method: 'wait' });
  c.sendJson({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: waitId } });
  const cancelled = await c.next(2000);
  assert.equal(cancelled.id, waitId);
  assert.equal(cancelled.error.code, ErrorCodes.RequestCancelled);
  assert.match((await c.request('object/call', { id, method: '__repr__' })).result, /^<threading\.Barrier at 0x[0-9a-f]+: broken>$/);
  const bad = await c.request('object/create', { typeid: 'Barrier', args: [2], kwargs: { action: 'print' } });
  assert.equal(bad.error.data.type, 'TypeError');
  c.close();
});
