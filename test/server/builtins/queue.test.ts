import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { CallCancelled, PyException } from '../../../src/server/exceptions';
import { Float } from '../../../src/common/valueTypes';
import { Queue, createQueue } from '../../../src/server/builtins/queue';
import { call, pyError, settled } from './helpers';

/** Calls a method the way the server does, with wire args and kwargs. */


function isPromise(v: unknown): v is Promise<unknown> {
  return v instanceof Promise;
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

// --- LifoQueue and PriorityQueue: Queue's methods, blocking and accounting, another get order ---

import { LifoQueue, PriorityQueue, createLifoQueue, createPriorityQueue } from '../../../src/server/builtins/queue';
import { tuple } from '../../../src/common/valueTypes';
import { startManager, RawClient } from '../../helpers/manager';

/** A tuple of mixed items (tuple<T> would infer T from the first). */
const tup = (...items: unknown[]) => tuple<unknown>(...items);

/** Drains a queue without blocking. */
function drain(q: Queue): unknown[] {
  const out: unknown[] = [];
  while (!call(q, 'empty')) out.push(call(q, 'get_nowait'));
  return out;
}

test('LifoQueue gives the last item put first, and peeks in that order', () => {
  const q = new LifoQueue();
  for (const i of [1, 2, 3, 4]) call(q, 'put', [i]);
  assert.deepEqual(q.peekAll(), [4, 3, 2, 1]);
  assert.deepEqual(q.peekRange(1, 2), [3, 2]);
  assert.deepEqual(q.peekRange(3, 10), [1]);
  assert.equal(call(q, 'get'), 4);
  call(q, 'put', [5]);
  assert.deepEqual(drain(q), [5, 3, 2, 1]);
});

test('PriorityQueue gives the smallest item first by Python\'s <: numbers of any form, then tuples', () => {
  const q = new PriorityQueue();
  for (const item of [tup(2, 'b'), tup(1, 'z'), tup(1, 'a'), tup(new Float(0.5), 'x')]) call(q, 'put', [item]);
  assert.deepEqual(q.peekAll(), [tup(new Float(0.5), 'x'), tup(1, 'a'), tup(1, 'z'), tup(2, 'b')]);
  assert.deepEqual(drain(q), [tup(new Float(0.5), 'x'), tup(1, 'a'), tup(1, 'z'), tup(2, 'b')]);
});

test('PriorityQueue gives equal items in the very order CPython\'s heapq does', () => {
  // CPython 3.13 gives [0, False, 0.0, True, True, 1, 1, 1.0, 2, 2.0, 3, 5] for these puts and gets.
  const q = new PriorityQueue();
  const got: unknown[] = [];
  for (const op of [3, 1, true, 2, new Float(1), 0, false, new Float(2), 5, 1, 'get', 'get', new Float(0), true, 'get']) {
    if (op === 'get') got.push(call(q, 'get_nowait'));
    else call(q, 'put', [op]);
  }
  assert.deepEqual(q.peekAll(), [true, true, 1, 1, new Float(1), 2, new Float(2), 3, 5]);
  got.push(...drain(q));
  assert.deepEqual(got, [0, false, new Float(0), true, true, 1, 1, new Float(1), 2, new Float(2), 3, 5]);
});

test('PriorityQueue stays a heap through thousands of mixed puts and gets', () => {
  const q = new PriorityQueue();
  const model: number[] = [];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 5000; i++) {
    if (next() % 3 === 0 && model.length) {
      model.sort((a, b) => a - b);
      assert.equal(call(q, 'get'), model.shift());
    } else {
      const n = next() % 1000;
      call(q, 'put', [n]);
      model.push(n);
    }
  }
  assert.deepEqual(q.peekRange(0, 5), model.sort((a, b) => a - b).slice(0, 5));
  assert.deepEqual(drain(q), model);
});

test('PriorityQueue: an item removed or replaced by inspection leaves a heap, also of 200 000 items (more than a call spreads)', () => {
  const q = new PriorityQueue();
  const n = 200_000;
  for (let i = n; i > 0; i--) call(q, 'put', [i]);
  assert.equal(q.removeQueued(1), 2);
  assert.equal(q.replaceQueued(0, n + 1), 1);
  assert.equal(q.size, n - 1);
  assert.deepEqual(q.peekRange(0, 3), [3, 4, 5]);
  assert.deepEqual(q.peekRange(n - 3, 2), [n, n + 1]);
  assert.throws(() => q.replaceQueued(0, 'x'), (e: unknown) => e instanceof PyException && e.type === 'TypeError');
  assert.equal(call(q, 'get'), 3, 'a refused replacement changed nothing');
});

test('PriorityQueue refuses an unorderable item with Python\'s TypeError and is left as it was', async () => {
  const q = new PriorityQueue();
  call(q, 'put', [{ a: 1 }]);
  assert.throws(() => call(q, 'put', [{ b: 2 }]), pyError('TypeError', "'<' not supported between instances of 'dict' and 'dict'"));
  assert.equal(call(q, 'qsize'), 1);
  // The refused put was not counted: one task_done finishes the queue's work.
  call(q, 'get');
  call(q, 'task_done');
  assert.equal(call(q, 'join'), undefined);
});

test('PriorityQueue: a get whose sifting meets unorderable items raises TypeError and takes nothing', () => {
  // CPython's heappop raises here too (the dicts differ, so `<` is asked of them), but loses the
  // root item on the way; this keeps it.
  const q = new PriorityQueue();
  for (const item of [tup(0, 'a'), tup(1, { a: 1 }), tup(1, { b: 2 })]) call(q, 'put', [item]);
  assert.throws(() => call(q, 'get'), pyError('TypeError', "'<' not supported between instances of 'dict' and 'dict'"));
  assert.equal(call(q, 'qsize'), 3);
  // Inspection still shows every item: the root first, then the rest as the heap holds them.
  assert.deepEqual(q.peekAll(), [tup(0, 'a'), tup(1, { a: 1 }), tup(1, { b: 2 })]);
  // Equal dicts are never asked `<`: Python's tuple comparison stops at `==`, and so does this.
  const same = new PriorityQueue();
  for (const item of [tup(0, 'a'), tup(1, {}), tup(1, {})]) call(same, 'put', [item]);
  assert.deepEqual(drain(same), [tup(0, 'a'), tup(1, {}), tup(1, {})]);
});

test('PriorityQueue: a blocked get takes the first item put, a blocked put goes in by priority', async () => {
  const q = new PriorityQueue(2);
  const getter = call(q, 'get') as Promise<unknown>;
  call(q, 'put', [5]);
  assert.equal(await getter, 5);
  call(q, 'put', [3]);
  call(q, 'put', [4]);
  const putter = call(q, 'put', [1]) as Promise<unknown>;
  assert.ok(isPromise(putter));
  assert.equal(call(q, 'get'), 3);
  await putter;
  assert.deepEqual(drain(q), [1, 4]);
});

test('PriorityQueue: a blocked putter whose item cannot be ordered fails, and the next putter takes the place', async () => {
  const q = new PriorityQueue(2);
  call(q, 'put', [tup(0, 'a')]);
  call(q, 'put', [tup(1, { a: 1 })]);
  const bad = call(q, 'put', [tup(1, { b: 2 })]) as Promise<unknown>;
  const good = call(q, 'put', [tup(2, 'ok')]) as Promise<unknown>;
  assert.deepEqual(call(q, 'get'), tup(0, 'a'));
  await assert.rejects(bad, pyError('TypeError', "'<' not supported between instances of 'dict' and 'dict'"));
  assert.equal(await good, undefined);
  assert.deepEqual(q.peekAll(), [tup(1, { a: 1 }), tup(2, 'ok')]);
  assert.equal(q.describeState().details.unfinishedTasks, 3);
});

test('LifoQueue and PriorityQueue keep Queue\'s timeouts, task_done and join', async () => {
  for (const q of [new LifoQueue(1), new PriorityQueue(1)]) {
    await assert.rejects(call(q, 'get', [], { timeout: 0.01 }) as Promise<unknown>, pyError('Empty', ''));
    call(q, 'put', ['x']);
    assert.throws(() => call(q, 'put_nowait', ['y']), pyError('Full', ''));
    await assert.rejects(call(q, 'put', ['y'], { timeout: 0.01 }) as Promise<unknown>, pyError('Full', ''));
    const joined = call(q, 'join') as Promise<unknown>;
    assert.ok(isPromise(joined));
    assert.equal(call(q, 'get'), 'x');
    call(q, 'task_done');
    assert.equal(await joined, undefined);
    assert.throws(() => call(q, 'task_done'), pyError('ValueError', 'task_done() called too many times'));
  }
});

test('a cancelled get on a LifoQueue or PriorityQueue takes nothing', async () => {
  for (const q of [new LifoQueue(), new PriorityQueue()]) {
    const controller = new AbortController();
    const pending = call(q, 'get', [], {}, { signal: controller.signal }) as Promise<unknown>;
    controller.abort();
    await assert.rejects(pending, CallCancelled);
    call(q, 'put', ['kept']);
    assert.deepEqual(q.peekAll(), ['kept']);
  }
});

test('LifoQueue(maxsize) and PriorityQueue(maxsize) bind as Queue does, under their own names', () => {
  assert.equal(createLifoQueue([], { maxsize: 3 }).maxsize, 3);
  assert.equal(createPriorityQueue([2], {}).maxsize, 2);
  assert.throws(() => createLifoQueue([1, 2], {}), pyError('TypeError', /^LifoQueue\(\) takes from 0 to 1 positional argument/));
  assert.throws(() => createPriorityQueue(['a'], {}), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  assert.equal(LifoQueue.builtin, 'LifoQueue');
  assert.equal(PriorityQueue.builtin, 'PriorityQueue');
  assert.equal(Queue.builtin, 'Queue');
  // Subclasses, as in Python: whatever inspects a Queue inspects these too.
  assert.ok(new LifoQueue() instanceof Queue && new PriorityQueue() instanceof Queue);
  assert.deepEqual(LifoQueue.exposed, Queue.exposed);
  // Bound alike; only a Queue's put holds its item as it came, a PriorityQueue's orders it (packedValues.ts).
  const binding = (signatures: typeof Queue.signatures) => Object.entries(signatures).map(([method, s]) => [method, s.rest, s.restKeywords, s.params.map((p) => [p.name, p.optional, p.default])]);
  assert.deepEqual(binding(PriorityQueue.signatures), binding(Queue.signatures));
  assert.equal(Queue.signatures.put.params[0].held, true);
  assert.equal(PriorityQueue.signatures.put.params[0].held, undefined);
});

test('the queues\' repr is Python\'s, and describeState reports the counts', async () => {
  assert.match(call(new Queue(), '__repr__') as string, /^<queue\.Queue object at 0x[0-9a-f]+>$/);
  assert.match(call(new LifoQueue(), '__repr__') as string, /^<queue\.LifoQueue object at 0x[0-9a-f]+>$/);
  assert.match(call(new PriorityQueue(), '__repr__') as string, /^<queue\.PriorityQueue object at 0x[0-9a-f]+>$/);
  const a = new Queue();
  assert.equal(call(a, '__repr__'), call(a, '__repr__'));
  assert.notEqual(call(a, '__repr__'), call(new Queue(), '__repr__'));
  const q = new PriorityQueue(5);
  call(q, 'put', [2]);
  call(q, 'put', [1]);
  call(q, 'get');
  assert.deepEqual(q.describeState(), { size: 1, details: { maxsize: 5, unfinishedTasks: 2, waitingGetters: 0, waitingPutters: 0 } });
});

test('over a socket: a PriorityQueue and a LifoQueue give their items in their order', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  try {
    const pq = (await c.request('object/create', { typeid: 'PriorityQueue', args: [10] })).result;
    assert.equal(pq.builtin, 'PriorityQueue');
    for (const item of [{ $tuple: [3, 'c'] }, { $tuple: [1, 'a'] }, { $tuple: [2, 'b'] }]) {
      assert.equal((await c.request('object/call', { id: pq.id, method: 'put', args: [item] })).result, null);
    }
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await c.request('object/call', { id: pq.id, method: 'get' })).result);
    assert.deepEqual(got, [{ $tuple: [1, 'a'] }, { $tuple: [2, 'b'] }, { $tuple: [3, 'c'] }]);
    const refused = await c.request('object/call', { id: pq.id, method: 'put', args: ['x'] });
    assert.equal(refused.result, null, 'the first item of an empty heap is compared with nothing');
    const unorderable = await c.request('object/call', { id: pq.id, method: 'put', args: [1] });
    assert.equal(unorderable.error.data.type, 'TypeError');
    assert.equal(unorderable.error.data.message, "'<' not supported between instances of 'int' and 'str'");

    const lq = (await c.request('object/create', { typeid: 'LifoQueue' })).result;
    for (const item of ['a', 'b']) await c.request('object/call', { id: lq.id, method: 'put_nowait', args: [item] });
    assert.equal((await c.request('object/call', { id: lq.id, method: 'get' })).result, 'b');
    assert.match((await c.request('object/call', { id: lq.id, method: '__repr__' })).result, /^<queue\.LifoQueue object at 0x/);
  } finally {
    c.close();
  }
});
