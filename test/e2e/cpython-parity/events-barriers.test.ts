/**
 * CPython parity, events and barriers: what `_TestEvent` and `_TestBarrier` in
 * `Lib/test/_test_multiprocessing.py` check of a managed `Event` and `Barrier`, through real
 * sockets. CPython's barrier tests run N = 5 parties (a Bunch of N-1 processes plus the main
 * one); here each party is a client of its own, all running concurrently, and the shared
 * counters (CPython's DummyList, a `manager.list()` in the manager variant) are managed lists.
 *
 * Each barrier gets a default timeout, as CPython's setUp gives one (30 s there), so that a
 * failing party cannot leave the others waiting forever, and is aborted at the end (tearDown).
 * Where CPython makes a party late with `time.sleep(1.0)`, the late party here waits (bounded)
 * until the manager reports the barrier broken, then arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BarrierProxy, BrokenBarrierError, EventProxy, kwargs, ListProxy, LockProxy, QueueProxy } from '../../../src/client';
import { Barrier, List } from '../../../src/server';
import { assertPrompt, assertWaited, type Client, eventually, LONG, parity, type Parity, SHORT, stopwatch, TEST_TIMEOUT, untilParked, watch } from './harness';

/** CPython's _TestBarrier.N. */
const N = 5;
/** CPython's defaultTimeout (30 s there). */
const DEFAULT_TIMEOUT = LONG;

// CPython: _TestEvent.test_event
test('Event: wait times out while clear; once set, every wait returns True at once; after clear, a wait ends when another client sets it', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const event = await s.main.create<EventProxy>('Event');

  assert.equal(await event.isSet(), false);
  assert.equal(await event.wait({ timeout: 0 }), false);
  let clock = stopwatch();
  assert.equal(await event.wait({ timeout: SHORT }), false);
  assertWaited(clock, SHORT, 'wait(timeout) on a clear event');

  await event.set();
  assert.equal(await event.isSet(), true);
  assert.equal(await event.wait(), true);
  clock = stopwatch();
  assert.equal(await event.wait({ timeout: LONG }), true);
  assertPrompt(clock, LONG, 'wait(timeout) on a set event');

  await event.clear();
  assert.equal(await event.isSet(), false);

  // CPython's child sleeps, then sets; here the child sets once the main wait is parked.
  const [childClient] = await s.connect(1);
  const child = await s.share(childClient, { event });
  const waiting = watch(event.wait());
  await untilParked(s.manager, event, 'wait', 1);
  assert.equal(waiting.settled(), false);
  await child.event.set();
  assert.equal(await waiting.promise, true);
});

// CPython: TestSyncManagerTypes.test_event
test('Event: another client sees it set, waits through it, clears it, and the clear is seen here', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const event = await s.main.create<EventProxy>('Event');
  await event.set();
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { event });
  assert.equal(await child.event.isSet(), true);
  assert.equal(await child.event.wait(), true);
  await child.event.clear();
  assert.equal(await child.event.wait({ timeout: 0.001 }), false);
  assert.equal(await event.isSet(), false);
  assert.equal(await event.wait({ timeout: 0.001 }), false);
});

/** A managed list used as a counter (CPython's DummyList): append to count, length to read. */
type Counter = ListProxy<boolean>;

/**
 * CPython's run_threads: runs `f` in N clients at once, each with its own proxies of `objects`;
 * aborts `barriers` at the end whatever happens (CPython's tearDown), so no party is left waiting.
 */
async function runParties<T extends Record<string, unknown>>(s: Parity, objects: T, f: (view: T, party: number) => Promise<void>, barriers: BarrierProxy[] = []): Promise<void> {
  const clients: Client[] = [s.main, ...(await s.connect(N - 1))];
  const views = await Promise.all(clients.map((c) => s.share(c, objects)));
  try {
    await Promise.all(views.map((view, k) => f(view, k)));
  } finally {
    for (const b of barriers) await b.abort();
  }
}

/** Barrier(N, timeout=defaultTimeout), as CPython's setUp makes it. */
function newBarrier(s: Parity, parties = N, timeout: number = DEFAULT_TIMEOUT): Promise<BarrierProxy> {
  return s.main.create<BarrierProxy>('Barrier', parties, kwargs({ timeout }));
}

/** The parties pass the barrier in lockstep, `passes` times (CPython's multipass). */
async function multipass(passes: number): Promise<void> {
  await using s = await parity();
  const barrier = await newBarrier(s);
  const before = await s.main.create<Counter>('list');
  const after = await s.main.create<Counter>('list');
  await runParties(
    s,
    { barrier, before, after },
    async ({ barrier, before, after }) => {
      const m = await barrier.parties();
      assert.equal(m, N);
      for (let i = 0; i < passes; i++) {
        await before.append(true);
        assert.equal(await after.length(), i * m, 'nobody is past the barrier of this pass yet');
        await barrier.wait();
        await after.append(true);
        assert.equal(await before.length(), (i + 1) * m, 'everybody arrived before anybody passed');
        await barrier.wait();
      }
      assert.equal(await barrier.nWaiting(), 0);
      assert.equal(await barrier.broken(), false);
    },
    [barrier],
  );
}

// CPython: _TestBarrier.test_barrier
test('Barrier: five clients pass it in lockstep', { timeout: TEST_TIMEOUT }, async () => {
  await multipass(1);
});

// CPython: _TestBarrier.test_barrier_10
test('Barrier: five clients pass it in lockstep ten times over', { timeout: TEST_TIMEOUT }, async () => {
  await multipass(10);
});

// CPython: _TestBarrier.test_wait_return
test('Barrier: wait returns each party its arrival index, exactly one party getting 0', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s);
  const queue = await s.main.create<QueueProxy<number>>('Queue');
  await runParties(s, { barrier, queue }, async ({ barrier, queue }) => queue.put(await barrier.wait()), [barrier]);
  const results: number[] = [];
  for (let i = 0; i < N; i++) results.push(await queue.get({ timeout: LONG }));
  assert.equal(results.filter((r) => r === 0).length, 1);
  assert.deepEqual([...results].sort(), [0, 1, 2, 3, 4], 'indices 0 to N-1, one each');
});

// CPython: _TestBarrier.test_action. A client cannot send a callable, so the barrier with an
// action is made in the server's code and registered for clients, as a user of this product would:
// its action appends to a list the manager also serves.
test('Barrier: its action runs once, when the last party arrives, before any party is released', { timeout: TEST_TIMEOUT }, async () => {
  const results = new List();
  const barrier = new Barrier(N, () => results.append(true), DEFAULT_TIMEOUT);
  await using s = await parity((m) => {
    m.register('get_action_barrier', { callable: () => barrier });
    m.register('get_action_results', { callable: () => results });
  });
  const shared = {
    barrier: await s.main.create<BarrierProxy>('get_action_barrier'),
    results: await s.main.create<ListProxy<boolean>>('get_action_results'),
  };
  await runParties(
    s,
    shared,
    async ({ barrier, results }) => {
      await barrier.wait();
      assert.equal(await results.length(), 1, 'the action ran exactly once, before this party was released');
    },
    [shared.barrier],
  );
  assert.equal(await shared.results.length(), 1);
});

/** CPython's RuntimeError raised by the party that breaks the barrier in test_abort. */
class PartyError extends Error {}

// CPython: _TestBarrier.test_abort
test('Barrier: abort by one party breaks it; every other party gets BrokenBarrierError', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s);
  const passed = await s.main.create<Counter>('list');
  const broken = await s.main.create<Counter>('list');
  // Not aborted by runParties: the party's own abort is what `broken` must show afterwards.
  await runParties(
    s,
    { barrier, passed, broken },
    async ({ barrier, passed, broken }) => {
      try {
        const i = await barrier.wait();
        if (i === N >> 1) throw new PartyError();
        await barrier.wait();
        await passed.append(true);
      } catch (error) {
        if (error instanceof BrokenBarrierError) await broken.append(true);
        else if (error instanceof PartyError) await barrier.abort();
        else throw error;
      }
    },
  );
  assert.equal(await passed.length(), 0);
  assert.equal(await broken.length(), N - 1);
  assert.equal(await barrier.broken(), true);
  await barrier.abort();
});

// CPython: _TestBarrier.test_reset
test('Barrier: reset sends the waiting parties away with BrokenBarrierError, and all can pass it again', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s);
  const passed = await s.main.create<Counter>('list');
  const broken = await s.main.create<Counter>('list');
  const again = await s.main.create<Counter>('list');
  await runParties(
    s,
    { barrier, passed, broken, again },
    async ({ barrier, passed, broken, again }) => {
      const i = await barrier.wait();
      if (i === N >> 1) {
        // Wait (bounded) until the other parties are all in the barrier.
        await eventually('the other parties wait at the barrier', async () => (await barrier.nWaiting()) === N - 1);
        await barrier.reset();
      } else {
        try {
          await barrier.wait();
          await passed.append(true);
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          await broken.append(true);
        }
      }
      // Now pass the barrier again.
      await barrier.wait();
      await again.append(true);
    },
    [barrier],
  );
  assert.equal(await passed.length(), 0);
  assert.equal(await broken.length(), N - 1);
  assert.equal(await again.length(), N);
});

// CPython: _TestBarrier.test_abort_and_reset
test('Barrier: once broken by abort, it is usable again after reset', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s);
  // CPython's barrier2 has no default timeout; one here only bounds a failing run.
  const barrier2 = await newBarrier(s);
  const passed = await s.main.create<Counter>('list');
  const broken = await s.main.create<Counter>('list');
  const again = await s.main.create<Counter>('list');
  await runParties(
    s,
    { barrier, barrier2, passed, broken, again },
    async ({ barrier, barrier2, passed, broken, again }) => {
      try {
        const i = await barrier.wait();
        if (i === N >> 1) throw new PartyError();
        await barrier.wait();
        await passed.append(true);
      } catch (error) {
        if (error instanceof BrokenBarrierError) await broken.append(true);
        else if (error instanceof PartyError) await barrier.abort();
        else throw error;
      }
      // Everybody has left the barrier before the reset, and nobody enters it again before.
      if ((await barrier2.wait()) === N >> 1) await barrier.reset();
      await barrier2.wait();
      await barrier.wait();
      await again.append(true);
    },
    [barrier, barrier2],
  );
  assert.equal(await passed.length(), 0);
  assert.equal(await broken.length(), N - 1);
  assert.equal(await again.length(), N);
});

/** Waits (bounded) until the barrier is broken: how the late party of the timeout tests is late. */
function untilBroken(barrier: BarrierProxy): Promise<void> {
  return eventually('the barrier to break', () => barrier.broken());
}

// CPython: _TestBarrier.test_timeout
test('Barrier: a wait that times out breaks the barrier for every party, including one arriving late', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s);
  const broken = await s.main.create<Counter>('list');
  await runParties(
    s,
    { barrier, broken },
    async ({ barrier, broken }) => {
      const i = await barrier.wait();
      if (i === N >> 1) await untilBroken(barrier); // one party is late
      try {
        await barrier.wait({ timeout: SHORT });
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        await broken.append(true);
      }
    },
    [barrier],
  );
  assert.equal(await broken.length(), await barrier.parties());
});

// CPython: _TestBarrier.test_default_timeout
test("Barrier: a wait with no timeout uses the barrier's default timeout, and breaks it when that passes", { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await newBarrier(s, N, SHORT);
  const broken = await s.main.create<Counter>('list');
  await runParties(
    s,
    { barrier, broken },
    async ({ barrier, broken }) => {
      const i = await barrier.wait({ timeout: DEFAULT_TIMEOUT });
      if (i === N >> 1) await untilBroken(barrier); // one party is later than the default timeout
      try {
        await barrier.wait();
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        await broken.append(true);
      }
    },
    [barrier],
  );
  assert.equal(await broken.length(), await barrier.parties());
});

// CPython: _TestBarrier.test_single_thread
test('Barrier(1): a single party passes at once, every time', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const barrier = await s.main.create<BarrierProxy>('Barrier', 1);
  assert.equal(await barrier.wait(), 0);
  assert.equal(await barrier.wait(), 0);
});

// CPython: _TestBarrier.test_thousand (skipped for managers there; run here). Five clients pass
// the barrier a thousand times; after each pass each one sends the pass number, under a managed
// lock, through a managed queue (CPython's Pipe): every pass's numbers arrive before the next's.
test('Barrier: five clients pass it a thousand times, every pass completing before the next begins', { timeout: 60_000 }, async () => {
  const passes = 1000;
  await using s = await parity();
  const barrier = await newBarrier(s);
  const lock = await s.main.create<LockProxy>('Lock');
  const conn = await s.main.create<QueueProxy<number>>('Queue');
  const parties = await s.connect(N);
  const views = await Promise.all(parties.map((c) => s.share(c, { barrier, lock, conn })));
  const received = (async () => {
    for (let i = 0; i < passes; i++) for (let j = 0; j < N; j++) assert.equal(await conn.get({ timeout: LONG }), i);
  })();
  try {
    await Promise.all([
      received,
      ...views.map(async ({ barrier, lock, conn }) => {
        for (let i = 0; i < passes; i++) {
          await barrier.wait();
          await lock.withLock(() => conn.put(i));
        }
      }),
    ]);
  } finally {
    await barrier.abort();
  }
  assert.equal(await conn.qsize(), 0);
});
