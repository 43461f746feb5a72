/**
 * CPython parity, queues: what `_TestQueue` in `Lib/test/_test_multiprocessing.py` checks of a
 * managed `Queue` and `JoinableQueue`, through real sockets. Other clients stand for CPython's
 * child processes; the Events that pace them are managed Events too, as in CPython.
 *
 * Not applicable: test_no_import_lock_contention (Python's import lock), test_fork and the
 * feeder-thread tests (multiprocessing.Queue internals), the shutdown tests (queue.Queue of
 * SyncManager has no shutdown over a proxy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmptyError, EventProxy, FullError, kwargs, QueueProxy, ValueError } from '../../../src/client';
import { assertPrompt, assertWaited, LONG, parity, SHORT, stopwatch, TEST_TIMEOUT, untilParked, watch } from './harness';

const MAXSIZE = 6;

// CPython: _TestQueue.test_put
test('a bounded queue fills up: put in every form, then Full at once or after the timeout, until another client drains it', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy<number>>('Queue', kwargs({ maxsize: MAXSIZE }));
  const childCanStart = await s.main.create<EventProxy>('Event');
  const parentCanContinue = await s.main.create<EventProxy>('Event');

  const [childClient] = await s.connect(1);
  const child = await s.share(childClient, { queue, childCanStart, parentCanContinue });
  const childDone = (async () => {
    assert.equal(await child.childCanStart.wait(), true);
    for (let i = 0; i < MAXSIZE; i++) await child.queue.get();
    await child.parentCanContinue.set();
  })();

  assert.equal(await queue.empty(), true);
  assert.equal(await queue.full(), false);

  // put(1), put(2, True), put(3, True, None), put(4, False), put(5, False, None), put_nowait(6)
  await queue.put(1);
  await queue.put(2, { block: true });
  await queue.put(3, { block: true, timeout: null });
  await queue.put(4, { block: false });
  await queue.put(5, { block: false, timeout: null });
  await queue.putNowait(6);
  // The same forms positionally, as CPython's proxy sends them, on a second queue.
  const positional = await s.main.create<QueueProxy<number>>('Queue', 2);
  await positional.callMethod('put', [1, true]);
  await positional.callMethod('put', [2, false, null]);
  assert.equal(await positional.full(), true);

  assert.equal(await queue.empty(), false);
  assert.equal(await queue.full(), true);

  await assert.rejects(queue.put(7, { block: false }), FullError);
  await assert.rejects(queue.put(7, { block: false, timeout: null }), FullError);
  await assert.rejects(queue.putNowait(7), FullError);

  let clock = stopwatch();
  await assert.rejects(queue.put(7, { block: true, timeout: SHORT }), FullError);
  assertWaited(clock, SHORT, 'put(7, True, timeout)');

  // block=False ignores the timeout: Full at once, not after it.
  clock = stopwatch();
  await assert.rejects(queue.put(7, { block: false, timeout: LONG }), FullError);
  assertPrompt(clock, LONG, 'put(7, False, timeout)');

  clock = stopwatch();
  await assert.rejects(queue.put(7, { timeout: SHORT }), FullError);
  assertWaited(clock, SHORT, 'put(7, timeout=...)');
  assert.equal(await queue.qsize(), MAXSIZE, 'the timed-out puts added nothing');

  await childCanStart.set();
  assert.equal(await parentCanContinue.wait({ timeout: LONG }), true);
  await childDone;

  assert.equal(await queue.empty(), true);
  assert.equal(await queue.full(), false);
});

// CPython: _TestQueue.test_get
test('get in every form takes what another client put, in order; then Empty at once or after the timeout', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy<number>>('Queue');
  const childCanStart = await s.main.create<EventProxy>('Event');
  const parentCanContinue = await s.main.create<EventProxy>('Event');

  const [childClient] = await s.connect(1);
  const child = await s.share(childClient, { queue, childCanStart, parentCanContinue });
  const childDone = (async () => {
    assert.equal(await child.childCanStart.wait(), true);
    for (const n of [2, 3, 4, 5]) await child.queue.put(n);
    await child.parentCanContinue.set();
  })();

  assert.equal(await queue.empty(), true);
  await childCanStart.set();
  assert.equal(await parentCanContinue.wait({ timeout: LONG }), true);
  await childDone;
  assert.equal(await queue.empty(), false);

  // get(True, None), get(True), get(timeout=1), get_nowait()
  assert.equal(await queue.get({ block: true, timeout: null }), 2);
  assert.equal(await queue.get({ block: true }), 3);
  assert.equal(await queue.get({ timeout: 1 }), 4);
  assert.equal(await queue.getNowait(), 5);
  assert.equal(await queue.empty(), true);

  await assert.rejects(queue.get({ block: false }), EmptyError);
  await assert.rejects(queue.get({ block: false, timeout: null }), EmptyError);
  await assert.rejects(queue.getNowait(), EmptyError);

  let clock = stopwatch();
  await assert.rejects(queue.get({ block: true, timeout: SHORT }), EmptyError);
  assertWaited(clock, SHORT, 'get(True, timeout)');

  // block=False ignores the timeout.
  clock = stopwatch();
  await assert.rejects(queue.get({ block: false, timeout: LONG }), EmptyError);
  assertPrompt(clock, LONG, 'get(False, timeout)');

  clock = stopwatch();
  await assert.rejects(queue.get({ timeout: SHORT }), EmptyError);
  assertWaited(clock, SHORT, 'get(timeout=...)');
});

// CPython: _TestQueue.test_qsize
test('qsize counts the items as they are put and got', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy<number>>('Queue');
  assert.equal(await queue.qsize(), 0);
  await queue.put(1);
  assert.equal(await queue.qsize(), 1);
  await queue.put(5);
  assert.equal(await queue.qsize(), 2);
  await queue.get();
  assert.equal(await queue.qsize(), 1);
  await queue.get();
  assert.equal(await queue.qsize(), 0);
});

// CPython: _TestQueue.test_task_done
test('JoinableQueue: four worker clients mark items done; join returns once every item put was marked done', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy<number | null>>('JoinableQueue');
  const workers = await s.connect(4);
  const handled: number[] = [];
  // `for obj in iter(q.get, None): q.task_done()`
  const running = workers.map(async (client) => {
    const { q } = await s.share(client, { q: queue });
    for (let item = await q.get(); item !== null; item = await q.get()) {
      handled.push(item);
      await q.taskDone();
    }
  });

  for (let i = 0; i < 10; i++) await queue.put(i);
  await queue.join();
  // Each worker records an item before marking it done: join returning means all ten were handled.
  assert.deepEqual([...handled].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  for (let i = 0; i < workers.length; i++) await queue.put(null);
  await Promise.all(running);
});

// CPython: _TestQueue.test_task_done (what join waits for), and queue.Queue's task_done accounting
test('join waits while an item got is not yet marked done, and task_done beyond the items put is ValueError', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy<string>>('JoinableQueue');
  const [other] = await s.connect(1);
  const { q } = await s.share(other, { q: queue });

  await queue.put('job');
  assert.equal(await q.get(), 'job');
  const joining = watch(queue.join());
  await untilParked(s.manager, queue, 'join', 1);
  assert.equal(joining.settled(), false, 'the item got is not done yet');
  await q.taskDone();
  await joining.promise;

  await assert.rejects(queue.taskDone(), (e: unknown) => e instanceof ValueError && /task_done\(\) called too many times/.test(e.message));
});

// CPython: _TestQueue.test_timeout
test('a blocking get on an empty queue raises Empty once its timeout has passed, not before', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const queue = await s.main.create<QueueProxy>('Queue');
  const clock = stopwatch();
  // CPython: q.get(True, 0.2) and at least 0.1 s elapsed; here 0.1 s, and all of it.
  await assert.rejects(queue.callMethod('get', [true, 0.1]), EmptyError);
  assertWaited(clock, 0.1, 'get(True, 0.1)');
});
