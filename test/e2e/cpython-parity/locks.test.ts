/**
 * CPython parity, locks and semaphores: what `_TestLock` and `_TestSemaphore` in
 * `Lib/test/_test_multiprocessing.py` check of managed `Lock`, `RLock`, `Semaphore` and
 * `BoundedSemaphore`, through real sockets. Python's `release()` is `unlock()` on these proxies
 * (`release()` gives back the proxy's reference).
 *
 * CPython reads a semaphore's value with `get_value()`, which a manager's AcquirerProxy does not
 * have (so CPython skips those checks for managers); here the value is read from the manager's
 * own state instead, so the checks are kept.
 *
 * Not applicable: test_repr_lock and test_repr_rlock (the reprs of multiprocessing's own
 * SemLock-based locks, processes only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LockProxy, RLockProxy, RuntimeError, SemaphoreProxy, ValueError } from '../../../src/client';
import { assertPrompt, assertWaited, details, LONG, parity, SHORT, stopwatch, TEST_TIMEOUT } from './harness';

/** A semaphore's free permits, as the manager holds them (CPython's get_value). */
function permits(s: { manager: Parameters<typeof details>[0] }, sem: SemaphoreProxy): number {
  return details(s.manager, sem).value as number;
}

// CPython: _TestLock.test_lock
test('Lock: acquire returns True and locks; a second non-blocking acquire is False; release unlocks; releasing an unlocked lock is RuntimeError', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const lock = await s.main.create<LockProxy>('Lock');
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.locked(), true);
  assert.equal(await lock.acquire({ blocking: false }), false, 'a Lock is not reentrant, even for its holder');
  assert.equal(await lock.unlock(), undefined);
  assert.equal(await lock.locked(), false);
  await assert.rejects(lock.unlock(), (e: unknown) => e instanceof RuntimeError && /release unlocked lock/.test(e.message));
});

// CPython: _TestLock.test_lock_locked_2processes (processes only there; the same question for a managed Lock)
test('Lock: acquired by another client, it is locked for that client and for this one', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const lock = await s.main.create<LockProxy>('Lock');
  const [other] = await s.connect(1);
  const child = await s.share(other, { lock });
  assert.equal(await child.lock.acquire(), true);
  assert.equal(await child.lock.locked(), true);
  assert.equal(await lock.locked(), true);
  assert.equal(await lock.acquire({ blocking: false }), false);
  await child.lock.unlock();
  assert.equal(await lock.locked(), false);
});

// CPython: TestSyncManagerTypes.test_lock (a worker acquires, the parent releases, a second release fails).
// The worker stays connected here: this manager gives a lock back when the client that acquired it
// disconnects (documented in src/server/builtins/locks.ts), where CPython's stays locked.
test('Lock: a lock another client acquired may be released by this one; releasing again is RuntimeError', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const lock = await s.main.create<LockProxy>('Lock');
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { lock });
  assert.equal(await child.lock.acquire(), true);
  assert.equal(await child.lock.locked(), true);
  await lock.unlock();
  assert.equal(await child.lock.locked(), false);
  await assert.rejects(lock.unlock(), RuntimeError);
});

// CPython: _TestLock.test_rlock (its acquire/release counting; locked() is the next test)
test('RLock: its holder acquires it three times and must release it three times; a fourth release is RuntimeError', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const rlock = await s.main.create<RLockProxy>('RLock');
  const [other] = await s.connect(1);
  const { rlock: elsewhere } = await s.share(other, { rlock });

  assert.equal(await rlock.acquire(), true);
  assert.equal(await rlock.acquire(), true);
  assert.equal(await rlock.acquire(), true);
  assert.equal(await rlock.unlock(), undefined);
  assert.equal(await elsewhere.acquire({ blocking: false }), false, 'still held after one release of three');
  assert.equal(await rlock.unlock(), undefined);
  assert.equal(await rlock.unlock(), undefined);
  assert.equal(await elsewhere.acquire({ blocking: false }), true, 'free after the third release');
  await elsewhere.unlock();
  await assert.rejects(rlock.unlock(), (e: unknown) => e instanceof RuntimeError && /cannot release un-acquired lock/.test(e.message));
});

// CPython: _TestLock.test_rlock and test_rlock_locked_2processes (lock.locked()), and
// TestSyncManagerTypes.test_rlock (obj.locked()): CPython 3.14's AcquirerProxy exposes `locked`,
// and threading.RLock has it.
test(
  'RLock: locked() is True while this or another client holds it, False once released',
  { timeout: TEST_TIMEOUT },
  async () => {
    await using s = await parity();
    const rlock = await s.main.create<RLockProxy>('RLock');
    const locked = () => rlock.callMethod('locked') as Promise<boolean>;
    assert.equal(await rlock.acquire(), true);
    assert.equal(await locked(), true);
    assert.equal(await rlock.acquire(), true);
    await rlock.unlock();
    assert.equal(await locked(), true);
    await rlock.unlock();
    assert.equal(await locked(), false);

    const [other] = await s.connect(1);
    const { rlock: elsewhere } = await s.share(other, { rlock });
    assert.equal(await elsewhere.acquire(), true);
    assert.equal(await locked(), true, 'held by another client');
    await elsewhere.unlock();
  },
);

// CPython: _TestLock.test_lock_context
test('Lock as a context: entering acquires (a true result) and holds it; leaving releases it', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const lock = await s.main.create<LockProxy>('Lock');
  {
    await using held = await lock.acquired();
    assert.ok(held, 'the context gives a truthy result');
    assert.equal(held.released, false);
    assert.equal(await lock.locked(), true);
  }
  assert.equal(await lock.locked(), false);
  assert.equal(await lock.withLock(async () => lock.locked()), true);
  assert.equal(await lock.locked(), false);
});

// CPython: _TestLock.test_rlock_context
test('RLock as a context: entering acquires and holds it (others cannot take it); leaving releases it', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const rlock = await s.main.create<RLockProxy>('RLock');
  const [other] = await s.connect(1);
  const { rlock: elsewhere } = await s.share(other, { rlock });
  {
    await using held = await rlock.acquired();
    assert.ok(held);
    assert.equal(await elsewhere.acquire({ blocking: false }), false);
  }
  assert.equal(await elsewhere.acquire({ blocking: false }), true);
  await elsewhere.unlock();
});

/** CPython's _TestSemaphore._test_semaphore, on a semaphore of 2 permits. */
async function countsDownAndUp(s: Parameters<typeof permits>[0], sem: SemaphoreProxy): Promise<void> {
  assert.equal(permits(s, sem), 2);
  assert.equal(await sem.acquire(), true);
  assert.equal(permits(s, sem), 1);
  assert.equal(await sem.acquire(), true);
  assert.equal(permits(s, sem), 0);
  assert.equal(await sem.acquire({ blocking: false }), false);
  assert.equal(permits(s, sem), 0);
  assert.equal(await sem.unlock(), undefined);
  assert.equal(permits(s, sem), 1);
  assert.equal(await sem.unlock(), undefined);
  assert.equal(permits(s, sem), 2);
}

// CPython: _TestSemaphore.test_semaphore
test('Semaphore(2): each acquire takes a permit, a non-blocking acquire at 0 is False, each release adds one, past the initial value too', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const sem = await s.main.create<SemaphoreProxy>('Semaphore', 2);
  await countsDownAndUp(s, sem);
  assert.equal(await sem.unlock(), undefined);
  assert.equal(permits(s, sem), 3);
  assert.equal(await sem.unlock(), undefined);
  assert.equal(permits(s, sem), 4);
});

// CPython: _TestSemaphore.test_bounded_semaphore (with the check CPython comments out for OS X:
// a release past the initial value is ValueError, as threading.BoundedSemaphore raises)
test('BoundedSemaphore(2): counts as a Semaphore, and a release past its initial value is ValueError, leaving it at 2', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const sem = await s.main.create<SemaphoreProxy>('BoundedSemaphore', 2);
  await countsDownAndUp(s, sem);
  await assert.rejects(sem.unlock(), (e: unknown) => e instanceof ValueError && /released too many times/.test(e.message));
  assert.equal(permits(s, sem), 2);
});

// CPython: _TestSemaphore.test_timeout (processes only there: multiprocessing's SemLock returns
// False for acquire(False, timeout); a manager serves threading.Semaphore, which raises ValueError)
test('Semaphore(0): non-blocking acquires are False at once; a timed acquire is False once its timeout has passed', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const sem = await s.main.create<SemaphoreProxy>('Semaphore', 0);

  assert.equal(await sem.acquire({ blocking: false }), false);
  assert.equal(await sem.acquire({ blocking: false, timeout: null }), false);
  await assert.rejects(sem.acquire({ blocking: false, timeout: SHORT }), (e: unknown) => e instanceof ValueError && /can't specify timeout for non-blocking acquire/.test(e.message));

  let clock = stopwatch();
  assert.equal(await sem.acquire({ blocking: true, timeout: SHORT }), false);
  assertWaited(clock, SHORT, 'acquire(True, timeout)');

  clock = stopwatch();
  assert.equal(await sem.acquire({ timeout: SHORT }), false);
  assertWaited(clock, SHORT, 'acquire(timeout=...)');
  assert.equal(permits(s, sem), 0, 'the timed-out acquires took nothing');

  // A permit released by another client ends a timed acquire at once.
  const [other] = await s.connect(1);
  const { sem: elsewhere } = await s.share(other, { sem });
  await elsewhere.unlock();
  clock = stopwatch();
  assert.equal(await sem.acquire({ timeout: LONG }), true);
  assertPrompt(clock, LONG, 'acquire(timeout=...) with a permit free');
});
