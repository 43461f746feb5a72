import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { CallCancelled, PyException } from '../../../src/server/exceptions';
import { Float } from '../../../src/common/values';
import { Queue, createQueue } from '../../../src/server/builtins/queue';
import { call, pyError } from './helpers';

/** Calls a method the way the server does, with wire args and kwargs. */


function isPromise(v: unknown): v is Promise<unknown> {
  return v instanceof Promise;
}

/** Whether a promise has settled, checked after the pending microtasks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('put and get complete synchronously, first in first out', () => {
  const q = new Queue();
  assert.equal(call(q, 'put', [1]), undefined);
  assert.equal(call(q, 'put', ['a']), undefined);
  assert.equal(call(q, 'get'), 1);
  assert.equal(call(q, 'get', [], { block: true }), 'a');
});

test('qsize, empty and full report the queue as Python does', () => {
  const q = new Queue(2);
  assert.deepEqual([call(q, 'qsize'), call(q, 'empty'), call(q, 'full')], [0, true, false]);
  call(q, 'put', [1]);
  call(q, 'put', [2]);
  assert.deepEqual([call(q, 'qsize'), call(q, 'empty'), call(q, 'full')], [2, false, true]);
});

test('a queue with maxsize 0 or less is unbounded and never full', () => {
  for (const maxsize of [0, -1]) {
    const q = new Queue(maxsize);
    for (let i = 0; i < 100; i++) call(q, 'put_nowait', [i]);
    assert.equal(call(q, 'full'), false);
    assert.equal(call(q, 'qsize'), 100);
  }
});

test('get_nowait on an empty queue raises Empty with an empty message', () => {
  assert.throws(() => call(new Queue(), 'get_nowait'), pyError('Empty', ''));
});

test('get with block=False on an empty queue raises Empty at once', () => {
  assert.throws(() => call(new Queue(), 'get', [false]), pyError('Empty', ''));
  // Python ignores the timeout when not blocking, even a negative one.
  assert.throws(() => call(new Queue(), 'get', [], { block: false, timeout: -1 }), pyError('Empty', ''));
});

test('get with a negative timeout raises ValueError, even when an item is there', () => {
  const q = new Queue();
  call(q, 'put', ['x']);
  assert.throws(() => call(q, 'get', [], { timeout: -1 }), pyError('ValueError', "'timeout' must be a non-negative number"));
  assert.equal(call(q, 'qsize'), 1);
});

test('get with a str timeout fails the way Python\'s `timeout < 0` does', () => {
  assert.throws(() => call(new Queue(), 'get', [true, 'a']), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
});

test('get with timeout 0 on an empty queue raises Empty synchronously', () => {
  assert.throws(() => call(new Queue(), 'get', [], { timeout: 0 }), pyError('Empty', ''));
  assert.throws(() => call(new Queue(), 'get', [], { timeout: new Float(0) }), pyError('Empty', ''));
});

test('get with a timeout beyond threading.TIMEOUT_MAX raises OverflowError', () => {
  assert.throws(() => call(new Queue(), 'get', [], { timeout: 1e10 }), pyError('OverflowError', 'timestamp out of range for platform time_t'));
});

test('get with a timeout raises Empty and removes nothing', async () => {
  const q = new Queue();
  const pending = call(q, 'get', [], { timeout: 0.05 });
  assert.ok(isPromise(pending));
  await assert.rejects(pending, pyError('Empty', ''));
  call(q, 'put', ['later']);
  assert.deepEqual(q.peekAll(), ['later']);
});

test('a blocking get returns a promise that the next put fulfils directly', async () => {
  const q = new Queue();
  const pending = call(q, 'get');
  assert.ok(isPromise(pending));
  assert.equal(await settled(pending), false);
  call(q, 'put', ['item']);
  assert.equal(call(q, 'qsize'), 0);
  assert.equal(await pending, 'item');
});

test('waiting getters are served in arrival order', async () => {
  const q = new Queue();
  const getters = [call(q, 'get'), call(q, 'get'), call(q, 'get')] as Promise<unknown>[];
  for (const item of ['a', 'b', 'c']) call(q, 'put', [item]);
  assert.deepEqual(await Promise.all(getters), ['a', 'b', 'c']);
});

test('a cancelled get rejects with CallCancelled and the next put goes to the next waiter', async () => {
  const q = new Queue();
  const first = new AbortController();
  const cancelled = call(q, 'get', [], {}, { signal: first.signal }) as Promise<unknown>;
  const second = call(q, 'get') as Promise<unknown>;
  first.abort();
  await assert.rejects(cancelled, CallCancelled);
  call(q, 'put', ['x']);
  assert.equal(await second, 'x');
  assert.equal(call(q, 'qsize'), 0);
});

test('a cancelled get consumes nothing: a later put stays in the queue', async () => {
  const q = new Queue();
  const controller = new AbortController();
  const pending = call(q, 'get', [], {}, { signal: controller.signal }) as Promise<unknown>;
  controller.abort();
  await assert.rejects(pending, CallCancelled);
  call(q, 'put', ['kept']);
  assert.deepEqual(q.peekAll(), ['kept']);
});

test('a get whose signal is already aborted takes nothing', () => {
  const q = new Queue();
  call(q, 'put', ['x']);
  assert.throws(() => call(q, 'get', [], {}, { signal: AbortSignal.abort() }), CallCancelled);
  assert.deepEqual(q.peekAll(), ['x']);
});

test('put with block=False on a full queue raises Full, and put_nowait too', () => {
  const q = new Queue(1);
  call(q, 'put', [1]);
  assert.throws(() => call(q, 'put', [2, false]), pyError('Full', ''));
  assert.throws(() => call(q, 'put_nowait', [2]), pyError('Full', ''));
  assert.deepEqual(q.peekAll(), [1]);
});

test('put with a negative timeout raises ValueError on a bounded queue only, as in Python', () => {
  const bounded = new Queue(5);
  assert.throws(() => call(bounded, 'put', [1], { timeout: -0.5 }), pyError('ValueError', "'timeout' must be a non-negative number"));
  assert.equal(call(bounded, 'qsize'), 0);
  const unbounded = new Queue();
  assert.equal(call(unbounded, 'put', [1], { timeout: -0.5 }), undefined);
  assert.equal(call(unbounded, 'qsize'), 1);
});

test('put with a timeout on a full queue raises Full and adds nothing', async () => {
  const q = new Queue(1);
  call(q, 'put', ['a']);
  const pending = call(q, 'put', ['b'], { timeout: 0.05 });
  assert.ok(isPromise(pending));
  await assert.rejects(pending, pyError('Full', ''));
  assert.equal(call(q, 'get'), 'a');
  assert.equal(call(q, 'qsize'), 0);
});

test('a blocked put completes when a get frees room, its item queued behind the rest', async () => {
  const q = new Queue(2);
  call(q, 'put', [1]);
  call(q, 'put', [2]);
  const pending = call(q, 'put', [3]) as Promise<unknown>;
  assert.equal(await settled(pending), false);
  assert.equal(call(q, 'get'), 1);
  assert.deepEqual(q.peekAll(), [2, 3]);
  assert.equal(await pending, undefined);
});

test('blocked putters are served in arrival order', async () => {
  const q = new Queue(1);
  call(q, 'put', [0]);
  const putters = [1, 2, 3].map((i) => call(q, 'put', [i]) as Promise<unknown>);
  const got = [];
  for (let i = 0; i < 4; i++) got.push(call(q, 'get'));
  await Promise.all(putters);
  assert.deepEqual(got, [0, 1, 2, 3]);
});

test('a cancelled put adds nothing, and the putter behind it takes the free place', async () => {
  const q = new Queue(1);
  call(q, 'put', ['a']);
  const controller = new AbortController();
  const cancelled = call(q, 'put', ['never'], {}, { signal: controller.signal }) as Promise<unknown>;
  const second = call(q, 'put', ['b']) as Promise<unknown>;
  controller.abort();
  await assert.rejects(cancelled, CallCancelled);
  assert.equal(call(q, 'get'), 'a');
  await second;
  assert.deepEqual(q.peekAll(), ['b']);
  assert.equal(call(q, 'get'), 'b');
  assert.throws(() => call(q, 'get_nowait'), pyError('Empty', ''));
});

test('task_done called more times than items were put raises ValueError', () => {
  const q = new Queue();
  call(q, 'put', [1]);
  call(q, 'get');
  assert.equal(call(q, 'task_done'), undefined);
  assert.throws(() => call(q, 'task_done'), pyError('ValueError', 'task_done() called too many times'));
});

test('join returns at once when no task is unfinished', () => {
  assert.equal(call(new Queue(), 'join'), undefined);
});

test('join waits until every item put has been marked done', async () => {
  const q = new Queue();
  call(q, 'put', [1]);
  call(q, 'put', [2]);
  const joined = call(q, 'join') as Promise<unknown>;
  assert.ok(isPromise(joined));
  call(q, 'get');
  call(q, 'task_done');
  assert.equal(await settled(joined), false);
  call(q, 'get');
  call(q, 'task_done');
  assert.equal(await joined, undefined);
});

test('an item handed straight to a waiting getter still counts as an unfinished task', async () => {
  const q = new Queue();
  const getter = call(q, 'get') as Promise<unknown>;
  call(q, 'put', ['x']);
  await getter;
  const joined = call(q, 'join') as Promise<unknown>;
  assert.ok(isPromise(joined));
  call(q, 'task_done');
  await joined;
});

test('an item let in from a blocked put counts as an unfinished task', async () => {
  const q = new Queue(1);
  call(q, 'put', ['a']);
  const putter = call(q, 'put', ['b']) as Promise<unknown>;
  call(q, 'get');
  await putter;
  call(q, 'get');
  call(q, 'task_done');
  assert.equal(call(q, 'task_done'), undefined);
  assert.throws(() => call(q, 'task_done'), pyError('ValueError', 'task_done() called too many times'));
});

test('a cancelled join rejects with CallCancelled and leaves the count alone', async () => {
  const q = new Queue();
  call(q, 'put', [1]);
  const controller = new AbortController();
  const joined = call(q, 'join', [], {}, { signal: controller.signal }) as Promise<unknown>;
  controller.abort();
  await assert.rejects(joined, CallCancelled);
  call(q, 'task_done');
  assert.equal(call(q, 'join'), undefined);
});

test('thousands of timed-out gets leave no abort listeners and no timers behind', async () => {
  const q = new Queue();
  const controller = new AbortController();
  setMaxListeners(5000, controller.signal);
  const timersBefore = activeTimers();
  const pending = Array.from({ length: 2000 }, () => call(q, 'get', [], { timeout: 0.001 }, { signal: controller.signal }) as Promise<unknown>);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 2000);
  const results = await Promise.allSettled(pending);
  assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as PyException).type === 'Empty'));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  assert.equal(activeTimers(), timersBefore);
  call(q, 'put', ['x']);
  assert.deepEqual(q.peekAll(), ['x']);
});

test('thousands of cancelled gets leave no listeners or timers, and the queue still works', async () => {
  const q = new Queue();
  const timersBefore = activeTimers();
  const controllers = Array.from({ length: 2000 }, () => new AbortController());
  const pending = controllers.map((c) => call(q, 'get', [], { timeout: 60 }, { signal: c.signal }) as Promise<unknown>);
  for (const c of controllers) c.abort();
  const results = await Promise.allSettled(pending);
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof CallCancelled));
  assert.ok(controllers.every((c) => getEventListeners(c.signal, 'abort').length === 0));
  assert.equal(activeTimers(), timersBefore);
  const getter = call(q, 'get') as Promise<unknown>;
  call(q, 'put', ['x']);
  assert.equal(await getter, 'x');
});

test('a get served by a put drops its timer and abort listener', async () => {
  const q = new Queue();
  const controller = new AbortController();
  const timersBefore = activeTimers();
  const getter = call(q, 'get', [], { timeout: 60 }, { signal: controller.signal }) as Promise<unknown>;
  assert.equal(activeTimers(), timersBefore + 1);
  call(q, 'put', [1]);
  assert.equal(await getter, 1);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  assert.equal(activeTimers(), timersBefore);
});

test('peekAll copies the items in order without taking any', () => {
  const q = new Queue();
  for (const i of [1, 2, 3]) call(q, 'put', [i]);
  const seen = q.peekAll();
  seen.pop();
  assert.deepEqual(q.peekAll(), [1, 2, 3]);
  assert.equal(q.size, 3);
});

test('many items pass through in order across the buffer\'s trimming', () => {
  const q = new Queue();
  const out: unknown[] = [];
  for (let i = 0; i < 5000; i++) {
    call(q, 'put', [i]);
    if (i % 3 === 0) out.push(call(q, 'get'));
  }
  while (!call(q, 'empty')) out.push(call(q, 'get'));
  assert.deepEqual(out, Array.from({ length: 5000 }, (_, i) => i));
});

test('methods refuse extra arguments with Python\'s TypeError', () => {
  assert.throws(() => call(new Queue(), 'get_nowait', [1]), pyError('TypeError', /get_nowait\(\) takes 0 positional arguments but 1 was given$/));
  assert.throws(() => call(new Queue(), 'put'), pyError('TypeError', /put\(\) missing 1 required (positional )?argument: 'item'$/));
});

test('Queue(maxsize) takes an int by position or keyword and refuses other types', () => {
  assert.equal(createQueue([], { maxsize: 3 }).maxsize, 3);
  assert.equal(createQueue([2], {}).maxsize, 2);
  assert.equal(createQueue([], {}).maxsize, 0);
  assert.throws(() => createQueue(['a'], {}), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  assert.throws(() => createQueue([1.5], {}), pyError('TypeError', "'float' object cannot be interpreted as an integer"));
  assert.throws(() => createQueue([1, 2], {}), pyError('TypeError', /^Queue\(\) takes from 0 to 1 positional argument/));
});

test('Queue exposes queue.Queue\'s public methods, each with a signature', () => {
  assert.deepEqual([...Queue.exposed].sort(), ['empty', 'full', 'get', 'get_nowait', 'join', 'put', 'put_nowait', 'qsize', 'task_done']);
  for (const name of Queue.exposed) assert.ok(Queue.signatures[name], name);
});
