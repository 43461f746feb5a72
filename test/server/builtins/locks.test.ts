/**
 * Lock, RLock, Semaphore and BoundedSemaphore: CPython's results and messages, waiting first come
 * first served, timeouts, cancellation with no effect, and ownership (what a client that leaves
 * held is given back, and its waiters take nothing). Direct calls through the server's call path
 * with hand-made sessions, then a few checks through real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallCancelled } from '../../../src/server/exceptions';
import { BoundedSemaphore, Lock, RLock, Semaphore, createBoundedSemaphore, createLock, createRLock, createSemaphore } from '../../../src/server/builtins/locks';
import { Float } from '../../../src/common/valueTypes';
import { RawClient, createOver, sendBlocking, startManager } from '../../helpers/manager';
import { FakeSession, call, pending, pyError, settled } from './helpers';

// ---------------------------------------------------------------- Lock

test('Lock: acquire, a second acquire(False) fails, release, and a release of an unlocked lock is a RuntimeError', () => {
  const lock = new Lock();
  assert.equal(call(lock, 'acquire'), true);
  assert.equal(call(lock, 'acquire', [false]), false);
  assert.equal(call(lock, 'release'), undefined);
  assert.throws(() => call(lock, 'release'), pyError('RuntimeError', 'release unlocked lock'));
});

test('Lock: acquire then release (a with block) leaves it unlocked; locked() tells', () => {
  const lock = new Lock();
  assert.equal(call(lock, 'locked'), false);
  assert.equal(call(lock, 'acquire'), true);
  assert.equal(call(lock, 'locked'), true);
  call(lock, 'release');
  assert.equal(call(lock, 'locked'), false);
});

test("Lock.acquire's argument errors are CPython 3.13's", () => {
  const lock = new Lock();
  assert.throws(() => call(lock, 'acquire', [false, 1]), pyError('ValueError', "can't specify a timeout for a non-blocking call"));
  assert.throws(() => call(lock, 'acquire', [true, -2]), pyError('ValueError', 'timeout value must be a non-negative number'));
  assert.throws(() => call(lock, 'acquire', [true, new Float(-0.5)]), pyError('ValueError', 'timeout value must be a non-negative number'));
  assert.throws(() => call(lock, 'acquire', [true, 'x']), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  assert.throws(() => call(lock, 'acquire', [true, NaN]), pyError('ValueError', 'Invalid value NaN (not a number)'));
  assert.throws(() => call(lock, 'acquire', [true, new Float(1e10)]), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  assert.throws(() => call(lock, 'acquire', [true, 10n ** 20n]), pyError('OverflowError', 'timestamp too large to convert to C PyTime_t'));
  assert.throws(() => call(lock, 'acquire', [], { x: 1 }), pyError('TypeError', "acquire() got an unexpected keyword argument 'x'"));
  assert.throws(() => call(lock, 'release', [1]), pyError('TypeError', /release\(\) takes 0 positional arguments but 1 was given/));
  assert.equal(call(lock, 'locked'), false, 'no failed call acquired');
  // timeout=-1 is the default, so it goes with blocking=False; any object's truth value is blocking.
  assert.equal(call(lock, 'acquire', [false, -1]), true);
  call(lock, 'release');
  assert.equal(call(lock, 'acquire', [''], {}), true, "'' is false: a non-blocking try");
});

test('Lock: a held lock refuses acquire(False) and acquire(timeout=0) at once, synchronously', () => {
  const lock = new Lock();
  call(lock, 'acquire');
  assert.equal(call(lock, 'acquire', [false]), false);
  assert.equal(call(lock, 'acquire', [true, 0]), false);
  assert.equal(lock.describeState().details.waiting, 0);
});

test('Lock: acquire with a timeout on a held lock gives False when it passes, and leaves no waiter', async () => {
  const lock = new Lock();
  call(lock, 'acquire');
  const start = performance.now();
  assert.equal(await pending(call(lock, 'acquire', [], { timeout: 0.05 })), false);
  assert.ok(performance.now() - start >= 45, 'waited for the timeout');
  assert.equal(lock.describeState().details.waiting, 0);
  call(lock, 'release');
  assert.equal(call(lock, 'locked'), false, 'the timed-out acquire took nothing');
});

test('Lock: waiters get the lock in arrival order, each handed it by a release; no newcomer barges in', async () => {
  const lock = new Lock();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new FakeSession(id));
  assert.equal(call(lock, 'acquire', [], {}, a.ctx()), true);
  const got: string[] = [];
  const waits = [b, c].map((s) => pending(call(lock, 'acquire', [], {}, s.ctx())).then((r) => (got.push(s.id), r)));
  call(lock, 'release', [], {}, a.ctx());
  assert.equal(call(lock, 'acquire', [false], {}, d.ctx()), false, 'handed to b, not free for d');
  assert.equal(await waits[0], true);
  assert.deepEqual(lock.describeState().details, { locked: true, owner: 'b', waiting: 1 });
  call(lock, 'release', [], {}, b.ctx());
  assert.equal(await waits[1], true);
  assert.deepEqual(got, ['b', 'c']);
});

test('Lock: anyone may release it, and the acquirer holds nothing after', () => {
  const lock = new Lock();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  call(lock, 'acquire', [], {}, a.ctx());
  assert.ok(a.held.has(lock));
  call(lock, 'release', [], {}, b.ctx());
  assert.equal(call(lock, 'locked'), false);
  assert.equal(a.held.size, 0, "the acquirer's record is cleared");
  assert.equal(b.held.size, 0);
});

test('Lock: a cancelled acquire rejects with CallCancelled and takes nothing', async () => {
  const lock = new Lock();
  const [a, b, c] = ['a', 'b', 'c'].map((id) => new FakeSession(id));
  call(lock, 'acquire', [], {}, a.ctx());
  const bCtx = b.ctx();
  const bWait = pending(call(lock, 'acquire', [], {}, bCtx));
  const cWait = pending(call(lock, 'acquire', [], {}, c.ctx()));
  bCtx.cancel();
  await assert.rejects(bWait, CallCancelled);
  call(lock, 'release', [], {}, a.ctx());
  assert.equal(await cWait, true, 'the next waiter got it');
  assert.equal(b.held.size, 0);
  call(lock, 'release', [], {}, c.ctx());
  assert.equal(call(lock, 'locked'), false);
});

test('Lock: an acquire whose call is already withdrawn raises CallCancelled and takes nothing', () => {
  const lock = new Lock();
  assert.throws(() => call(lock, 'acquire', [], {}, { signal: AbortSignal.abort() }), CallCancelled);
  assert.equal(call(lock, 'locked'), false);
});

test('Lock: when the acquirer leaves, the lock goes to the waiters in order; a waiter that leaves takes nothing', async () => {
  const lock = new Lock();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new FakeSession(id));
  call(lock, 'acquire', [], {}, a.ctx());
  const bWait = pending(call(lock, 'acquire', [], {}, b.ctx()));
  const cWait = pending(call(lock, 'acquire', [], {}, c.ctx()));
  const dWait = pending(call(lock, 'acquire', [], {}, d.ctx()));
  c.close();
  await assert.rejects(cWait, CallCancelled);
  a.close();
  assert.equal(await bWait, true);
  assert.ok(b.held.has(lock));
  lock.ownerLeft('a');
  assert.equal(lock.describeState().details.owner, 'b', 'a leaving again changes nothing');
  b.close();
  assert.equal(await dWait, true);
  assert.deepEqual(lock.describeState().details, { locked: true, owner: 'd', waiting: 0 });
});

test('Lock: repr and describeState', () => {
  const lock = new Lock();
  assert.match(lock.__repr__(), /^<unlocked _thread\.lock object at 0x[0-9a-f]+>$/);
  assert.deepEqual(lock.describeState(), { details: { locked: false, owner: null, waiting: 0 } });
  call(lock, 'acquire', [], {}, new FakeSession('s1').ctx());
  assert.match(lock.__repr__(), /^<locked _thread\.lock object at 0x[0-9a-f]+>$/);
  assert.deepEqual(lock.describeState(), { details: { locked: true, owner: 's1', waiting: 0 } });
  const local = new Lock();
  call(local, 'acquire');
  assert.equal(local.describeState().details.owner, 'local', 'an in-process caller');
});

test('createLock and createRLock take no arguments', () => {
  assert.ok(createLock([], {}) instanceof Lock);
  assert.ok(createRLock([], {}) instanceof RLock);
  assert.throws(() => createLock([1], {}), pyError('TypeError', 'Lock() takes 0 positional arguments but 1 was given'));
  assert.throws(() => createRLock([], { x: 1 }), pyError('TypeError', "RLock() got an unexpected keyword argument 'x'"));
});

test('Lock, RLock, Semaphore and BoundedSemaphore expose what CPython proxies do, each with a signature', () => {
  for (const type of [Lock, RLock]) assert.deepEqual(type.exposed, ['acquire', 'release', 'locked']);
  for (const type of [Semaphore, BoundedSemaphore]) assert.deepEqual(type.exposed, ['acquire', 'release']);
  for (const type of [Lock, RLock, Semaphore, BoundedSemaphore]) {
    for (const m of type.exposed) assert.ok(type.signatures[m], `${type.builtin}.${m}`);
  }
  assert.deepEqual([Lock.builtin, RLock.builtin, Semaphore.builtin, BoundedSemaphore.builtin], ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore']);
});

// ---------------------------------------------------------------- RLock

test('RLock: its owner acquires it three times and releases three times; one more release is a RuntimeError', () => {
  const lock = new RLock();
  for (let i = 0; i < 3; i++) assert.equal(call(lock, 'acquire'), true);
  for (let i = 0; i < 3; i++) assert.equal(call(lock, 'release'), undefined);
  assert.throws(() => call(lock, 'release'), pyError('RuntimeError', 'cannot release un-acquired lock'));
});

test('RLock: another owner can neither release it nor take it until the owner released every level', async () => {
  const lock = new RLock();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  call(lock, 'acquire', [], {}, a.ctx());
  call(lock, 'acquire', [false], {}, a.ctx());
  assert.throws(() => call(lock, 'release', [], {}, b.ctx()), pyError('RuntimeError', 'cannot release un-acquired lock'));
  assert.equal(call(lock, 'acquire', [false], {}, b.ctx()), false);
  const bWait = pending(call(lock, 'acquire', [], {}, b.ctx()));
  call(lock, 'release', [], {}, a.ctx());
  assert.equal(await settled(bWait), false, 'a still holds one level');
  assert.ok(a.held.has(lock), 'a holds it until the last level');
  call(lock, 'release', [], {}, a.ctx());
  assert.equal(await bWait, true);
  assert.equal(a.held.size, 0);
  assert.ok(b.held.has(lock));
  assert.deepEqual(lock.describeState().details, { locked: true, owner: 'b', count: 1, waiting: 0 });
});

test("RLock.acquire's argument errors are the lock's", () => {
  const lock = new RLock();
  assert.throws(() => call(lock, 'acquire', [false, 1]), pyError('ValueError', "can't specify a timeout for a non-blocking call"));
  assert.throws(() => call(lock, 'acquire', [true, -2]), pyError('ValueError', 'timeout value must be a non-negative number'));
  assert.throws(() => call(lock, 'acquire', [true, 'x']), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  call(lock, 'acquire');
  assert.throws(() => call(lock, 'acquire', [false, 1]), pyError('ValueError', "can't specify a timeout for a non-blocking call"), 'checked for the owner too');
  assert.equal(lock.describeState().details.count, 1);
});

test('RLock: a timed acquire by another owner gives False when the timeout passes', async () => {
  const lock = new RLock();
  call(lock, 'acquire', [], {}, new FakeSession('a').ctx());
  assert.equal(await pending(call(lock, 'acquire', [true, 0.03], {}, new FakeSession('b').ctx())), false);
  assert.equal(lock.describeState().details.owner, 'a');
});

test('RLock: an owner that leaves frees every level at once, and the next waiter gets it one deep', async () => {
  const lock = new RLock();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  for (let i = 0; i < 3; i++) call(lock, 'acquire', [], {}, a.ctx());
  const bWait = pending(call(lock, 'acquire', [], {}, b.ctx()));
  a.close();
  assert.equal(await bWait, true);
  assert.deepEqual(lock.describeState().details, { locked: true, owner: 'b', count: 1, waiting: 0 });
  call(lock, 'release', [], {}, b.ctx());
  assert.equal(lock.describeState().details.locked, false);
});

test('RLock: a cancelled acquire takes nothing', async () => {
  const lock = new RLock();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  call(lock, 'acquire', [], {}, a.ctx());
  const ctx = b.ctx();
  const wait = pending(call(lock, 'acquire', [], {}, ctx));
  ctx.cancel();
  await assert.rejects(wait, CallCancelled);
  call(lock, 'release', [], {}, a.ctx());
  assert.deepEqual(lock.describeState().details, { locked: false, owner: null, count: 0, waiting: 0 });
  assert.equal(b.held.size, 0);
});

test("RLock: repr shows the owner's session id and the depth", () => {
  const lock = new RLock();
  assert.match(lock.__repr__(), /^<unlocked _thread\.RLock object owner=0 count=0 at 0x[0-9a-f]+>$/);
  const s = new FakeSession('s7');
  call(lock, 'acquire', [], {}, s.ctx());
  call(lock, 'acquire', [], {}, s.ctx());
  assert.match(lock.__repr__(), /^<locked _thread\.RLock object owner=s7 count=2 at 0x[0-9a-f]+>$/);
});

// ---------------------------------------------------------------- Semaphore

/** CPython's _test_semaphore: two permits taken, a third refused, both given back. */
function twoPermits(sem: Semaphore): void {
  const value = () => sem.describeState().details.value;
  assert.equal(value(), 2);
  assert.equal(call(sem, 'acquire'), true);
  assert.equal(value(), 1);
  assert.equal(call(sem, 'acquire'), true);
  assert.equal(value(), 0);
  assert.equal(call(sem, 'acquire', [false]), false);
  assert.equal(value(), 0);
  assert.equal(call(sem, 'release'), undefined);
  assert.equal(value(), 1);
  assert.equal(call(sem, 'release'), undefined);
  assert.equal(value(), 2);
}

test('Semaphore(2): two acquires, a refused third, releases that may go above the initial value', () => {
  const sem = new Semaphore(2);
  twoPermits(sem);
  call(sem, 'release');
  assert.equal(sem.describeState().details.value, 3);
  call(sem, 'release');
  assert.equal(sem.describeState().details.value, 4);
});

test('BoundedSemaphore(2): the same, and a release above the initial value is a ValueError that changes nothing', () => {
  const sem = new BoundedSemaphore(2);
  twoPermits(sem);
  assert.throws(() => call(sem, 'release'), pyError('ValueError', 'Semaphore released too many times'));
  call(sem, 'acquire');
  assert.throws(() => call(sem, 'release', [2]), pyError('ValueError', 'Semaphore released too many times'));
  assert.equal(sem.describeState().details.value, 1);
});

test("Semaphore timeouts: CPython's non-blocking and timed acquires on an empty semaphore", async () => {
  const sem = new Semaphore(0);
  assert.equal(call(sem, 'acquire', [false]), false);
  assert.equal(call(sem, 'acquire', [false, null]), false);
  assert.throws(() => call(sem, 'acquire', [false, 0.05]), pyError('ValueError', "can't specify timeout for non-blocking acquire"));
  let start = performance.now();
  assert.equal(await pending(call(sem, 'acquire', [true, 0.05])), false);
  assert.ok(performance.now() - start >= 45);
  start = performance.now();
  assert.equal(await pending(call(sem, 'acquire', [], { timeout: 0.05 })), false);
  assert.ok(performance.now() - start >= 45);
  assert.equal(call(sem, 'acquire', [true, 0]), false, 'no time to wait: False at once');
  assert.equal(call(sem, 'acquire', [true, -1]), false, 'a negative timeout too, as in Python');
  assert.deepEqual(sem.describeState().details, { value: 0, waiting: 0, holders: {} });
});

test("Semaphore's argument errors are CPython's", () => {
  assert.throws(() => createSemaphore([-1], {}), pyError('ValueError', 'semaphore initial value must be >= 0'));
  assert.throws(() => createBoundedSemaphore([], { value: -1 }), pyError('ValueError', 'semaphore initial value must be >= 0'));
  assert.throws(() => createSemaphore(['x'], {}), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
  assert.throws(() => createSemaphore([new Float(1.5)], {}), pyError('TypeError', "'float' object cannot be interpreted as an integer"));
  assert.throws(() => createSemaphore([1, 2], {}), pyError('TypeError', 'Semaphore() takes from 0 to 1 positional arguments but 2 were given'));
  const sem = createSemaphore([], { value: 0 });
  assert.throws(() => call(sem, 'release', [0]), pyError('ValueError', 'n must be one or more'));
  assert.throws(() => call(sem, 'release', ['x']), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
  assert.throws(() => call(sem, 'acquire', [true, 'x']), pyError('TypeError', "unsupported operand type(s) for +: 'float' and 'str'"));
  assert.throws(() => call(sem, 'acquire', [true, new Float(1e10)]), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  call(sem, 'release');
  assert.equal(call(sem, 'acquire', [true, 'x']), true, 'the timeout is only read when it must wait, as in Python');
});

test('Semaphore: waiters get permits in arrival order; release(n) serves n of them; no newcomer barges in', async () => {
  const sem = new Semaphore(0);
  const got: number[] = [];
  const waits = [0, 1, 2].map((i) => pending(call(sem, 'acquire', [], {}, new FakeSession(`w${i}`).ctx())).then((r) => (got.push(i), r)));
  call(sem, 'release', [2]);
  assert.equal(call(sem, 'acquire', [false]), false, 'both permits went to waiters');
  assert.deepEqual(await Promise.all(waits.slice(0, 2)), [true, true]);
  assert.equal(await settled(waits[2]), false);
  call(sem, 'release');
  assert.equal(await waits[2], true);
  assert.deepEqual(got, [0, 1, 2]);
  assert.deepEqual(sem.describeState().details, { value: 0, waiting: 0, holders: { w0: 1, w1: 1, w2: 1 } });
});

test('Semaphore: a cancelled acquire takes no permit; the release goes to the next waiter, or stays', async () => {
  const sem = new Semaphore(0);
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  const aCtx = a.ctx();
  const aWait = pending(call(sem, 'acquire', [], {}, aCtx));
  const bWait = pending(call(sem, 'acquire', [], {}, b.ctx()));
  aCtx.cancel();
  await assert.rejects(aWait, CallCancelled);
  call(sem, 'release');
  assert.equal(await bWait, true);
  const cCtx = new FakeSession('c').ctx();
  const cWait = pending(call(sem, 'acquire', [], {}, cCtx));
  cCtx.cancel();
  await assert.rejects(cWait, CallCancelled);
  call(sem, 'release');
  assert.deepEqual(sem.describeState().details, { value: 1, waiting: 0, holders: { b: 1 } });
  assert.equal(a.held.size, 0);
});

test('Semaphore: an owner that leaves gives back the permits it still holds, to the waiters in order', async () => {
  const sem = new Semaphore(3);
  const [a, b, c] = ['a', 'b', 'c'].map((id) => new FakeSession(id));
  for (let i = 0; i < 3; i++) call(sem, 'acquire', [], {}, a.ctx());
  call(sem, 'release', [], {}, a.ctx());
  call(sem, 'acquire', [], {}, b.ctx());
  assert.deepEqual(sem.describeState().details.holders, { a: 2, b: 1 });
  const c1 = pending(call(sem, 'acquire', [], {}, c.ctx()));
  const c2 = pending(call(sem, 'acquire', [], {}, c.ctx()));
  const c3 = pending(call(sem, 'acquire', [], {}, c.ctx()));
  a.close();
  assert.deepEqual(await Promise.all([c1, c2]), [true, true], "a's two remaining permits, not the one it released");
  assert.equal(await settled(c3), false);
  b.close();
  assert.equal(await c3, true);
  assert.deepEqual(sem.describeState().details, { value: 0, waiting: 0, holders: { c: 3 } });
  c.close();
  assert.deepEqual(sem.describeState().details, { value: 3, waiting: 0, holders: {} });
});

test('Semaphore: hold on acquire, letGo when the owner released all it took; a plain release leaves others counted', () => {
  const sem = new Semaphore(2);
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  call(sem, 'acquire', [], {}, a.ctx());
  call(sem, 'acquire', [], {}, a.ctx());
  assert.ok(a.held.has(sem));
  call(sem, 'release', [], {}, a.ctx());
  assert.ok(a.held.has(sem), 'a still holds one');
  call(sem, 'release', [], {}, b.ctx());
  assert.deepEqual(sem.describeState().details.holders, { a: 1 }, "b held none: a plain release, nobody's count changes");
  assert.equal(b.held.size, 0);
  call(sem, 'release', [2], {}, a.ctx());
  assert.equal(a.held.size, 0);
  assert.deepEqual(sem.describeState().details, { value: 4, waiting: 0, holders: {} });
  // The documented trade-off: a signal taken by an owner that leaves is given back.
  const signal = new Semaphore(0);
  call(signal, 'release', [], {}, b.ctx());
  call(signal, 'acquire', [], {}, a.ctx());
  a.close();
  assert.equal(signal.describeState().details.value, 1);
});

test('BoundedSemaphore: what an owner that leaves held is not returned past the initial value', () => {
  const sem = new BoundedSemaphore(1);
  const [a, b, c] = ['a', 'b', 'c'].map((id) => new FakeSession(id));
  call(sem, 'acquire', [], {}, a.ctx());
  call(sem, 'release', [], {}, b.ctx()); // b gives a's permit back for it
  call(sem, 'acquire', [], {}, c.ctx());
  a.close();
  assert.equal(sem.describeState().details.value, 0, "c holds the only permit: a's is not returned twice");
  call(sem, 'release', [], {}, c.ctx());
  assert.deepEqual(sem.describeState().details, { value: 1, waiting: 0, holders: {}, initial: 1 });
  const two = new BoundedSemaphore(2);
  call(two, 'acquire', [], {}, a.ctx());
  call(two, 'acquire', [], {}, b.ctx());
  b.close();
  assert.deepEqual(two.describeState().details, { value: 1, waiting: 0, holders: { a: 1 }, initial: 2 });
});

test('Semaphore and BoundedSemaphore reprs', () => {
  const sem = createSemaphore([], {});
  assert.match(sem.__repr__(), /^<threading\.Semaphore at 0x[0-9a-f]+: value=1>$/);
  const bounded = createBoundedSemaphore([3], {});
  call(bounded, 'acquire');
  assert.match(bounded.__repr__(), /^<threading\.BoundedSemaphore at 0x[0-9a-f]+: value=2\/3>$/);
  assert.deepEqual(bounded.describeState().details, { value: 2, waiting: 0, holders: { local: 1 }, initial: 3 });
});

// ---------------------------------------------------------------- through real sockets

test('socket: a Lock held by a client whose connection dies goes to the client waiting for it', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const lock = await createOver(a, 'Lock');
  await b.request('object/incref', { id: lock.id });
  assert.equal((await a.request('object/call', { id: lock.id, method: 'acquire' })).result, true);
  const waiting = await sendBlocking(b, lock.id, 'acquire');
  a.socket.destroy();
  const reply = await b.next();
  assert.equal(reply.id, waiting);
  assert.equal(reply.result, true);
  assert.equal((await b.request('object/call', { id: lock.id, method: 'locked' })).result, true);
  b.close();
});

test('socket: an RLock held three deep by a client that disconnects is free', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const rlock = await createOver(a, 'RLock');
  await b.request('object/incref', { id: rlock.id });
  for (let i = 0; i < 3; i++) assert.equal((await a.request('object/call', { id: rlock.id, method: 'acquire' })).result, true);
  const waiting = await sendBlocking(b, rlock.id, 'acquire');
  a.close();
  const reply = await b.next();
  assert.equal(reply.id, waiting);
  assert.equal(reply.result, true, 'all three levels were given back');
  assert.equal((await b.request('object/call', { id: rlock.id, method: 'release' })).result, null);
  const repr = await b.request('object/call', { id: rlock.id, method: '__repr__' });
  assert.match(repr.result, /^<unlocked _thread\.RLock object owner=0 count=0 at 0x/);
  b.close();
});

test('socket: a Semaphore holder of two permits dies; the waiter gets one and the other is free', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const sem = await createOver(a, 'Semaphore', [2]);
  await b.request('object/incref', { id: sem.id });
  for (let i = 0; i < 2; i++) assert.equal((await a.request('object/call', { id: sem.id, method: 'acquire' })).result, true);
  const waiting = await sendBlocking(b, sem.id, 'acquire');
  a.close();
  const reply = await b.next();
  assert.equal(reply.id, waiting);
  assert.equal(reply.result, true);
  assert.equal((await b.request('object/call', { id: sem.id, method: 'acquire', args: [false] })).result, true, 'the second permit is back too');
  b.close();
});

test('socket: a client blocked on a Lock that disconnects takes nothing', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const lock = await createOver(a, 'Lock');
  await b.request('object/incref', { id: lock.id });
  await a.request('object/call', { id: lock.id, method: 'acquire' });
  await sendBlocking(b, lock.id, 'acquire');
  b.close();
  await b.closed;
  // The server handles b's close before a's release only if it has seen it: wait for b's session to go.
  for (let i = 0; i < 200 && manager.connectedSessions.size > 1; i++) await a.request('object/call', { id: lock.id, method: '__repr__' });
  assert.equal(manager.connectedSessions.size, 1);
  await a.request('object/call', { id: lock.id, method: 'release' });
  assert.equal((await a.request('object/call', { id: lock.id, method: 'locked' })).result, false, 'the departed waiter was not given it');
  a.close();
});
