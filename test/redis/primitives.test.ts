/**
 * The synchronisation primitives kept in Redis, shared by two managers on one Redis and prefix:
 * a change through manager A wakes a caller waiting on manager B; what a session holds through
 * one manager is held for the callers of the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortError, BrokenBarrierError, connect, RuntimeError, ValueError, type BarrierProxy, type ConditionProxy, type EventProxy, type LockProxy, type RLockProxy, type SemaphoreProxy } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests, twoManagers, waitingOn } from '../helpers/redisServer';

const redis = redisForTests('prim');
const { skip, prefix } = redis;

type Shared = {
  get_event: EventProxy;
  get_lock: LockProxy;
  get_rlock: RLockProxy;
  get_semaphore: SemaphoreProxy;
  get_bounded: SemaphoreProxy;
  get_condition: ConditionProxy;
  get_barrier: BarrierProxy;
};

function manager(storePrefix: string): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix }, (m) => {
    m.register('get_event', { shared: 'Event' });
    m.register('get_lock', { shared: 'Lock' });
    m.register('get_rlock', { shared: 'RLock' });
    m.register('get_semaphore', { shared: 'Semaphore', args: [2] });
    m.register('get_bounded', { shared: 'BoundedSemaphore', args: [1] });
    m.register('get_condition', { shared: 'Condition' });
    m.register('get_barrier', { shared: 'Barrier', args: [4] });
  });
}

test('an Event kept in Redis: a set through A wakes waits on B, even when A clears it at once; the flag is seen from both', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const ea = await onA.get_event();
  const eb = await onB.get_event();
  assert.equal(await eb.wait({ timeout: 0.05 }), false);
  const waits = [eb.wait(), eb.wait({ timeout: 20 })];
  await waitingOn(b, 'wait', 2);
  // Set and cleared at once: the waiters were woken by the set and answer True, as in memory.
  await Promise.all([ea.set(), ea.clear()]);
  assert.deepEqual(await Promise.all(waits), [true, true]);
  assert.equal(await eb.isSet(), false);
  await eb.set();
  assert.equal(await ea.isSet(), true);
  assert.equal(await ea.wait({ timeout: 0 }), true);
});

test('a Lock kept in Redis: acquired through A it blocks an acquire on B, and a release through A wakes it', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const la = await onA.get_lock();
  const lb = await onB.get_lock();
  assert.equal(await la.acquire(), true);
  assert.equal(await lb.locked(), true);
  assert.equal(await lb.acquire({ blocking: false }), false);
  assert.equal(await lb.acquire({ timeout: 0.05 }), false);
  const waiting = lb.acquire({ timeout: 20 });
  await waitingOn(b, 'acquire');
  await la.unlock();
  assert.equal(await waiting, true);
  assert.equal(await la.locked(), true, 'held by the client of B now');
  // A Lock has no owner: the client of A may release what the client of B holds.
  await la.unlock();
  await assert.rejects(lb.unlock(), (e: unknown) => e instanceof RuntimeError && /release unlocked lock/.test(e.message));
});

test('an RLock kept in Redis: its owner on A goes deeper; B can neither release it nor take it until A released it as often', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const ra = await onA.get_rlock();
  const rb = await onB.get_rlock();
  assert.equal(await ra.acquire(), true);
  assert.equal(await ra.acquire(), true);
  await assert.rejects(rb.unlock(), (e: unknown) => e instanceof RuntimeError && /cannot release un-acquired lock/.test(e.message));
  const waiting = rb.acquire({ timeout: 20 });
  await waitingOn(b, 'acquire');
  await ra.unlock();
  assert.equal(await rb.acquire({ blocking: false }), false, 'still held once deep');
  await ra.unlock();
  assert.equal(await waiting, true);
  await assert.rejects(ra.unlock(), RuntimeError);
  await rb.unlock();
  assert.equal(await ra.locked(), false);
});

test('semaphore permits kept in Redis are shared: taken through both managers, given back through either', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { a, onA, onB } = pair;
  const sa = await onA.get_semaphore();
  const sb = await onB.get_semaphore();
  assert.equal(await sa.acquire(), true);
  assert.equal(await sb.acquire(), true);
  assert.equal(await sa.acquire({ blocking: false }), false, 'two permits, both taken');
  const waits = [sa.acquire({ timeout: 20 }), sa.acquire({ timeout: 20 })];
  await waitingOn(a, 'acquire', 2);
  await sb.unlock(2);
  assert.deepEqual(await Promise.all(waits), [true, true]);
  assert.equal(await sb.acquire({ blocking: false }), false);

  const ba = await onA.get_bounded();
  const bb = await onB.get_bounded();
  await assert.rejects(bb.unlock(), (e: unknown) => e instanceof ValueError && /released too many times/.test(e.message));
  assert.equal(await ba.acquire(), true);
  assert.equal(await bb.acquire({ blocking: false }), false);
  await bb.unlock();
  await assert.rejects(ba.unlock(), ValueError);
  assert.equal(await bb.acquire({ blocking: false }), true, 'exactly one permit, as at the start');
});

test('a Condition kept in Redis: a notify through A wakes a waiter on B, which takes the lock back before it returns', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const ca = await onA.get_condition();
  const cb = await onB.get_condition();
  await assert.rejects(ca.notify(), (e: unknown) => e instanceof RuntimeError && /cannot notify on un-acquired lock/.test(e.message));
  assert.equal(await cb.acquire(), true);
  assert.equal(await cb.wait({ timeout: 0.05 }), false, 'nobody notified');
  const waiting = cb.wait({ timeout: 20 });
  await waitingOn(b, 'wait');
  // The wait gave the lock up: A can take it, notify, and give it back.
  assert.equal(await ca.acquire({ timeout: 20 }), true);
  await assert.rejects(cb.notify(), RuntimeError, "B's client does not hold the lock while it waits");
  await ca.notify();
  assert.equal(await ca.acquire({ blocking: false }), true, 'the RLock is re-entrant for its owner');
  await ca.unlock();
  await ca.unlock();
  assert.equal(await waiting, true);
  // B's client holds the lock again: A cannot take it until B releases it.
  assert.equal(await ca.acquire({ blocking: false }), false);
  await cb.unlock();
  assert.equal(await ca.acquire({ blocking: false }), true);
  await ca.unlock();
});

test('a Barrier kept in Redis: parties waiting on both managers pass it together; an abort through A breaks it for a party on B', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const ba = await onA.get_barrier();
  const bb = await onB.get_barrier();
  const indices = await Promise.all([ba.wait(), bb.wait(), ba.wait(), bb.wait()]);
  assert.deepEqual([...indices].sort(), [0, 1, 2, 3]);
  // Checked from the start: the party may be broken before the abort's own answer is back.
  const broken = assert.rejects(bb.wait({ timeout: 20 }), BrokenBarrierError);
  await waitingOn(b, 'wait');
  assert.equal(await ba.nWaiting(), 1, 'the party on B, seen through A');
  await ba.abort();
  await broken;
  assert.equal(await bb.broken(), true);
  await bb.reset();
  assert.equal(await ba.broken(), false);
});

test('a lock kept in Redis goes to its longest waiter, whichever manager it waits on; a waiter that timed out is skipped', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { a, onA, onB } = pair;
  const la = await onA.get_lock();
  const lb = await onB.get_lock();
  await using later = await connect<Shared>({ address: a.address, authkey: AUTHKEY });
  const lLater = await later.get_lock();
  assert.equal(await la.acquire(), true);
  assert.equal(await lb.acquire({ timeout: 0.05 }), false, 'a waiter that timed out');
  const first = lb.acquire({ timeout: 20 });
  // Answered after the acquire above was queued (one connection, served in order).
  assert.equal(await lb.locked(), true);
  const second = lLater.acquire({ timeout: 20 });
  assert.equal(await lLater.locked(), true);
  // Sent together: the try runs right after the release, before the waiter on B hears of it.
  const [, again] = await Promise.all([la.unlock(), la.acquire({ blocking: false })]);
  assert.equal(again, false, 'handed to the longest waiter at once: nobody can take it first');
  assert.equal(await first, true, 'the first waiter, on B, got it');
  await lb.unlock();
  assert.equal(await second, true);
  await lLater.unlock();
});

test('semaphore permits kept in Redis go to the longest waiters first, across managers', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { a, onA, onB } = pair;
  const sa = await onA.get_semaphore();
  const sb = await onB.get_semaphore();
  await using later = await connect<Shared>({ address: a.address, authkey: AUTHKEY });
  const sLater = await later.get_semaphore();
  assert.equal(await sa.acquire(), true);
  assert.equal(await sa.acquire(), true);
  const first = sb.acquire({ timeout: 20 });
  assert.equal(await sb.acquire({ blocking: false }), false, 'answered once the acquire above is queued');
  const second = sLater.acquire({ timeout: 20 });
  assert.equal(await sLater.acquire({ blocking: false }), false);
  const [, again] = await Promise.all([sa.unlock(), sa.acquire({ blocking: false })]);
  assert.equal(again, false, 'the permit was handed to the longest waiter at once');
  assert.equal(await first, true);
  await sa.unlock();
  assert.equal(await second, true);
});

test('a withdrawn acquire on B takes nothing, first in line or not: the permit released through A goes to the next waiter', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>(manager, prefix());
  const { b, onA, onB } = pair;
  const sa = await onA.get_semaphore();
  const sb = await onB.get_semaphore();
  assert.equal(await sa.acquire(), true);
  assert.equal(await sa.acquire(), true);
  const controller = new AbortController();
  const withdrawn = sb.acquire({ timeout: 20, signal: controller.signal });
  assert.equal(await sb.acquire({ blocking: false }), false, 'answered once the acquire above is queued');
  const next = sb.acquire({ timeout: 20 });
  await waitingOn(b, 'acquire', 2);
  controller.abort();
  await assert.rejects(withdrawn, AbortError);
  await sa.unlock();
  assert.equal(await next, true);
  assert.equal(await sa.acquire({ blocking: false }), false, 'one permit released, one taken: none left over');
  await sa.unlock();
  assert.equal(await sa.acquire({ blocking: false }), true);
});
