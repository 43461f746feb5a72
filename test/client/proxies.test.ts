/**
 * The typed proxies of every SyncManager type, end to end against a real in-process manager:
 * queue kinds, list and array slices, sets, locks (scoped forms, contention between clients),
 * conditions, events, barriers, async iteration through remote iterators, proxies passed as
 * arguments, and the fallbacks (getValue, repr, str).
 *
 * Blocked calls are known to be parked by the ordering of one connection (the manager handles a
 * client's requests in order, so a later call's answer means an earlier one has been dispatched),
 * or, across connections, by polling the manager's own record of pending calls, with a bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortError,
  ArrayProxy,
  BarrierProxy,
  ConditionProxy,
  connect,
  type Connected,
  DictProxy,
  EventProxy,
  IteratorProxy,
  kwargs,
  KeyError,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  ProxyReleasedError,
  QueueProxy,
  RemoteError,
  RLockProxy,
  SemaphoreProxy,
  SetProxy,
  TimeoutError,
  ValueError,
  ValueProxy,
  type DynamicProxy,
} from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { until } from '../helpers/until';

class Counter {
  n = 0;
  increment() {
    return ++this.n;
  }
}

/** A manager with a shared dict (`get_board`) for handing objects between clients, and `clients` connected. */
async function setup(clients = 1) {
  const manager = await startManager({}, (m) => {
    m.register('get_board', { shared: 'dict' });
    m.register('Counter', { callable: Counter });
  });
  const connected: Connected<{ get_board: DictProxy<unknown> }>[] = [];
  for (let i = 0; i < clients; i++) connected.push(await connect<{ get_board: DictProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY, name: `proxies-${i}` }));
  return {
    manager,
    client: connected[0],
    clients: connected,
    async [Symbol.asyncDispose]() {
      for (const c of connected) await c.close();
      await manager.shutdown();
    },
  };
}

/** Whether some session of the manager has a call to `method` parked. */
function parked(manager: Manager, method: string): boolean {
  return manager.snapshot().sessions.some((s) => s.pending.some((p) => p.method === method));
}

/** Tracks whether a promise has settled (without swallowing its outcome). */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

test('every queue kind is a QueueProxy, in its own order', async () => {
  await using s = await setup();
  const lifo = await s.client.create<QueueProxy<number>>('LifoQueue');
  const priority = await s.client.create<QueueProxy<number>>('PriorityQueue');
  const joinable = await s.client.create<QueueProxy<number>>('JoinableQueue');
  for (const q of [lifo, priority, joinable]) assert.ok(q instanceof QueueProxy, q.typeid);
  for (const n of [2, 3, 1]) {
    await lifo.put(n);
    await priority.put(n);
  }
  assert.deepEqual([await lifo.get(), await lifo.get(), await lifo.get()], [1, 3, 2]);
  assert.deepEqual([await priority.get(), await priority.get(), await priority.get()], [1, 2, 3]);
  await joinable.put(1);
  await joinable.get();
  await joinable.taskDone();
  await joinable.join();
});

test('ListProxy slices: read, replace, delete, with steps and negative bounds', async () => {
  await using s = await setup();
  const list = await s.client.create<ListProxy<number>>('list', [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(await list.slice(1, 3), [1, 2]);
  assert.deepEqual(await list.slice(-2), [4, 5]);
  assert.deepEqual(await list.slice(null, null, -2), [5, 3, 1]);
  assert.deepEqual(await list.slice(), [0, 1, 2, 3, 4, 5]);
  await list.setSlice(1, 3, [10, 11, 12]);
  assert.deepEqual(await list.toArray(), [0, 10, 11, 12, 3, 4, 5]);
  await list.setSlice(null, null, [7, 8, 9, 6], 2);
  assert.deepEqual(await list.toArray(), [7, 10, 8, 12, 9, 4, 6]);
  await assert.rejects(list.setSlice(null, null, [1], 2), ValueError);
  await list.deleteSlice(0, 2);
  assert.deepEqual(await list.toArray(), [8, 12, 9, 4, 6]);
  await list.deleteSlice(null, null, 2);
  assert.deepEqual(await list.toArray(), [12, 4]);
});

test('ArrayProxy reads and writes items and slices; its length is fixed', async () => {
  await using s = await setup();
  const array = await s.client.create<ArrayProxy>('Array', 'i', [1, 2, 3]);
  assert.ok(array instanceof ArrayProxy);
  assert.equal(await array.length(), 3);
  assert.equal(await array.at(0), 1);
  assert.equal(await array.at(-1), 3);
  assert.deepEqual(await array.slice(0, 2), [1, 2]);
  await array.set(1, 20);
  await array.setSlice(0, 2, [7, 8]);
  assert.deepEqual(await array.toArray(), [7, 8, 3]);
  assert.deepEqual(await array.slice(null, null, -1), [3, 8, 7]);
  await assert.rejects(array.at(3), (e: unknown) => e instanceof RemoteError && e.type === 'IndexError');
  await assert.rejects(array.set(0, 'x' as unknown as number), (e: unknown) => e instanceof RemoteError && e.type === 'TypeError');
});

test('SetProxy: members, algebra with arrays and Sets, and Python errors', async () => {
  await using s = await setup();
  const set = await s.client.create<SetProxy<number>>('set', [1, 2, 3]);
  assert.ok(set instanceof SetProxy);
  await set.add(4);
  await set.discard(99);
  await set.remove(1);
  await assert.rejects(set.remove(1), KeyError);
  assert.equal(await set.has(2), true);
  assert.equal(await set.has(1), false);
  assert.equal(await set.size(), 3);
  assert.deepEqual(await set.toSet(), new Set([2, 3, 4]));
  assert.deepEqual(await set.union([5], new Set([6])), new Set([2, 3, 4, 5, 6]));
  assert.deepEqual(await set.intersection([2, 3, 9], new Set([3])), new Set([3]));
  assert.deepEqual(await set.difference([2]), new Set([3, 4]));
  assert.deepEqual(await set.symmetricDifference(new Set([4, 5])), new Set([2, 3, 5]));
  assert.equal(await set.isSubsetOf([2, 3, 4, 5]), true);
  assert.equal(await set.isSupersetOf([2, 3]), true);
  assert.equal(await set.isDisjointFrom([7, 8]), true);
  await set.update([5], new Set([6]));
  assert.equal(await set.size(), 5);
  await set.differenceUpdate([6]);
  await set.intersectionUpdate([2, 3, 4, 5, 9]);
  await set.symmetricDifferenceUpdate([5, 6]);
  assert.deepEqual(await set.toSet(), new Set([2, 3, 4, 6]));
  const popped = await set.pop();
  assert.equal(await set.has(popped), false);
  await set.clear();
  assert.equal(await set.size(), 0);
  await assert.rejects(set.pop(), KeyError);
});

test('async iteration of a list, a dict and a set goes through a remote Iterator, released at the end', async () => {
  await using s = await setup();
  const list = await s.client.create<ListProxy<number>>('list', [1, 2, 3]);
  const dict = await s.client.create<DictProxy<number>>('dict', { a: 1, b: 2 });
  const set = await s.client.create<SetProxy<string>>('set', ['x', 'y']);
  const objects = s.manager.table.size;

  const items: number[] = [];
  for await (const item of list) {
    // The iterator is an object of its own in the manager while the loop runs.
    assert.equal(s.manager.table.size, objects + 1);
    items.push(item);
  }
  assert.deepEqual(items, [1, 2, 3]);
  assert.equal(s.manager.table.size, objects, 'the iterator was released when the loop ended');
  const backwards: number[] = [];
  for await (const item of list.reversed()) backwards.push(item);
  assert.deepEqual(backwards, [3, 2, 1]);
  assert.equal(s.manager.table.size, objects);

  const keys: string[] = [];
  for await (const key of dict) keys.push(key);
  assert.deepEqual(keys, ['a', 'b']);
  const members: string[] = [];
  for await (const member of set) members.push(member);
  assert.deepEqual(members.sort(), ['x', 'y']);
  assert.equal(s.manager.table.size, objects);

  // Breaking out early releases it too, and takes no more items than were seen.
  for (const container of [list, dict, set] as AsyncIterable<unknown>[]) {
    let seen = 0;
    for await (const _ of container) {
      seen++;
      break;
    }
    assert.equal(seen, 1);
    assert.equal(s.manager.table.size, objects, 'released after break');
  }

  // An error inside the loop releases it as well.
  await assert.rejects(async () => {
    for await (const _ of list) throw new Error('inside the loop');
  }, /inside the loop/);
  assert.equal(s.manager.table.size, objects, 'released after a throw');

  // A dict that changes size while iterated: Python's RuntimeError, and the iterator is released.
  await assert.rejects(async () => {
    for await (const key of dict) await dict.set(`${key}2`, 0);
  }, (e: unknown) => e instanceof RemoteError && e.type === 'RuntimeError');
  assert.equal(s.manager.table.size, objects, 'released after a remote error');
});

test('an IteratorProxy from __iter__ gives items until done; iterating it leaves it to its owner', async () => {
  await using s = await setup();
  const list = await s.client.create<ListProxy<string>>('list', ['a', 'b', 'c']);
  await using iterator = (await list.callMethod('__iter__')) as IteratorProxy<string>;
  assert.ok(iterator instanceof IteratorProxy);
  assert.deepEqual(await iterator.next(), { done: false, value: 'a' });
  const rest: string[] = [];
  for await (const item of iterator) rest.push(item);
  assert.deepEqual(rest, ['b', 'c']);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  assert.equal(iterator.released, false);
});

test('LockProxy: acquire, unlock, locked, withLock (result, throw), acquired with await using', async () => {
  await using s = await setup();
  const lock = await s.client.create<LockProxy>('Lock');
  assert.ok(lock instanceof LockProxy);
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.locked(), true);
  assert.equal(await lock.acquire({ blocking: false }), false);
  assert.equal(await lock.acquire({ timeout: 0.01 }), false);
  await lock.unlock();
  assert.equal(await lock.locked(), false);

  assert.equal(
    await lock.withLock(async () => {
      assert.equal(await lock.locked(), true);
      return 42;
    }),
    42,
  );
  assert.equal(await lock.locked(), false);
  await assert.rejects(
    lock.withLock(() => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await lock.locked(), false, 'withLock unlocked after the throw');

  {
    await using held = await lock.acquired({ timeout: 1 });
    assert.equal(await lock.locked(), true);
    assert.equal(held.released, false);
  }
  assert.equal(await lock.locked(), false, 'await using unlocked');

  const held = await lock.acquired();
  await held.release();
  await held.release();
  await held[Symbol.asyncDispose]();
  assert.equal(held.released, true);
  // Unlocked once: a second unlock of Lock would have raised RuntimeError.
  assert.equal(await lock.acquire({ blocking: false }), true);
  await lock.unlock();
});

test('two clients contend on a Lock: the second acquire resolves only after the first unlocks', async () => {
  await using s = await setup(2);
  const [a, b] = s.clients;
  const board = await a.get_board();
  const lockA = await a.create<LockProxy>('Lock');
  await board.set('lock', lockA);
  const lockB = (await (await b.get_board()).getItem('lock')) as LockProxy;
  assert.equal(lockB.id, lockA.id);

  await lockA.acquire();
  const waiting = watch(lockB.acquire({ timeout: 10 }));
  // b's next answer means its acquire was handled: it is parked.
  assert.equal(await lockB.locked(), true);
  assert.equal(waiting.settled(), false);
  await lockA.unlock();
  assert.equal(await waiting.promise, true);
  assert.equal(await lockA.acquire({ blocking: false }), false, 'b holds it now');

  // withLock and acquired time out with TimeoutError while another client holds it; fn never runs.
  let ran = false;
  await assert.rejects(
    lockA.withLock(() => (ran = true), { timeout: 0.02 }),
    (e: unknown) => e instanceof TimeoutError && /not acquired within 0.02 s/.test(e.message),
  );
  await assert.rejects(lockA.acquired({ blocking: false }), TimeoutError);
  assert.equal(ran, false);

  // A cancelled acquire acquires nothing.
  const controller = new AbortController();
  const cancelled = lockA.withLock(() => (ran = true), { signal: controller.signal });
  await lockA.locked();
  controller.abort();
  await assert.rejects(cancelled, AbortError);
  assert.equal(ran, false);
  await lockB.unlock();
  assert.equal(await lockA.acquire({ blocking: false }), true, 'the cancelled acquire left it free');
  await lockA.unlock();
});

test('RLockProxy: its holder acquires again and unlocks as many times; others wait', async () => {
  await using s = await setup(2);
  const [a, b] = s.clients;
  const rlock = await a.create<RLockProxy>('RLock');
  assert.ok(rlock instanceof RLockProxy);
  await (await a.get_board()).set('rlock', rlock);
  const other = (await (await b.get_board()).getItem('rlock')) as RLockProxy;
  assert.equal(await rlock.acquire(), true);
  assert.equal(
    await rlock.withLock(() => 'reentered'),
    'reentered',
  );
  assert.equal(await other.acquire({ blocking: false }), false);
  await assert.rejects(other.unlock(), (e: unknown) => e instanceof RemoteError && e.type === 'RuntimeError');
  await rlock.unlock();
  assert.equal(await other.acquire({ blocking: false }), true);
  await other.unlock();
});

test('SemaphoreProxy and BoundedSemaphore: permits, unlock(n), the bound', async () => {
  await using s = await setup();
  const sem = await s.client.create<SemaphoreProxy>('Semaphore', 2);
  assert.ok(sem instanceof SemaphoreProxy);
  assert.equal(await sem.acquire(), true);
  assert.equal(await sem.acquire(), true);
  assert.equal(await sem.acquire({ blocking: false }), false);
  assert.equal(await sem.acquire({ timeout: 0.01 }), false);
  await sem.unlock(2);
  assert.equal(await sem.withLock(async () => sem.acquire({ blocking: false })), true, 'one permit left inside');
  await sem.unlock();
  {
    await using _held = await sem.acquired();
    await using _second = await sem.acquired();
    await assert.rejects(sem.acquired({ timeout: 0.01 }), TimeoutError);
  }
  assert.equal(await sem.acquire({ blocking: false }), true, 'await using gave the permits back');

  const bounded = await s.client.create<SemaphoreProxy>('BoundedSemaphore', 1);
  assert.ok(bounded instanceof SemaphoreProxy);
  await assert.rejects(bounded.unlock(), ValueError);
  await bounded.withLock(async () => assert.equal(await bounded.acquire({ blocking: false }), false));
  assert.equal(await bounded.acquire({ blocking: false }), true);
});

test('ConditionProxy over a given lock: waitFor wakes on notify from another client, and times out', async () => {
  await using s = await setup(2);
  const [a, b] = s.clients;
  const lock = await a.create<LockProxy>('Lock');
  // The lock travels as a $proxy: the condition uses that very lock.
  const cond = await a.create<ConditionProxy>('Condition', lock);
  assert.ok(cond instanceof ConditionProxy);
  const ready = await a.create<ValueProxy<boolean>>('Value', 'b', false);
  const board = await a.get_board();
  await board.update({ cond, ready });
  const boardB = await b.get_board();
  const condB = (await boardB.getItem('cond')) as ConditionProxy;
  const readyB = (await boardB.getItem('ready')) as ValueProxy<boolean>;

  await cond.acquire();
  assert.equal(await lock.locked(), true, 'the condition acquires the lock it was given');
  await cond.unlock();

  let checks = 0;
  const waiter = watch(
    cond.withLock(() =>
      cond.waitFor(
        async () => {
          checks++;
          return (await ready.get()) && 'ready';
        },
        { timeout: 10 },
      ),
    ),
  );
  await until('a waits on the condition', () => parked(s.manager, 'wait'));
  assert.equal(waiter.settled(), false);
  await condB.withLock(async () => {
    await readyB.set(true);
    await condB.notifyAll();
  });
  assert.equal(await waiter.promise, 'ready');
  assert.equal(checks, 2, 'checked once before waiting and once after the notify');
  assert.equal(await lock.locked(), false, 'withLock unlocked after waitFor');

  // A predicate that never holds: waitFor returns its falsy value once the timeout has passed, lock held.
  await readyB.set(false);
  const started = performance.now();
  const result = await cond.withLock(async () => {
    const value = await cond.waitFor(() => ready.get(), { timeout: 0.05 });
    assert.equal(await lock.locked(), true, 'the lock is held again after the wait');
    return value;
  });
  assert.equal(result, false);
  assert.ok(performance.now() - started >= 40, 'waited for the timeout');
  assert.equal(await cond.withLock(() => cond.wait({ timeout: 0.01 })), false);
  await cond.withLock(() => cond.notify());
  await cond.withLock(() => cond.notify(2));
});

test('EventProxy: a wait in one client ends when another sets it', async () => {
  await using s = await setup(2);
  const [a, b] = s.clients;
  const event = await a.create<EventProxy>('Event');
  assert.ok(event instanceof EventProxy);
  await (await a.get_board()).set('event', event);
  const eventB = (await (await b.get_board()).getItem('event')) as EventProxy;
  assert.equal(await eventB.isSet(), false);
  const waiting = watch(eventB.wait({ timeout: 10 }));
  await eventB.isSet();
  assert.equal(waiting.settled(), false);
  await event.set();
  assert.equal(await waiting.promise, true);
  assert.equal(await eventB.isSet(), true);
  assert.equal(await eventB.wait(), true, 'a set event lets waits through at once');
  await event.clear();
  assert.equal(await eventB.wait({ timeout: 0.02 }), false);
  const controller = new AbortController();
  const cancelled = eventB.wait({ signal: controller.signal });
  await eventB.isSet();
  controller.abort();
  await assert.rejects(cancelled, AbortError);
});

test('BarrierProxy: three clients pass together; parties, nWaiting, broken, abort and reset', async () => {
  await using s = await setup(3);
  const barrier = await s.client.create<BarrierProxy>('Barrier', 3);
  assert.ok(barrier instanceof BarrierProxy);
  await (await s.client.get_board()).set('barrier', barrier);
  const proxies = [barrier];
  for (const c of s.clients.slice(1)) proxies.push((await (await c.get_board()).getItem('barrier')) as BarrierProxy);
  assert.equal(await barrier.parties(), 3);
  assert.equal(await barrier.broken(), false);

  const first = watch(proxies[0].wait({ timeout: 10 }));
  await until('the first waits', () => parked(s.manager, 'wait'));
  assert.equal(await proxies[1].nWaiting(), 1);
  assert.equal(first.settled(), false);
  const indices = await Promise.all([first.promise, proxies[1].wait({ timeout: 10 }), proxies[2].wait({ timeout: 10 })]);
  assert.deepEqual([...indices].sort(), [0, 1, 2]);
  assert.equal(await barrier.nWaiting(), 0);

  // A timeout breaks it for everyone until reset.
  await assert.rejects(barrier.wait({ timeout: 0.02 }), (e: unknown) => e instanceof RemoteError && e.type === 'BrokenBarrierError');
  assert.equal(await proxies[2].broken(), true);
  await barrier.reset();
  assert.equal(await barrier.broken(), false);
  await barrier.abort();
  assert.equal(await barrier.broken(), true);
  await assert.rejects(proxies[1].wait(), (e: unknown) => e instanceof RemoteError && e.type === 'BrokenBarrierError');
});

test('a queue stored in a dict comes back as a QueueProxy to the same queue', async () => {
  await using s = await setup(2);
  const [a, b] = s.clients;
  const queue = await a.create<QueueProxy<string>>('Queue');
  const dict = await a.create<DictProxy<QueueProxy<string>>>('dict');
  await dict.set('jobs', queue);
  const again = await dict.getItem('jobs');
  assert.ok(again instanceof QueueProxy);
  assert.equal(again.id, queue.id);
  assert.notEqual(again, queue, 'a proxy of its own, with its own reference');
  await queue.put('through the first');
  assert.equal(await again.get(), 'through the first');

  // Another client reads it out of a shared dict and talks to the same queue.
  await (await a.get_board()).set('jobs', queue);
  const fromB = (await (await b.get_board()).getItem('jobs')) as QueueProxy<string>;
  await fromB.put('through b');
  assert.equal(await queue.get({ timeout: 1 }), 'through b');

  // Each proxy holds its own reference: releasing one leaves the other working.
  await again.release();
  await queue.put('still there');
  assert.equal(await fromB.get({ timeout: 1 }), 'still there');

  // Proxies nest anywhere in a value, as keyword arguments too; dynamic proxies as well.
  const counter = await a.create('Counter');
  const list = await a.create<ListProxy<unknown>>('list', [[counter, { q: queue }]]);
  const [[counterAgain, { q }]] = (await list.toArray()) as [[DynamicProxy, { q: QueueProxy }]];
  assert.equal(counterAgain.id, counter.id);
  assert.equal(await counterAgain.increment(), 1);
  assert.equal(await counter.increment(), 2);
  assert.equal(q.id, queue.id);
  const ns = await a.create<NamespaceProxy>('Namespace', kwargs({ queue }));
  assert.equal((await ns.get<QueueProxy>('queue')).id, queue.id);

  // A released proxy holds no reference to send.
  await again.release();
  await assert.rejects(dict.set('gone', again), ProxyReleasedError);
});

test('getValue, repr and str: a copy of the referent and its Python texts', async () => {
  await using s = await setup();
  const dict = await s.client.create<DictProxy<number>>('dict', { a: 1 });
  const list = await s.client.create<ListProxy<unknown>>('list', [1, 'two']);
  assert.deepEqual(await dict.getValue(), { a: 1 });
  assert.deepEqual(await list.getValue(), [1, 'two']);
  assert.equal(await list.repr(), "[1, 'two']");
  assert.equal(await list.str(), "[1, 'two']");
  assert.equal(await dict.repr(), "{'a': 1}");
  const set = await s.client.create<SetProxy<number>>('set', [3]);
  assert.deepEqual(await set.getValue(), new Set([3]));
  assert.equal(await set.repr(), '{3}');
  const counter = await s.client.create('Counter');
  await counter.increment();
  assert.deepEqual(await counter.getValue(), { n: 1 }, 'a custom object is copied as its fields');
  const queue = await s.client.create<QueueProxy>('Queue');
  await assert.rejects(queue.getValue(), (e: unknown) => e instanceof RemoteError && e.type === 'TypeError');
  assert.match(await queue.repr(), /Queue/);
});
