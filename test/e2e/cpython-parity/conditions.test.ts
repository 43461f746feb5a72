/**
 * CPython parity, conditions: what `_TestCondition` in `Lib/test/_test_multiprocessing.py` checks
 * of a managed `Condition`, through real sockets. CPython's sleeping threads and processes are
 * clients here, each a connection of its own (the owner of the Condition's RLock), and they
 * report through managed Semaphores `sleeping` and `woken`, as in CPython.
 *
 * Where CPython waits for a value to be reached (`assertReachesEventually`, or sleeps DELTA before
 * checking that nobody woke), this suite reads the manager's state with a bounded poll: a
 * semaphore's value, and how many `wait` calls are parked on the condition. CPython's
 * `check_invariant` (processes only) is the condition having no waiter left and its lock free.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionProxy, SemaphoreProxy, ValueProxy } from '../../../src/client';
import type { Manager } from '../../../src/server';
import { until } from '../../helpers/until';
import { assertPrompt, assertWaited, type Client, details, LONG, parity, type Parity, parked, SHORT, stopwatch, TEST_TIMEOUT, untilParked } from './harness';

interface Sleepers {
  cond: ConditionProxy;
  sleeping: SemaphoreProxy;
  woken: SemaphoreProxy;
}

/**
 * CPython's `_TestCondition.f`: acquire, say "sleeping", wait (with an optional timeout), say
 * "woken", release. Returns what the wait returned.
 */
async function sleeper({ cond, sleeping, woken }: Sleepers, timeout?: number): Promise<boolean> {
  await cond.acquire();
  await sleeping.unlock();
  const result = await cond.wait({ timeout });
  await woken.unlock();
  await cond.unlock();
  return result;
}

/** Starts `sleeper` in each client (its own proxies of the objects). */
async function startSleepers(s: Parity, clients: Client[], objects: Sleepers, timeout?: number): Promise<Promise<boolean>[]> {
  const views = await Promise.all(clients.map((c) => s.share(c, { ...objects })));
  return views.map((view) => sleeper(view, timeout));
}

function permits(manager: Manager, sem: SemaphoreProxy): number {
  return details(manager, sem).value as number;
}

/** CPython's check_invariant: nobody left waiting on the condition, its lock free. */
function assertQuiet(manager: Manager, cond: ConditionProxy): void {
  const state = details(manager, cond);
  assert.equal(state.waiting, 0, 'no waiter left on the condition');
  assert.equal(state.locked, false, "the condition's lock is free");
}

async function notifyUnderLock(cond: ConditionProxy, n?: number): Promise<void> {
  await cond.acquire();
  await cond.notify(n);
  await cond.unlock();
}

async function setup(s: Parity): Promise<Sleepers> {
  return {
    cond: await s.main.create<ConditionProxy>('Condition'),
    sleeping: await s.main.create<SemaphoreProxy>('Semaphore', 0),
    woken: await s.main.create<SemaphoreProxy>('Semaphore', 0),
  };
}

// CPython: _TestCondition.test_notify
test('notify wakes one waiting client at a time', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const objects = await setup(s);
  const { cond, sleeping, woken } = objects;
  const waits = await startSleepers(s, await s.connect(2), objects);

  // Both are sleeping, and none has woken.
  assert.equal(await sleeping.acquire({ timeout: LONG }), true);
  assert.equal(await sleeping.acquire({ timeout: LONG }), true);
  await untilParked(s.manager, cond, 'wait', 2);
  assert.equal(permits(s.manager, woken), 0);

  await notifyUnderLock(cond);
  await until('one sleeper woke', () => permits(s.manager, woken) === 1);
  assert.equal(parked(s.manager, cond, 'wait'), 1, 'the other still waits');

  await notifyUnderLock(cond);
  await until('the other sleeper woke', () => permits(s.manager, woken) === 2);

  assert.deepEqual(await Promise.all(waits), [true, true], 'both waits report a notify');
  assertQuiet(s.manager, cond);
});

// CPython: _TestCondition.test_notify_all
test('waits with a timeout all time out unnotified; then notify_all wakes every waiting client', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const objects = await setup(s);
  const { cond, sleeping, woken } = objects;
  const clients = await s.connect(6);

  // Six sleepers that time out.
  const timingOut = await startSleepers(s, clients, objects, SHORT);
  for (let i = 0; i < 6; i++) assert.equal(await sleeping.acquire({ timeout: LONG }), true);
  for (let i = 0; i < 6; i++) assert.equal(await woken.acquire({ timeout: LONG }), true, 'each timed out and woke by itself');
  assert.equal(permits(s.manager, woken), 0);
  assert.deepEqual(await Promise.all(timingOut), [false, false, false, false, false, false], 'a timed-out wait returns False');
  assertQuiet(s.manager, cond);

  // Six more, with no timeout: none wakes until notify_all.
  const notified = await startSleepers(s, clients, objects);
  for (let i = 0; i < 6; i++) assert.equal(await sleeping.acquire({ timeout: LONG }), true);
  await untilParked(s.manager, cond, 'wait', 6);
  assert.equal(permits(s.manager, woken), 0, 'none woke by itself');

  await cond.acquire();
  await cond.notifyAll();
  await cond.unlock();
  for (let i = 0; i < 6; i++) assert.equal(await woken.acquire({ timeout: LONG }), true);
  assert.equal(permits(s.manager, woken), 0);
  assert.deepEqual(await Promise.all(notified), [true, true, true, true, true, true]);
  assertQuiet(s.manager, cond);
});

// CPython: _TestCondition.test_notify_n
test('notify(n) wakes n waiting clients, no more; a notify with nobody waiting does nothing', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const objects = await setup(s);
  const { cond, sleeping, woken } = objects;
  const waits = await startSleepers(s, await s.connect(6), objects);

  for (let i = 0; i < 6; i++) assert.equal(await sleeping.acquire({ timeout: LONG }), true);
  await untilParked(s.manager, cond, 'wait', 6);
  assert.equal(permits(s.manager, woken), 0);

  await notifyUnderLock(cond, 2);
  await until('two sleepers woke', () => permits(s.manager, woken) === 2);
  assert.equal(parked(s.manager, cond, 'wait'), 4, 'exactly two were woken');

  await notifyUnderLock(cond, 4);
  await until('the other four woke', () => permits(s.manager, woken) === 6);

  await notifyUnderLock(cond, 3);
  assert.equal(permits(s.manager, woken), 6, 'nobody left to wake');
  assert.deepEqual(await Promise.all(waits), [true, true, true, true, true, true]);
  assertQuiet(s.manager, cond);
});

// CPython: _TestCondition.test_timeout
test('wait(timeout) with nobody to notify returns False once the timeout has passed', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const cond = await s.main.create<ConditionProxy>('Condition');
  await cond.acquire();
  const clock = stopwatch();
  const result = await cond.wait({ timeout: SHORT });
  assertWaited(clock, SHORT, 'wait(timeout)');
  await cond.unlock();
  assert.equal(result, false);
});

// CPython: _TestCondition.test_waitfor
test('wait_for returns once its predicate holds, re-checked on each notify from another client', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const cond = await s.main.create<ConditionProxy>('Condition');
  const state = await s.main.create<ValueProxy<number>>('Value', 'i', -1);
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { cond, state });

  // CPython's _test_waitfor_f: set state 0, notify, then wait for state 4.
  const childOutcome = child.cond.withLock(async () => {
    await child.state.set(0);
    await child.cond.notify();
    const result = await child.cond.waitFor(async () => (await child.state.get()) === 4);
    return { result, state: await child.state.get() };
  });

  await cond.withLock(async () => {
    const result = await cond.waitFor(async () => (await state.get()) === 0);
    assert.equal(result, true);
    assert.equal(await state.get(), 0);
  });

  for (let i = 0; i < 4; i++) {
    await cond.withLock(async () => {
      await state.set((await state.get()) + 1);
      await cond.notify();
    });
  }

  assert.deepEqual(await childOutcome, { result: true, state: 4 });
});

// CPython: _TestCondition.test_waitfor_timeout
test('wait_for with a timeout returns a false result once the timeout has passed when the predicate never holds', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const cond = await s.main.create<ConditionProxy>('Condition');
  const state = await s.main.create<ValueProxy<number>>('Value', 'i', 0);
  const success = await s.main.create<ValueProxy<boolean>>('Value', 'i', false);
  const sem = await s.main.create<SemaphoreProxy>('Semaphore', 0);
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { cond, state, success, sem });

  const expected = 0.1;
  const childDone = (async () => {
    await child.sem.unlock();
    await child.cond.withLock(async () => {
      const clock = stopwatch();
      const result = await child.cond.waitFor(async () => (await child.state.get()) === 4, { timeout: expected });
      const seconds = clock.seconds;
      if (!result && seconds >= expected - 0.005) await child.success.set(true);
    });
  })();

  assert.equal(await sem.acquire({ timeout: LONG }), true);
  // Only three increments: state 4 is never reached.
  for (let i = 0; i < 3; i++) {
    await cond.withLock(async () => {
      await state.set((await state.get()) + 1);
      await cond.notify();
    });
  }
  await childDone;
  assert.equal(await success.get(), true);
});

// CPython: _TestCondition.test_wait_result (its KeyboardInterrupt half, a signal to the parent, has no counterpart)
test('wait returns False on timeouts (0 included) and True when another client notifies', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const cond = await s.main.create<ConditionProxy>('Condition');
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { cond });

  await cond.withLock(async () => {
    assert.equal(await cond.wait({ timeout: 0 }), false);
    assert.equal(await cond.wait({ timeout: 0.1 }), false);

    // The worker can take the lock only once this client's wait has given it up.
    const notifier = child.cond.withLock(() => child.cond.notify());
    const clock = stopwatch();
    assert.equal(await cond.wait({ timeout: LONG }), true);
    assertPrompt(clock, LONG, 'wait() ended by a notify');
    await notifier;
  });
});
