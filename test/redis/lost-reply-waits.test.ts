/**
 * The manager's reply from Redis lost (see lost-reply.test.ts) on the calls of a Condition and a
 * Barrier: a resumable session's notify, whose script records its answer, answers from the
 * record; a wait or an arrival whose first step's reply was lost fails saying its effect is
 * unknown, and takes back what that step left behind (a ticket in the Condition's line that a
 * notify would be spent on, an arrival the Barrier would count though its party is not there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type BarrierProxy, type ConditionProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { setUpLostReply, withReplyLost } from '../helpers/lostReply';
import { eventually } from '../helpers/until';

const redis = redisForTests('lostwaits');
const { skip } = redis;

/** The key of part `part` of the object with id `id`. */
const keyOf = (s: { prefix: string }, id: string, part: string) => `${s.prefix}:o:${id.slice('r:'.length)}:${part}`;

test("a resumable session's Condition notify whose reply from Redis is lost answers None, one waiter notified once", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, true);
  const cond = await s.client.create<ConditionProxy>('Condition');
  const waiters = keyOf(s, cond.id, 'waiters');
  // The waiters are on another manager, straight to Redis: through the relay goes only the notifier's traffic.
  await using other = await startManager({ store: redis.url, storePrefix: s.prefix });
  await using first = await connect({ address: other.address, authkey: AUTHKEY, reconnect: false });
  await using second = await connect({ address: other.address, authkey: AUTHKEY, reconnect: false });
  const waits: Promise<unknown>[] = [];
  for (const [n, waiter] of [first, second].entries()) {
    assert.equal(await waiter.callById(cond.id, 'acquire'), true);
    const wait = waiter.callById(cond.id, 'wait', [30]);
    wait.catch(() => {});
    waits.push(wait);
    await eventually('the waiter in line', () => s.plain.llen(waiters), (length) => length === n + 1);
  }
  assert.equal(await cond.acquire(), true);
  const notified = await withReplyLost(s, keyOf(s, cond.id, 'notified'), () => s.client.callById(cond.id, 'notify'), async () => (await s.plain.llen(waiters)) === 1);
  assert.equal(notified, null, 'the notify answers None');
  assert.equal(await s.plain.llen(waiters), 1, 'one waiter notified, once');
  await cond.unlock();
  assert.equal(await waits[0], true, 'the waiter notified has the lock back');
  await first.callById(cond.id, 'release');
  assert.equal(await cond.acquire(), true);
  await cond.notifyAll();
  await cond.unlock();
  assert.equal(await waits[1], true);
  await second.callById(cond.id, 'release');
});

test("a Condition wait whose first step's reply from Redis is lost fails saying its effect is unknown, its ticket out of the line", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, true);
  const cond = await s.client.create<ConditionProxy>('Condition');
  const waiters = keyOf(s, cond.id, 'waiters');
  assert.equal(await cond.acquire(), true);
  const waiting = withReplyLost(s, waiters, () => cond.wait({ timeout: 30 }), async () => (await s.plain.llen(waiters)) === 1);
  await assert.rejects(waiting, /the effect of this call is unknown/);
  // Left in line, the ticket would take the next notify, which no waiter would see.
  await eventually('the ticket out of the line', () => s.plain.llen(waiters), (length) => length === 0);
  // The step freed the lock: the manager knows the session holds it no more.
  assert.equal(await s.plain.exists(keyOf(s, cond.id, 'lock:lock')), 0, 'the lock is free');
  const holds = async () => (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId)?.holds;
  await eventually('the session holding nothing', holds, (held) => held?.length === 0);
});

test("a Barrier wait whose arrival's reply from Redis is lost fails saying its effect is unknown, and breaks the barrier: its party is not there", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, true);
  const barrier = await s.client.create<BarrierProxy>('Barrier', 2);
  const parties = keyOf(s, barrier.id, 'parties');
  const waiting = withReplyLost(s, parties, () => barrier.wait({ timeout: 30 }), async () => (await s.plain.hlen(parties)) === 1);
  await assert.rejects(waiting, /the effect of this call is unknown/);
  // Read once the manager is back on Redis (until then the read is refused, not carried out).
  const broken = () => s.client.callById(barrier.id, '__getattribute__', ['broken']).catch(() => undefined);
  await eventually('the barrier broken', broken, (is) => is === true);
  // Counted as arrived, the party gone would have let the next one through alone.
  await assert.rejects(barrier.wait({ timeout: 30 }), /BrokenBarrierError/);
});

test("a Condition wait whose later check for a notify is cut on its way fails saying its effect is unknown: it had freed the lock", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, true);
  const cond = await s.client.create<ConditionProxy>('Condition');
  const waiters = keyOf(s, cond.id, 'waiters');
  const notified = keyOf(s, cond.id, 'notified');
  assert.equal(await cond.acquire(), true);
  const waiting = s.client.callById(cond.id, 'wait', [30]);
  waiting.catch(() => {});
  await eventually('the waiter in line', () => s.plain.llen(waiters), (length) => length === 1);
  // A change published wakes the waiter, whose check (a read) is held on its way to Redis, then cut.
  const before = s.relay.countUpstream(notified);
  s.relay.holdUpstreamFrom(notified);
  await eventually('the check sent', async () => (await s.plain.publish(`${s.prefix}:wake`, `${s.prefix}:o:${cond.id.slice('r:'.length)}`), s.relay.countUpstream(notified)), (sent) => sent > before);
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  // Not "not carried out, try again": the wait's first step freed the lock, which a wait sent again finds free.
  await assert.rejects(waiting, /the effect of this call is unknown/);
  await eventually('the ticket out of the line', () => s.plain.llen(waiters), (length) => length === 0);
});

/** What the manager sends for a waiter leaving at its timeout: the leave's `why` argument. */
const TIMEOUT_LEAVE = '$7\r\ntimeout\r\n';

test("a Condition wait whose leave at its timeout has its reply from Redis lost answers False once Redis is back, the lock held again: the leave, made again, answers as it did", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, false);
  const cond = await s.client.create<ConditionProxy>('Condition');
  const waiters = keyOf(s, cond.id, 'waiters');
  assert.equal(await cond.acquire(), true);
  const waiting = withReplyLost(s, TIMEOUT_LEAVE, () => cond.wait({ timeout: 1 }), async () => (await s.plain.llen(waiters)) === 0);
  assert.equal(await waiting, false, 'the wait timed out, not notified');
  assert.equal(await s.plain.hget(keyOf(s, cond.id, 'lock:lock'), 'count'), '1', 'the lock is held again');
  await cond.unlock();
  assert.equal(await s.plain.exists(keyOf(s, cond.id, 'lock:lock')), 0, 'released by the waiter, the lock is free');
});

test("a Barrier wait whose leave at its timeout has its reply from Redis lost fails with BrokenBarrierError once Redis is back, as it would have: the leave, made again, answers as it did", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, false);
  const barrier = await s.client.create<BarrierProxy>('Barrier', 2);
  const state = keyOf(s, barrier.id, 'barrier');
  const waiting = withReplyLost(s, TIMEOUT_LEAVE, () => barrier.wait({ timeout: 1 }), async () => (await s.plain.hget(state, 'broken')) === '1');
  await assert.rejects(waiting, /BrokenBarrierError/);
  assert.equal(await s.plain.hlen(keyOf(s, barrier.id, 'parties')), 0, 'no party left behind');
});

test("a Barrier wait timing out as the barrier lets it through, the leave's reply from Redis lost, answers its index once Redis is back", { skip, timeout: 60_000 }, async () => {
  await using s = await setUpLostReply(redis, false);
  const barrier = await s.client.create<BarrierProxy>('Barrier', 2);
  const parties = keyOf(s, barrier.id, 'parties');
  // The other party comes through another manager, straight to Redis: through the relay goes only the first party's traffic.
  await using other = await startManager({ store: redis.url, storePrefix: s.prefix });
  await using second = await connect({ address: other.address, authkey: AUTHKEY, reconnect: false });
  const before = s.relay.countUpstream(TIMEOUT_LEAVE);
  s.relay.holdUpstreamFrom(TIMEOUT_LEAVE);
  const waiting = barrier.wait({ timeout: 1 });
  waiting.catch(() => {});
  // The first party timed out; its leave is on its way when the second arrives and lets it through.
  await s.relay.untilUpstream(TIMEOUT_LEAVE, before + 1);
  assert.equal(await second.callById(barrier.id, 'wait', []), 1, 'the second party, the last, goes through');
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis ran the leave', async () => (await s.plain.hvals(parties)).includes('r'), (released) => !released);
  s.relay.cut();
  s.relay.mend();
  assert.equal(await waiting, 0, 'let through, the first party answers its index');
  await eventually('no party left behind', () => s.plain.hlen(parties), (n) => n === 0);
});
