/**
 * What a client held through a manager that dies is given back by a survivor once the dead
 * manager's lease runs out (src/server/store/redisReclaimers.ts): manager A is a separate
 * `syncmanager serve` process, SIGKILLed by PID; manager B, in this process, has a waiter.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BrokenBarrierError, connect, type BarrierProxy, type ConditionProxy, type Connected, type LockProxy, type SemaphoreProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, waitingOn } from '../helpers/redisServer';
import { buildCli, killServer, serveProcess, type ServerProcess } from '../helpers/serverProcess';

const redis = redisForTests('dead');
const { skip } = redis;

before(() => {
  if (!skip) buildCli();
});

type Shared = { get_lock: LockProxy; get_semaphore: SemaphoreProxy; get_barrier: BarrierProxy; get_condition: ConditionProxy };

/** Manager A (a process) and manager B (in this process), on one prefix, each with a client; both with a two-second lease (short, yet long enough that a loaded machine's stalls do not end a live manager's). */
async function managers(): Promise<{ a: ServerProcess; b: Manager; onA: Connected<Shared>; onB: Connected<Shared> } & AsyncDisposable> {
  const prefix = redis.prefix();
  const a = await serveProcess(
    ['--address', '127.0.0.1:0', '--store', redis.url, '--store-prefix', prefix, '--store-lease', '2', '--register', 'get_lock=Lock', '--register', 'get_semaphore=Semaphore(2)', '--register', 'get_barrier=Barrier(3)', '--register', 'get_condition=Condition'],
    { SYNCMANAGER_AUTHKEY: AUTHKEY },
  );
  let b: Manager | undefined;
  try {
    b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 2000 }, (m) => {
      m.register('get_lock', { shared: 'Lock' });
      m.register('get_semaphore', { shared: 'Semaphore', args: [2] });
      m.register('get_barrier', { shared: 'Barrier', args: [3] });
      m.register('get_condition', { shared: 'Condition' });
    });
    const onA = await connect<Shared>({ address: a.address, authkey: AUTHKEY, reconnect: false });
    const onB = await connect<Shared>({ address: b.address, authkey: AUTHKEY });
    const m = b;
    return {
      a,
      b,
      onA,
      onB,
      async [Symbol.asyncDispose]() {
        await onA.close().catch(() => {});
        await onB.close();
        await m[Symbol.asyncDispose]();
        await killServer(a);
      },
    };
  } catch (error) {
    await b?.[Symbol.asyncDispose]();
    await killServer(a);
    throw error;
  }
}

test('a lock held through A when A dies is acquired by a waiter on B within the lease time; so are permits', { skip, timeout: 60_000 }, async () => {
  await using group = await managers();
  const { a, b, onA, onB } = group;
  const lockOnA = await onA.get_lock();
  const semOnA = await onA.get_semaphore();
  assert.equal(await lockOnA.acquire(), true);
  assert.equal(await semOnA.acquire(), true);
  assert.equal(await semOnA.acquire(), true);

  // The dead manager's client also waits, first in line: its turn must not be given to a dead waiter.
  const deadWaits = [lockOnA.acquire({ timeout: 20 }), semOnA.acquire({ timeout: 20 })].map((p) => p.catch((error: unknown) => error));
  assert.equal(await lockOnA.locked(), true, 'answered once the waits above are queued');

  const lockOnB = await onB.get_lock();
  const semOnB = await onB.get_semaphore();
  assert.equal(await lockOnB.acquire({ blocking: false }), false);
  assert.equal(await semOnB.acquire({ blocking: false }), false);
  const lockWait = lockOnB.acquire({ timeout: 20 });
  const semWaits = [semOnB.acquire({ timeout: 20 }), semOnB.acquire({ timeout: 20 })];
  await waitingOn(b, 'acquire', 3);

  await killServer(a);
  assert.equal(await lockWait, true, "the dead manager's lock went to the waiter on B");
  assert.deepEqual(await Promise.all(semWaits), [true, true], "both of the dead manager's permits went to the waiters on B");
  assert.equal(await lockOnB.locked(), true, 'held by the client of B now');
  assert.equal(await semOnB.acquire({ blocking: false }), false, 'two permits, no more: none was given back twice');
  for (const outcome of await Promise.all(deadWaits)) assert.notEqual(outcome, true, 'the dead manager answered nobody');
});

test("a barrier with a party waiting on a manager that dies is broken for the parties on the survivor, and can be reset", { skip, timeout: 60_000 }, async () => {
  await using group = await managers();
  const { a, b, onA, onB } = group;
  const barrierOnA = await onA.get_barrier();
  const barrierOnB = await onB.get_barrier();
  const deadParty = barrierOnA.wait().catch((error: unknown) => error);
  // Answered after the wait arrived (one connection, served in order): the party on A waits.
  assert.equal(await barrierOnA.nWaiting(), 1);
  // Checked from the start: the party may be broken before the kill's own await is over.
  const party = assert.rejects(barrierOnB.wait({ timeout: 20 }), BrokenBarrierError);
  await waitingOn(b, 'wait');
  assert.equal(await barrierOnB.nWaiting(), 2, 'one party on each manager');

  await killServer(a);
  await party;
  assert.ok(!((await deadParty) instanceof BrokenBarrierError), 'the dead manager answered nobody');
  assert.equal(await barrierOnB.broken(), true);
  await barrierOnB.reset();
  assert.equal(await barrierOnB.nWaiting(), 0);
});

test("a condition's notify taken by a waiter on a manager that dies, before it had the lock back, passes to a waiter on the survivor", { skip, timeout: 60_000 }, async () => {
  await using group = await managers();
  const { a, b, onA, onB } = group;
  await using notifier = await connect<Shared>({ address: b.address, authkey: AUTHKEY });
  const condOnA = await onA.get_condition();
  const condOnB = await onB.get_condition();
  const condOfNotifier = await notifier.get_condition();
  // The waiter on A is first in line: B's client gets the lock only once A's wait gave it up.
  assert.equal(await condOnA.acquire(), true);
  const deadWait = condOnA.wait().catch((error: unknown) => error);
  assert.equal(await condOnB.acquire({ timeout: 20 }), true);
  const wait = condOnB.wait({ timeout: 20 });
  // notify(1) goes to the longest waiter, on A, which cannot take the lock back while the notifier holds it.
  assert.equal(await condOfNotifier.acquire({ timeout: 20 }), true);
  await condOfNotifier.notify(1);
  await killServer(a);
  await condOfNotifier.unlock();
  assert.equal(await wait, true, "the dead waiter's notification went to the waiter on B");
  await condOnB.unlock();
  assert.notEqual(await deadWait, true, 'the dead manager answered nobody');
});
