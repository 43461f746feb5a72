/**
 * Condition: CPython's wait/notify results and messages, the lock given up and taken back (at
 * its depth) before a wait's result, waking in arrival order, timeouts, the building blocks of
 * the client's wait_for loop, cancellation, and a notification passed on when its waiter leaves.
 * Direct calls with hand-made sessions, then a few checks through real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallCancelled } from '../../../src/server/exceptions';
import { Condition, createCondition } from '../../../src/server/builtins/condition';
import { Lock, RLock, Semaphore } from '../../../src/server/builtins/locks';
import { SharedRef } from '../../../src/server/calls/sharedRef';
import { RawClient, createOver, sendBlocking, startManager } from '../../helpers/manager';
import { until } from '../../helpers/until';
import { FakeSession, call, pending, pyError, settled } from './helpers';

/** A session that takes the condition's lock and waits on it (CPython's test helper `f`). */
function sleeper(cond: Condition, id: string, timeout: number | null = null): { session: FakeSession; woken: Promise<unknown> } {
  const session = new FakeSession(id);
  assert.equal(call(cond, 'acquire', [], {}, session.ctx()), true);
  return { session, woken: pending(call(cond, 'wait', [timeout], {}, session.ctx())) };
}

/** acquire, notify(n), release, as one client would. */
function notifyAs(cond: Condition, session: FakeSession, method: 'notify' | 'notify_all' = 'notify', args: unknown[] = []): void {
  assert.equal(call(cond, 'acquire', [], {}, session.ctx()), true);
  call(cond, method, args, {}, session.ctx());
  call(cond, 'release', [], {}, session.ctx());
}

test('Condition: wait and notify need the lock held by the caller', () => {
  const cond = new Condition();
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  assert.throws(() => call(cond, 'wait', [], {}, a.ctx()), pyError('RuntimeError', 'cannot wait on un-acquired lock'));
  assert.throws(() => call(cond, 'notify', [], {}, a.ctx()), pyError('RuntimeError', 'cannot notify on un-acquired lock'));
  assert.throws(() => call(cond, 'notify_all', [], {}, a.ctx()), pyError('RuntimeError', 'cannot notify on un-acquired lock'));
  call(cond, 'acquire', [], {}, a.ctx());
  assert.throws(() => call(cond, 'wait', [0], {}, b.ctx()), pyError('RuntimeError', 'cannot wait on un-acquired lock'), "the RLock is a's");
  assert.throws(() => call(cond, 'notify', [], {}, b.ctx()), pyError('RuntimeError', 'cannot notify on un-acquired lock'));
  assert.equal(call(cond, 'notify', [], {}, a.ctx()), undefined);
});

test('Condition over a plain Lock: "owned" means locked, by anyone (Python\'s rule)', () => {
  const cond = new Condition(new Lock());
  const [a, b] = [new FakeSession('a'), new FakeSession('b')];
  assert.throws(() => call(cond, 'notify', [], {}, b.ctx()), pyError('RuntimeError', 'cannot notify on un-acquired lock'));
  call(cond, 'acquire', [], {}, a.ctx());
  assert.equal(call(cond, 'notify', [], {}, b.ctx()), undefined);
  assert.equal(call(cond, 'wait', [0], {}, b.ctx()), false, 'b may wait: it gives up the lock and takes it back');
  assert.deepEqual(cond.describeState().details, { lock: 'Lock', locked: true, owner: 'b', waiting: 0 });
  assert.equal(a.held.size, 0, "a's record went with its lock");
  assert.ok(b.held.has(cond.lock));
});

test('Condition: notify wakes one waiter at a time, in arrival order, each with the lock', async () => {
  const cond = new Condition();
  const main = new FakeSession('main');
  const first = sleeper(cond, 'first');
  const second = sleeper(cond, 'second');
  assert.equal(cond.describeState().details.waiting, 2);
  assert.equal(await settled(first.woken), false);
  notifyAs(cond, main);
  assert.equal(await first.woken, true);
  assert.equal(await settled(second.woken), false, 'only one woken');
  assert.deepEqual(cond.describeState().details, { lock: 'RLock', locked: true, owner: 'first', waiting: 1 });
  call(cond, 'release', [], {}, first.session.ctx());
  notifyAs(cond, main);
  assert.equal(await second.woken, true);
  call(cond, 'release', [], {}, second.session.ctx());
  assert.deepEqual(cond.describeState().details, { lock: 'RLock', locked: false, owner: null, waiting: 0 });
});

test("Condition: a wait's result comes only once its caller holds the lock again, at the depth it had", async () => {
  const cond = new Condition();
  const [w, main] = [new FakeSession('w'), new FakeSession('main')];
  for (let i = 0; i < 3; i++) call(cond, 'acquire', [], {}, w.ctx());
  const woken = pending(call(cond, 'wait', [], {}, w.ctx()));
  assert.equal(cond.describeState().details.locked, false, 'every level was given up');
  assert.equal(w.held.size, 0);
  call(cond, 'acquire', [], {}, main.ctx());
  call(cond, 'notify', [], {}, main.ctx());
  assert.equal(await settled(woken), false, 'notified, but main holds the lock');
  call(cond, 'release', [], {}, main.ctx());
  assert.equal(await woken, true);
  assert.ok(w.held.has(cond.lock));
  assert.match(cond.__repr__(), /^<Condition\(<locked _thread\.RLock object owner=w count=3 at 0x[0-9a-f]+>, 0\)>$/);
});

test('Condition: notify_all wakes every waiter; they take the lock in arrival order', async () => {
  const cond = new Condition();
  const main = new FakeSession('main');
  const sleepers = [0, 1, 2, 3, 4, 5].map((i) => sleeper(cond, `s${i}`));
  const order: string[] = [];
  for (const s of sleepers) s.woken.then(() => order.push(s.session.id));
  notifyAs(cond, main, 'notify_all');
  for (const s of sleepers) {
    assert.equal(await s.woken, true);
    call(cond, 'release', [], {}, s.session.ctx());
  }
  assert.deepEqual(order, ['s0', 's1', 's2', 's3', 's4', 's5']);
  assert.equal(cond.describeState().details.waiting, 0);
});

test('Condition: notify(n=2) wakes two, notify(4) the rest, and notify(3) with nobody waiting does nothing', async () => {
  const cond = new Condition();
  const main = new FakeSession('main');
  const sleepers = [0, 1, 2, 3, 4, 5].map((i) => sleeper(cond, `s${i}`));
  notifyAs(cond, main, 'notify', [2]);
  assert.equal(cond.describeState().details.waiting, 4);
  for (const s of sleepers.slice(0, 2)) {
    assert.equal(await s.woken, true);
    call(cond, 'release', [], {}, s.session.ctx());
  }
  assert.equal(await settled(sleepers[2].woken), false);
  call(cond, 'acquire', [], {}, main.ctx());
  call(cond, 'notify', [], { n: 4 }, main.ctx());
  call(cond, 'release', [], {}, main.ctx());
  for (const s of sleepers.slice(2)) {
    assert.equal(await s.woken, true);
    call(cond, 'release', [], {}, s.session.ctx());
  }
  notifyAs(cond, main, 'notify', [3]);
  assert.deepEqual(cond.describeState().details, { lock: 'RLock', locked: false, owner: null, waiting: 0 });
});

test('Condition: wait with a timeout gives False when it passes, holding the lock again', async () => {
  const cond = new Condition();
  const w = new FakeSession('w');
  call(cond, 'acquire', [], {}, w.ctx());
  call(cond, 'acquire', [], {}, w.ctx());
  const start = performance.now();
  assert.equal(await pending(call(cond, 'wait', [0.05], {}, w.ctx())), false);
  assert.ok(performance.now() - start >= 45, 'waited for the timeout');
  assert.deepEqual(cond.describeState().details, { lock: 'RLock', locked: true, owner: 'w', waiting: 0 });
  assert.match(cond.lock.__repr__(), /count=2/);
});

test('Condition: wait(0) and a negative timeout give False at once (CPython\'s wait_result)', async () => {
  const cond = new Condition();
  const [w, notifier] = [new FakeSession('w'), new FakeSession('n')];
  call(cond, 'acquire', [], {}, w.ctx());
  assert.equal(call(cond, 'wait', [0], {}, w.ctx()), false);
  assert.equal(call(cond, 'wait', [-1], {}, w.ctx()), false);
  assert.equal(await pending(call(cond, 'wait', [0.02], {}, w.ctx())), false);
  const woken = pending(call(cond, 'wait', [60], {}, w.ctx()));
  notifyAs(cond, notifier);
  assert.equal(await woken, true, 'a notify before the timeout: True');
});

test('Condition: a timed-out waiter waits for the lock before its False is delivered', async () => {
  const cond = new Condition();
  const [w, other] = [new FakeSession('w'), new FakeSession('other')];
  call(cond, 'acquire', [], {}, w.ctx());
  const timedOut = pending(call(cond, 'wait', [0.03], {}, w.ctx()));
  call(cond, 'acquire', [], {}, other.ctx());
  await until('the deadline to pass while `other` holds the lock', () => cond.describeState().details.waiting === 0);
  assert.equal(await settled(timedOut), false);
  call(cond, 'release', [], {}, other.ctx());
  assert.equal(await timedOut, false);
  assert.equal(cond.describeState().details.owner, 'w');
});

test("Condition: wait_for's building blocks — a client loop of predicate and wait reaches state 4", async () => {
  const cond = new Condition();
  const [w, main] = [new FakeSession('w'), new FakeSession('main')];
  let state = 0;
  call(cond, 'acquire', [], {}, w.ctx());
  const waitFor = (async () => {
    // ConditionProxy.wait_for: check the predicate with the lock held, wait, check again.
    while (state !== 4) await call(cond, 'wait', [null], {}, w.ctx());
    return state === 4;
  })();
  for (let i = 0; i < 4; i++) {
    // The lock is free only while the loop waits: so each change is seen by a wait or by the predicate.
    assert.equal(await call(cond, 'acquire', [], {}, main.ctx()), true);
    state++;
    call(cond, 'notify', [], {}, main.ctx());
    call(cond, 'release', [], {}, main.ctx());
  }
  assert.equal(await waitFor, true);
  assert.equal(cond.describeState().details.owner, 'w', 'the loop ends holding the lock');
});

test("Condition: wait_for with a timeout — the loop's waits give False and the deadline ends it", async () => {
  const cond = new Condition();
  const [w, main] = [new FakeSession('w'), new FakeSession('main')];
  let state = 0;
  call(cond, 'acquire', [], {}, w.ctx());
  const start = performance.now();
  const timeout = 0.1;
  const waitFor = (async () => {
    const deadline = performance.now() + timeout * 1000;
    let result = state === 4;
    while (!result) {
      const left = (deadline - performance.now()) / 1000;
      if (left <= 0) break;
      await call(cond, 'wait', [left], {}, w.ctx());
      result = state === 4;
    }
    return result;
  })();
  for (let i = 0; i < 3; i++) {
    assert.equal(await call(cond, 'acquire', [], {}, main.ctx()), true);
    state++;
    call(cond, 'notify', [], {}, main.ctx());
    call(cond, 'release', [], {}, main.ctx());
  }
  assert.equal(await waitFor, false);
  assert.ok(performance.now() - start >= timeout * 1000 - 5);
  assert.equal(cond.describeState().details.owner, 'w');
});

test("Condition.wait's and notify's argument errors are CPython's, and leave the lock held", () => {
  const cond = new Condition();
  const w = new FakeSession('w');
  call(cond, 'acquire', [], {}, w.ctx());
  assert.throws(() => call(cond, 'wait', ['x'], {}, w.ctx()), pyError('TypeError', "'>' not supported between instances of 'str' and 'int'"));
  assert.throws(() => call(cond, 'wait', [1e10], {}, w.ctx()), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  assert.throws(() => call(cond, 'wait', [], { t: 1 }, w.ctx()), pyError('TypeError', "wait() got an unexpected keyword argument 't'"));
  assert.equal(cond.describeState().details.owner, 'w');
  assert.equal(call(cond, 'notify', ['x'], {}, w.ctx()), undefined, 'nobody waits: n is never compared');
  const other = new FakeSession('o');
  call(cond, 'release', [], {}, w.ctx());
  call(cond, 'acquire', [], {}, other.ctx());
  const waiting = pending(call(cond, 'wait', [], {}, other.ctx()));
  call(cond, 'acquire', [], {}, w.ctx());
  assert.throws(() => call(cond, 'notify', ['x'], {}, w.ctx()), pyError('TypeError', "'>' not supported between instances of 'str' and 'int'"));
  assert.equal(cond.describeState().details.waiting, 1);
  other.close();
  return assert.rejects(waiting, CallCancelled);
});

test('Condition: a waiter cancelled before any notify leaves the line, without the lock', async () => {
  const cond = new Condition();
  const [w, main, next] = [new FakeSession('w'), new FakeSession('main'), new FakeSession('next')];
  call(cond, 'acquire', [], {}, w.ctx());
  const ctx = w.ctx();
  const cancelled = pending(call(cond, 'wait', [], {}, ctx));
  const later = sleeper(cond, 'next');
  ctx.cancel();
  await assert.rejects(cancelled, CallCancelled);
  assert.equal(cond.describeState().details.waiting, 1);
  notifyAs(cond, main);
  assert.equal(await later.woken, true, 'the notify went to the waiter still there');
  assert.equal(w.held.size, 0, 'the cancelled waiter holds nothing');
  assert.equal(next.held.size, 0);
  assert.throws(() => call(cond, 'wait', [], {}, { signal: AbortSignal.abort() }), CallCancelled);
});

test('Condition: a notified waiter that leaves before it has the lock passes its notification on', async () => {
  const cond = new Condition();
  const main = new FakeSession('main');
  const first = sleeper(cond, 'first');
  const second = sleeper(cond, 'second');
  call(cond, 'acquire', [], {}, main.ctx());
  call(cond, 'notify', [], {}, main.ctx());
  assert.equal(cond.describeState().details.waiting, 1, 'first was notified and waits for the lock');
  first.session.close();
  await assert.rejects(first.woken, CallCancelled);
  assert.equal(cond.describeState().details.waiting, 0, 'the notification went to second');
  call(cond, 'release', [], {}, main.ctx());
  assert.equal(await second.woken, true);
  assert.equal(cond.describeState().details.owner, 'second');
  assert.equal(first.session.held.size, 0);
});

test('Condition: a waiter whose session closes while another holds the lock is withdrawn; the holder leaving frees the lock', async () => {
  const cond = new Condition();
  const w = sleeper(cond, 'w');
  const holder = new FakeSession('holder');
  call(cond, 'acquire', [], {}, holder.ctx());
  call(cond, 'acquire', [], {}, holder.ctx());
  w.session.close();
  await assert.rejects(w.woken, CallCancelled);
  const next = new FakeSession('next');
  const acquire = pending(call(cond, 'acquire', [], {}, next.ctx()));
  holder.close();
  assert.equal(await acquire, true, 'the RLock, held two deep, was given back');
  assert.deepEqual(cond.describeState().details, { lock: 'RLock', locked: true, owner: 'next', waiting: 0 });
});

test('Condition: acquire and release are its lock\'s; the default lock is an RLock', async () => {
  const lock = new Lock();
  const cond = new Condition(lock);
  assert.equal(cond.lock, lock);
  assert.equal(call(cond, 'acquire'), true);
  assert.equal(lock.locked(), true);
  assert.equal(call(cond, 'acquire', [false]), false, 'a plain Lock is not reentrant');
  assert.equal(await pending(call(cond, 'acquire', [true, 0.02])), false);
  call(cond, 'release');
  assert.equal(lock.locked(), false);
  assert.throws(() => call(cond, 'release'), pyError('RuntimeError', 'release unlocked lock'));
  assert.ok(createCondition([], {}).lock instanceof RLock);
  assert.ok(createCondition([null], {}).lock instanceof RLock);
});

test('createCondition uses the very Lock or RLock a reference names, and refuses anything else', () => {
  const lock = new Lock();
  assert.equal(createCondition([SharedRef.of(lock)], {}).lock, lock);
  const rlock = new RLock();
  assert.equal(createCondition([], { lock: SharedRef.of(rlock) }).lock, rlock);
  assert.throws(() => createCondition([SharedRef.of(new Semaphore())], {}), pyError('TypeError', "Condition() argument 'lock' must be a Lock or RLock proxy of this manager, not a proxy of a Semaphore"));
  assert.throws(() => createCondition([5], {}), pyError('TypeError', "Condition() argument 'lock' must be a Lock or RLock proxy of this manager, not 'int'"));
  assert.throws(() => createCondition([null, 2], {}), pyError('TypeError', 'Condition() takes from 0 to 1 positional arguments but 2 were given'));
});

test("Condition: repr is CPython's, with the lock's repr and the number of waiters", () => {
  const cond = new Condition();
  assert.match(cond.__repr__(), /^<Condition\(<unlocked _thread\.RLock object owner=0 count=0 at 0x[0-9a-f]+>, 0\)>$/);
  sleeper(cond, 'w');
  assert.match(cond.__repr__(), /^<Condition\(<unlocked _thread\.RLock object owner=0 count=0 at 0x[0-9a-f]+>, 1\)>$/);
  assert.match(new Condition(new Lock()).__repr__(), /^<Condition\(<unlocked _thread\.lock object at 0x[0-9a-f]+>, 0\)>$/);
  assert.deepEqual(Condition.exposed, ['acquire', 'release', 'wait', 'notify', 'notify_all']);
});

// ---------------------------------------------------------------- through real sockets

test('socket: Condition(lock) made with a $proxy to a Lock waits on that very lock', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const lock = await createOver(a, 'Lock');
  const cond = await createOver(a, 'Condition', [{ $proxy: lock }]);
  await b.request('object/incref', { id: cond.id });
  assert.equal((await a.request('object/call', { id: cond.id, method: 'acquire' })).result, true);
  assert.equal((await a.request('object/call', { id: lock.id, method: 'locked' })).result, true, "the condition's acquire took the Lock");
  const waiting = await sendBlocking(a, cond.id, 'wait');
  assert.equal((await a.request('object/call', { id: lock.id, method: 'locked' })).result, false, 'wait gave the Lock up');
  assert.equal((await b.request('object/call', { id: cond.id, method: 'acquire' })).result, true);
  assert.equal((await b.request('object/call', { id: cond.id, method: 'notify' })).result, null);
  assert.equal((await b.request('object/call', { id: cond.id, method: 'release' })).result, null);
  const woken = await a.next();
  assert.equal(woken.id, waiting);
  assert.equal(woken.result, true);
  assert.equal((await a.request('object/call', { id: lock.id, method: 'locked' })).result, true, 'the Lock is held again');
  const repr = await b.request('object/call', { id: cond.id, method: '__repr__' });
  assert.match(repr.result, /^<Condition\(<locked _thread\.lock object at 0x[0-9a-f]+>, 0\)>$/);
  a.close();
  b.close();
});

test('socket: a notified waiter whose client dies before it has the lock passes the notification on', async () => {
  await using manager = await startManager();
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => RawClient.open(manager.address)));
  const cond = await createOver(a, 'Condition');
  await b.request('object/incref', { id: cond.id });
  await c.request('object/incref', { id: cond.id });
  await a.request('object/call', { id: cond.id, method: 'acquire' });
  await sendBlocking(a, cond.id, 'wait');
  await c.request('object/call', { id: cond.id, method: 'acquire' });
  const cWait = await sendBlocking(c, cond.id, 'wait');
  await b.request('object/call', { id: cond.id, method: 'acquire' });
  await b.request('object/call', { id: cond.id, method: 'notify' });
  a.socket.destroy();
  await until("the manager to see a's connection gone", () => manager.connectedSessions.size === 2);
  await b.request('object/call', { id: cond.id, method: 'release' });
  const woken = await c.next();
  assert.equal(woken.id, cWait);
  assert.equal(woken.result, true, "c got the notification a could not use");
  b.close();
  c.close();
});
