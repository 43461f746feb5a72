/**
 * The manager's connection to Redis drops after a call's script was sent, before its reply came
 * (a relay between the manager and Redis drops what Redis sends, then is cut and mended). Redis
 * ran the script: a resumable session's call, whose answer the script recorded in the group (SPEC
 * 20.4.1), gets that answer (the item a get took is delivered, a put counted once, a change to
 * a dict made once); any other call fails saying its effect is unknown, not inviting a blind
 * retry. A call refused before it was sent (the connection down), and a read, were not carried
 * out, and say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { Redis } from 'ioredis';
import { connect, type BarrierProxy, type DictProxy, type DynamicProxy, type EventProxy, type LockProxy, type QueueProxy, type RLockProxy, type SemaphoreProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { type TcpRelay } from '../helpers/tcpRelay';
import { setUpLostReply, withReplyLost } from '../helpers/lostReply';
import { eventually } from '../helpers/until';

const redis = redisForTests('lostreply');
const { skip } = redis;

/** A manager whose store goes through a relay, a direct Redis connection, and a client (resumable with `resume`). */
const setUp = (resume: boolean) => setUpLostReply(redis, resume);

/** The Redis list holding queue `q`'s items. */
const itemsOf = (prefix: string, q: QueueProxy<string>) => `${prefix}:o:${q.id.slice('r:'.length)}:items`;

/**
 * Puts `item` into `q`, then gets it while the relay drops what Redis sends: once Redis ran the get
 * (its reply, holding the item, came back and was dropped), the relay is cut and mended. Returns
 * the get (in an object: an async function's result would be the get's own), its rejection
 * handled until the caller awaits it.
 */
async function getWithReplyLost(relay: TcpRelay, q: QueueProxy<string>, item: string): Promise<{ got: Promise<string> }> {
  await q.put(item);
  const before = relay.countDownstream(item);
  relay.dropDownstream();
  const got = q.get();
  got.catch(() => {});
  await relay.untilDownstream(item, before + 1);
  relay.cut();
  relay.mend();
  return { got };
}

test("a resumable session's get whose reply from Redis is lost gets its item, which the queue no longer has", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  const { got } = await getWithReplyLost(s.relay, q, 'taken-while-lost');
  assert.equal(await got, 'taken-while-lost', 'the get answers with the item Redis gave it');
  assert.equal(await s.plain.llen(itemsOf(s.prefix, q)), 0, 'and the queue no longer has it');
});

test("a resumable session's put whose reply from Redis is lost succeeds, the item put once", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  const items = itemsOf(s.prefix, q);
  s.relay.dropDownstream();
  const put = q.put('put-while-lost');
  await eventually('the item in Redis', () => s.plain.llen(items), (n) => n === 1);
  s.relay.cut();
  s.relay.mend();
  await put;
  assert.deepEqual(await s.plain.lrange(items, 0, -1), [JSON.stringify('put-while-lost')], 'the item is in the queue once');
  assert.equal(await q.qsize(), 1);
});

test("a get of a session that is not resumable whose reply from Redis is lost fails saying its effect is unknown", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  const { got } = await getWithReplyLost(s.relay, q, 'lost-for-good');
  await assert.rejects(got, (error: Error) => {
    assert.match(error.message, /the effect of this call is unknown/);
    assert.doesNotMatch(error.message, /try again/);
    return true;
  });
  assert.equal(await s.plain.llen(itemsOf(s.prefix, q)), 0, 'Redis did take the item');
});

test('a call refused before it was sent to Redis says it was not carried out, and had no effect', { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  const items = itemsOf(s.prefix, q);
  s.relay.cut();
  // Until the manager has seen its connection drop, a call may still be written to it: probe with a read.
  const deadline = Date.now() + 20_000;
  for (let refused = false; !refused; ) {
    assert.ok(Date.now() < deadline, 'the manager saw its connection to Redis drop');
    refused = await q.qsize().then(
      () => false,
      (error: Error) => /was not carried out/.test(error.message),
    );
  }
  await assert.rejects(q.put('never-sent'), /cannot be used .*was not carried out.*try again/);
  s.relay.mend();
  assert.equal(await eventually('the queue read again', () => q.qsize().catch(() => -1), (n) => n >= 0, 20_000), 0, 'nothing was put');
  assert.equal(await s.plain.llen(items), 0);
});

test("a resumable session's acknowledged get whose reply from Redis is lost gets its delivery, held by the session until acknowledged", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  await q.put('delivered-while-lost');
  const before = s.relay.countDownstream('delivered-while-lost');
  s.relay.dropDownstream();
  const got = q.get({ ack: true });
  await s.relay.untilDownstream('delivered-while-lost', before + 1);
  s.relay.cut();
  s.relay.mend();
  const delivery = await got;
  assert.equal(delivery.value, 'delivered-while-lost', 'the get answers with the delivery Redis made');
  const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
  assert.deepEqual(shown?.deliveries?.map((d) => d.deliveryId), [delivery.deliveryId], 'the manager knows the session holds it');
  await delivery.ack();
  assert.equal(await q.qsize(), 0);
  assert.equal(await s.plain.hlen(`${s.prefix}:o:${q.id.slice('r:'.length)}:inflight`), 0, 'acknowledged, it is gone for good');
});

test("a resumable session's put whose script never reached Redis (held by the network, then cut) says it was not carried out, and nothing was put", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  s.relay.holdUpstreamFrom('never-arrived');
  const put = q.put('never-arrived');
  put.catch(() => {});
  await s.relay.untilUpstream('never-arrived', 1);
  s.relay.cut();
  // What was held went with the connections it was for: nothing reaches Redis.
  s.relay.releaseUpstream();
  s.relay.mend();
  await assert.rejects(put, /was not carried out.*try again/);
  assert.equal(await s.plain.llen(itemsOf(s.prefix, q)), 0);
});

test("a resumable session's PriorityQueue put and get whose replies from Redis are lost succeed, each carried out once", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const q = await s.client.create<QueueProxy<string>>('PriorityQueue');
  const heap = `${s.prefix}:o:${q.id.slice('r:'.length)}:heap`;
  const stored = async () => (await s.plain.get(heap)) ?? '';
  await withReplyLost(s, 'pq-put-lost', () => q.put('pq-put-lost'), async () => (await stored()).includes('pq-put-lost'));
  assert.equal(await q.qsize(), 1, 'the item is in the queue once');
  const got = await withReplyLost(s, 'pq-put-lost', () => q.get(), async () => !(await stored()).includes('pq-put-lost'));
  assert.equal(got, 'pq-put-lost', 'the get answers with the item Redis gave it');
  assert.equal(await q.qsize(), 0, 'and the queue no longer has it');
});

for (const typeid of ['Lock', 'RLock'] as const) {
  test(`a resumable session's ${typeid} acquire whose reply from Redis is lost succeeds, the session holding the lock`, { skip, timeout: 60_000 }, async () => {
    await using s = await setUp(true);
    const lock = await s.client.create<LockProxy | RLockProxy>(typeid);
    const name = lock.id.slice('r:'.length);
    const owner = () => s.plain.hget(`${s.prefix}:o:${name}:lock`, 'owner');
    // The acquire is the first write naming the lock since it was made.
    assert.equal(await withReplyLost(s, name, () => lock.acquire(), async () => (await owner()) !== null), true);
    const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
    assert.deepEqual(shown?.holds, [lock.id], 'the manager knows the session holds it');
    assert.equal(await lock.acquire({ blocking: false }), typeid === 'RLock', 'acquired once: a Lock is not free, an RLock goes one deeper');
    await lock.unlock();
    if (typeid === 'RLock') await lock.unlock();
    assert.equal(await owner(), null, 'released, it is free');
  });
}

test("a resumable session's Semaphore acquire whose reply from Redis is lost succeeds, one permit taken", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const semaphore = await s.client.create<SemaphoreProxy>('Semaphore', 2);
  const name = semaphore.id.slice('r:'.length);
  const free = async () => Number(await s.plain.hget(`${s.prefix}:o:${name}:sem`, 'value'));
  assert.equal(await withReplyLost(s, name, () => semaphore.acquire(), async () => (await free()) === 1), true);
  const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
  assert.deepEqual(shown?.holds, [semaphore.id], 'the manager knows the session holds a permit');
  assert.equal(await free(), 1, 'one permit taken');
  await semaphore.unlock();
  assert.equal(await free(), 2);
});

test("a resumable session's acquire of a held Lock whose reply from Redis is lost says it was not carried out, its ticket out of the line again", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const lock = await s.client.create<LockProxy>('Lock');
  const name = lock.id.slice('r:'.length);
  await using holder = await connect({ address: s.address, authkey: AUTHKEY, reconnect: false });
  assert.equal(await holder.callById(lock.id, 'acquire'), true);
  const line = () => s.plain.llen(`${s.prefix}:o:${name}:queue`);
  const waiting = withReplyLost(s, name, () => lock.acquire(), async () => (await line()) === 1);
  await assert.rejects(waiting, /was not carried out/);
  assert.equal(await line(), 0, 'its ticket left the line');
  await holder.callById(lock.id, 'release');
  assert.equal(await s.plain.exists(`${s.prefix}:o:${name}:lock`), 0, 'freed, the lock went to nobody');
});

test("a resumable session's acquire of a Semaphore with no permit free whose reply from Redis is lost says it was not carried out, its ticket out of the line again", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const semaphore = await s.client.create<SemaphoreProxy>('Semaphore', 1);
  const name = semaphore.id.slice('r:'.length);
  await using holder = await connect({ address: s.address, authkey: AUTHKEY, reconnect: false });
  assert.equal(await holder.callById(semaphore.id, 'acquire'), true);
  const line = () => s.plain.llen(`${s.prefix}:o:${name}:queue`);
  const waiting = withReplyLost(s, name, () => semaphore.acquire(), async () => (await line()) === 1);
  await assert.rejects(waiting, /was not carried out/);
  assert.equal(await line(), 0, 'its ticket left the line');
  await holder.callById(semaphore.id, 'release');
  assert.equal(await s.plain.hget(`${s.prefix}:o:${name}:sem`, 'value'), '1', 'released, the permit is free: it went to no ticket');
});

for (const typeid of ['Lock', 'RLock'] as const) {
  test(`a resumable session's ${typeid} release whose reply from Redis is lost succeeds, released once`, { skip, timeout: 60_000 }, async () => {
    await using s = await setUp(true);
    const lock = await s.client.create<LockProxy | RLockProxy>(typeid);
    const name = lock.id.slice('r:'.length);
    const state = `${s.prefix}:o:${name}:lock`;
    assert.equal(await lock.acquire(), true);
    if (typeid === 'RLock') assert.equal(await lock.acquire(), true);
    // One level less: an RLock is still held, a Lock is free.
    const depth = async () => Number((await s.plain.hget(state, 'count')) ?? 0);
    await withReplyLost(s, name, () => lock.unlock(), async () => (await depth()) === (typeid === 'RLock' ? 1 : 0));
    assert.equal(await depth(), typeid === 'RLock' ? 1 : 0, 'released once');
    const holds = async () => (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId)?.holds;
    if (typeid === 'RLock') {
      assert.deepEqual(await holds(), [lock.id], 'the session still holds the RLock, one level deep');
      await lock.unlock();
    }
    assert.deepEqual(await holds(), [], 'the manager knows the session holds it no more');
    assert.equal(await s.plain.exists(state), 0, 'the lock is free');
  });
}

test("a resumable session's Semaphore release whose reply from Redis is lost succeeds, one permit given back once", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const semaphore = await s.client.create<SemaphoreProxy>('Semaphore', 1);
  const name = semaphore.id.slice('r:'.length);
  const free = async () => Number(await s.plain.hget(`${s.prefix}:o:${name}:sem`, 'value'));
  assert.equal(await semaphore.acquire(), true);
  await withReplyLost(s, name, () => semaphore.unlock(), async () => (await free()) === 1);
  assert.equal(await free(), 1, 'one permit given back, once');
  const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
  assert.deepEqual(shown?.holds, [], 'the manager knows the session holds no permit');
});

/** The stored state of an object kept whole (a dict, a list...), as Redis holds it ('' when none). */
const wholeState = (s: { plain: Redis; prefix: string }, id: string) => async () => (await s.plain.get(`${s.prefix}:o:${id.slice('r:'.length)}:state`)) ?? '';

/** How many times `text` occurs in `within`. */
const occurrences = (within: string, text: string) => within.split(text).length - 1;

test("a resumable session's dict __setitem__ whose reply from Redis is lost answers None, the value stored once", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const d = await s.client.create<DictProxy<string>>('dict');
  const state = wholeState(s, d.id);
  const set = await withReplyLost(s, 'set-while-lost', () => s.client.callById(d.id, '__setitem__', ['k', 'set-while-lost']), async () => (await state()).includes('set-while-lost'));
  assert.equal(set, null, 'the call answers None');
  assert.equal(await d.get('k'), 'set-while-lost');
  assert.equal(await s.client.callById(d.id, '__len__'), 1);
});

test("a resumable session's list append and pop whose replies from Redis are lost are each carried out once, the pop answering its item", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const l = await s.client.create<DynamicProxy>('list', ['first']);
  const state = wholeState(s, l.id);
  assert.equal(await withReplyLost(s, 'appended-while-lost', () => s.client.callById(l.id, 'append', ['appended-while-lost']), async () => (await state()).includes('appended-while-lost')), null);
  assert.equal(occurrences(await state(), 'appended-while-lost'), 1, 'appended once');
  assert.deepEqual(await s.client.callById(l.id, '__getitem__', [1]), 'appended-while-lost');
  const popped = await withReplyLost(s, 'appended-while-lost', () => l.pop(), async () => !(await state()).includes('appended-while-lost'));
  assert.equal(popped, 'appended-while-lost', 'the pop answers with the item it took');
  assert.equal(await s.client.callById(l.id, '__len__'), 1, 'popped once: the first item is still there');
});

test("a resumable session's dict __setitem__ whose save Redis refused (another manager changed the dict first) and whose reply was lost says it was not carried out, nothing stored", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const d = await s.client.create<DictProxy<string>>('dict');
  const state = wholeState(s, d.id);
  // Another manager, straight to Redis, changes the dict while this one's save is held on its way.
  await using other = await startManager({ store: redis.url, storePrefix: s.prefix });
  await using otherClient = await connect({ address: other.address, authkey: AUTHKEY, reconnect: false });
  // What Redis runs, as MONITOR shows it: the save, once it ran.
  const store = new URL(redis.url);
  const monitor = netConnect(Number(store.port), store.hostname);
  let shown = '';
  monitor.setEncoding('utf8');
  monitor.on('data', (chunk: string) => (shown += chunk));
  monitor.write('MONITOR\r\n');
  const saveRan = () => shown.split('\n').some((line) => /"eval(sha)?"/i.test(line) && line.includes('never-saved'));
  try {
    s.relay.holdUpstreamFrom('never-saved');
    const set = s.client.callById(d.id, '__setitem__', ['k', 'never-saved']);
    set.catch(() => {});
    await s.relay.untilUpstream('never-saved', 1);
    await otherClient.callById(d.id, '__setitem__', ['other', 'saved-first']);
    s.relay.dropDownstream();
    s.relay.releaseUpstream();
    await eventually('Redis ran the save', async () => saveRan(), (ran) => ran);
    s.relay.cut();
    s.relay.mend();
    await assert.rejects(set, /was not carried out/);
    assert.equal(saveRan(), true, 'Redis ran the save, which found the dict changed');
    assert.doesNotMatch(await state(), /never-saved/, 'nothing of the call was stored');
    assert.deepEqual(await s.client.callById(d.id, '__len__'), 1, 'the other change is there');
  } finally {
    monitor.destroy();
  }
});

test("a resumable session's Event set and clear whose replies from Redis are lost succeed", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const event = await s.client.create<EventProxy>('Event');
  const name = event.id.slice('r:'.length);
  const flag = () => s.plain.hget(`${s.prefix}:o:${name}:event`, 'flag');
  await withReplyLost(s, name, () => event.set(), async () => (await flag()) === '1');
  assert.equal(await event.isSet(), true);
  await withReplyLost(s, name, () => event.clear(), async () => (await flag()) === '0');
  assert.equal(await event.isSet(), false);
});

/**
 * A resumable session's acquire of `typeid` (one permit for a Semaphore), held through another
 * manager (straight to Redis), waits with a timeout; from its timeout on, the manager's writes are
 * held, so its leave (the ticket out of the line, `smLockLeave`/`smSemLeave`) waits on its way
 * while the holder releases, handing the lock or permit to the ticket leaving; then Redis runs the
 * leave, which keeps what was handed (a timeout that lost the race), while its reply is dropped.
 * `handed()` reads whether the ticket still waits to take up what it was handed. Returns the acquire.
 */
async function timedOutAsHanded(
  s: Awaited<ReturnType<typeof setUp>>,
  typeid: 'Lock' | 'Semaphore',
  handed: (name: string) => Promise<boolean>,
): Promise<{ acquired: Promise<boolean>; proxy: LockProxy | SemaphoreProxy } & AsyncDisposable> {
  const proxy = await s.client.create<LockProxy | SemaphoreProxy>(typeid, ...(typeid === 'Semaphore' ? [1] : []));
  const name = proxy.id.slice('r:'.length);
  const other = await startManager({ store: redis.url, storePrefix: s.prefix });
  const holder = await connect({ address: other.address, authkey: AUTHKEY, reconnect: false });
  assert.equal(await holder.callById(proxy.id, 'acquire'), true);
  const leaves = '$7\r\ntimeout\r\n';
  const before = s.relay.countUpstream(leaves);
  // Long enough that the waiter is seen in line and the relay holds the manager's writes before it times out.
  const acquired = proxy.acquire({ timeout: 4 });
  acquired.catch(() => {});
  await eventually('the waiter in line', () => s.plain.llen(`${s.prefix}:o:${name}:queue`), (n) => n === 1);
  s.relay.holdUpstreamFrom(leaves);
  await s.relay.untilUpstream(leaves, before + 1);
  await holder.callById(proxy.id, 'release');
  assert.equal(await handed(name), true, 'the holder handed it to the waiter leaving');
  s.relay.dropDownstream();
  s.relay.releaseUpstream();
  await eventually('Redis ran the leave', () => handed(name), (still) => !still);
  s.relay.cut();
  s.relay.mend();
  return {
    acquired,
    proxy,
    async [Symbol.asyncDispose]() {
      await holder.close();
      await other[Symbol.asyncDispose]();
    },
  };
}

test("a resumable session's Lock acquire timing out as the lock is handed to it, the leave's reply from Redis lost, answers True, the session holding the lock", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const state = (name: string) => `${s.prefix}:o:${name}:lock`;
  await using race = await timedOutAsHanded(s, 'Lock', async (name) => (await s.plain.hget(state(name), 'ticket')) !== null);
  assert.equal(await race.acquired, true, 'the acquire answers True: it kept the lock handed to it');
  const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
  assert.deepEqual(shown?.holds, [race.proxy.id], 'the manager knows the session holds it');
  await race.proxy.unlock();
  assert.equal(await s.plain.exists(state(race.proxy.id.slice('r:'.length))), 0, 'released, the lock is free');
});

test("a resumable session's Semaphore acquire timing out as a permit is handed to it, the leave's reply from Redis lost, answers True, the session holding the permit", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(true);
  const key = (name: string, part: string) => `${s.prefix}:o:${name}:${part}`;
  await using race = await timedOutAsHanded(s, 'Semaphore', async (name) => (await s.plain.scard(key(name, 'granted'))) === 1);
  assert.equal(await race.acquired, true, 'the acquire answers True: it kept the permit handed to it');
  const shown = (await s.client.inspection.snapshot()).sessions.find((session) => session.sessionId === s.client.sessionId);
  assert.deepEqual(shown?.holds, [race.proxy.id], 'the manager knows the session holds a permit');
  const name = race.proxy.id.slice('r:'.length);
  assert.equal(await s.plain.hget(key(name, 'sem'), 'value'), '0', 'the one permit is taken');
  await race.proxy.unlock();
  assert.equal(await s.plain.hget(key(name, 'sem'), 'value'), '1', 'released, the permit is free');
});

/**
 * Cuts the connection to Redis while a read's script (the first sent holding `text`) is on its way,
 * so that it never reaches Redis: `read` must say it was not carried out, and read `expected` once
 * Redis is back.
 */
async function readCutOnItsWay<T>(s: { relay: TcpRelay }, text: string, read: () => Promise<T>, expected: T): Promise<void> {
  const before = s.relay.countUpstream(text);
  s.relay.holdUpstreamFrom(text);
  const first = read();
  first.catch(() => {});
  await s.relay.untilUpstream(text, before + 1);
  s.relay.cut();
  s.relay.releaseUpstream();
  s.relay.mend();
  await assert.rejects(first, /was not carried out.*try again/);
  assert.deepEqual(await eventually('the read made again', () => read().catch(() => undefined), (value) => value !== undefined, 20_000), expected);
}

test('a dict read whose reply from Redis is lost says it was not carried out: reading the dict had no effect', { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const d = await s.client.create<DictProxy<string>>('dict');
  await d.set('k', 'v');
  await readCutOnItsWay(s, `${d.id.slice('r:'.length)}:state`, () => d.get('k'), 'v');
});

test('an Event read whose reply from Redis is lost says it was not carried out: reading the event had no effect', { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const event = await s.client.create<EventProxy>('Event');
  await event.set();
  await readCutOnItsWay(s, event.id.slice('r:'.length), () => event.isSet(), true);
});

test('a Lock read whose reply from Redis is lost says it was not carried out: locked() had no effect', { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const lock = await s.client.create<LockProxy>('Lock');
  await lock.acquire();
  await readCutOnItsWay(s, lock.id.slice('r:'.length), () => lock.locked(), true);
});

test('a queue read whose reply from Redis is lost says it was not carried out: qsize() had no effect', { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const q = await s.client.create<QueueProxy<string>>('Queue');
  await q.put('one');
  await readCutOnItsWay(s, q.id.slice('r:'.length), () => q.qsize(), 1);
});

test("a Barrier's attribute read whose reply from Redis is lost says it was not carried out: n_waiting had no effect", { skip, timeout: 60_000 }, async () => {
  await using s = await setUp(false);
  const barrier = await s.client.create<BarrierProxy>('Barrier', 2);
  await readCutOnItsWay(s, barrier.id.slice('r:'.length), () => barrier.nWaiting(), 0);
});
