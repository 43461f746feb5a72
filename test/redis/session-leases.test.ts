/**
 * Session leases in a Redis group (src/server/store/redisSessions.ts), driven through stores on
 * one prefix as managers drive them: a session kept by a live manager is not taken over (the
 * refusal names its keeper); once that manager's lease is gone, exactly one of two managers
 * taking it over at once wins; a session that ends on its manager gives back at once; the store
 * never holds the token itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/server/store/redisStore';
import { SessionNotAdoptable } from '../../src/server/store/objectStore';
import { sessionLeaseId } from '../../src/server/store/redisSessions';
import { parseStoreAddress, type RedisStoreAddress } from '../../src/server/store/storeUrl';
import type { RedisLock } from '../../src/server/store/redisLocks';
import type { RedisBoundedSemaphore } from '../../src/server/store/redisSemaphores';
import { tokenDigest } from '../../src/server/jsonrpc/resumeTokens';
import { MAX_KEPT_ANSWERS } from '../../src/server/jsonrpc/answerLog';
import { redisForTests } from '../helpers/redisServer';
import { eventually } from '../helpers/until';
import { AUTHKEY, RawClient, startManager } from '../helpers/manager';
import type { Manager } from '../../src/server';
import { connect, type LockProxy } from '../../src/client';
import { validateMessage } from '../protocol/schemaValidator';

const redis = redisForTests('sessionlease');
const { skip } = redis;

/** Three stores on one prefix, as three managers of a group. */
async function managers(): Promise<{ a: RedisStore; b: RedisStore; c: RedisStore; plain: Redis; prefix: string } & AsyncDisposable> {
  const prefix = redis.prefix();
  const address = parseStoreAddress(redis.url) as RedisStoreAddress;
  const [a, b, c] = [new RedisStore(address, prefix), new RedisStore(address, prefix), new RedisStore(address, prefix)];
  for (const store of [a, b, c]) await store.open();
  const plain = new Redis(redis.url);
  return {
    a,
    b,
    c,
    plain,
    prefix,
    async [Symbol.asyncDispose]() {
      plain.disconnect();
      await Promise.all([a.close(), b.close(), c.close()]);
    },
  };
}

const agreed = JSON.stringify({ protocolVersion: '1.3', serverInfo: { name: 'syncmanager', version: '0' }, capabilities: { resume: { withinMs: 60_000 } } });

test('a session its manager keeps alive is not taken over; once that manager is gone exactly one of two takes it, with its lock and permits', { skip, timeout: 30_000 }, async () => {
  await using m = await managers();
  const token = 'a-resume-token-for-this-test-only';
  m.a.keep('s1', tokenDigest(token), 60_000, agreed);
  // The managers of the group serve the same shared objects, made when each starts.
  const [lock] = [m.a, m.b, m.c].map((s) => s.sharedObject('get_lock', 'Lock', [], {}) as RedisLock);
  const [permits] = [m.a, m.b, m.c].map((s) => s.sharedObject('get_permits', 'BoundedSemaphore', [2], {}) as RedisBoundedSemaphore);
  assert.equal(await lock!.acquire(true, -1, { sessionId: 's1' }), true);
  assert.equal(await permits!.acquire(true, null, { sessionId: 's1' }), true);
  const heldBy = new Map<string, string[]>();
  const holder = (sessionId: string) => (objectId: string) => ({ sessionId, hold: () => heldBy.set(sessionId, [...(heldBy.get(sessionId) ?? []), objectId]) });
  const dump = JSON.stringify(await m.plain.keys(`${m.prefix}:*`)) + JSON.stringify(await Promise.all((await m.plain.keys(`${m.prefix}:m:session-*:session`)).map((k) => m.plain.hgetall(k))));
  assert.ok(!dump.includes(token), 'the token itself is nowhere in Redis');
  await assert.rejects(m.b.adopt(tokenDigest(token), 's7', 0, holder('s7')), (e: unknown) => e instanceof SessionNotAdoptable && e.keptBy === m.a.managerId);
  // A dies: its lease goes (as it runs out), and nobody renews anything of it any more.
  await m.a.close();
  const outcomes = await Promise.allSettled([m.b.adopt(tokenDigest(token), 's7', 0, holder('s7')), m.c.adopt(tokenDigest(token), 's8', 0, holder('s8'))]);
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  assert.equal(won.length, 1, 'exactly one manager takes the session over');
  const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
  assert.ok(loser.reason instanceof SessionNotAdoptable && loser.reason.keptBy !== undefined, 'the other is told who keeps it now');
  const [winner, sessionId] = outcomes[0]!.status === 'fulfilled' ? [m.b, 's7'] : [m.c, 's8'];
  const loserStore = winner === m.b ? m.c : m.b;
  assert.deepEqual([...heldBy.keys()], [sessionId], 'only the winner\'s session holds anything');
  assert.deepEqual(heldBy.get(sessionId)!.sort(), ['r:shared:get_lock', 'r:shared:get_permits'], 'it holds the lock and the permits on its new manager');
  // The survivors' reaping of A leaves the session's lock alone.
  await winner.reapDeadManagers();
  await loserStore.reapDeadManagers();
  const asWinner = winner.sharedObject('get_lock', 'Lock', [], {}) as RedisLock;
  const elsewhere = loserStore.sharedObject('get_lock', 'Lock', [], {}) as RedisLock;
  assert.equal(await elsewhere.acquire(false, -1, { sessionId: 'other' }), false, 'the lock is still the session\'s');
  // Its new manager acts for it under its owner id: it may release what it took through A.
  await asWinner.release({ sessionId });
  assert.equal(await elsewhere.acquire(false, -1, { sessionId: 'other' }), true);
});

test('a session that ends for good on its manager gives back at once, and leaves nothing of it in the group', { skip, timeout: 30_000 }, async () => {
  await using m = await managers();
  const token = 'another-resume-token-for-this-test';
  m.a.keep('s1', tokenDigest(token), 60_000, agreed);
  const lock = m.a.sharedObject('get_lock', 'Lock', [], {}) as RedisLock;
  assert.equal(await lock.acquire(true, -1, { sessionId: 's1' }), true);
  const elsewhere = m.b.sharedObject('get_lock', 'Lock', [], {}) as RedisLock;
  assert.equal(await elsewhere.acquire(false, -1, { sessionId: 'x' }), false);
  m.a.ended('s1');
  assert.equal(await elsewhere.acquire(true, 10, { sessionId: 'x' }), true, 'the lock went back when the session ended');
  await eventually('the session lease gone from the group', () => m.plain.keys(`${m.prefix}:m:session-*`), (keys) => keys.length === 0);
  await assert.rejects(m.b.adopt(tokenDigest(token), 's9', 0, () => ({ sessionId: 's9' })), (e: unknown) => e instanceof SessionNotAdoptable && e.keptBy === undefined);
});

test('over the wire: a manager of the group refuses a session another live manager keeps, naming it, and a detached session too', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  await using a = await startManager({ store: redis.url, storePrefix: prefix });
  await using b = await startManager({ store: redis.url, storePrefix: prefix });
  const first = await RawClient.open(a.address, { initialize: false });
  const init = await first.request('initialize', { protocolVersion: '1.3', capabilities: { resume: { withinMs: 60_000 } } });
  const token = init.result.resumeToken as string;
  const plain = new Redis(redis.url);
  try {
    const aId = (await a.groupView()).managers.find((m) => m.self)!.managerId;
    for (const state of ['attached', 'detached']) {
      if (state === 'detached') first.close();
      const other = await RawClient.open(b.address, { initialize: false });
      const refused = await other.request('initialize', { protocolVersion: '1.3', capabilities: { resume: { withinMs: 60_000, token, answersSeen: 0 } } });
      assert.deepEqual(validateMessage(refused, 'initialize'), [], 'the refusal is a valid message');
      assert.equal(refused.error?.code, -31012, `${state}: SessionNotResumable`);
      assert.equal(refused.error.data.keptBy, aId, `${state}: the refusal names the manager that keeps the session`);
      other.close();
    }
    // A resumes it itself, as without a group.
    const back = await RawClient.open(a.address, { initialize: false });
    const resumed = await back.request('initialize', { protocolVersion: '1.3', capabilities: { resume: { withinMs: 60_000, token, answersSeen: 0 } } });
    assert.deepEqual([resumed.result?.resumed, resumed.result?.answersLost], [true, undefined]);
    back.close();
  } finally {
    first.close();
    plain.disconnect();
  }
});

test('a manager cut off from Redis longer than its lease ends its sessions without giving back what a resumable one holds: it stays resumable in the group, there too', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  await using a = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 300 });
  await using b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 300 });
  const plain = new Redis(redis.url);
  const client = await connect({ address: a.address, authkey: AUTHKEY, resume: { withinMs: 60_000 }, reconnect: { initialDelayMs: 10, maxDelayMs: 50, maxMs: 20_000 } });
  const other = await connect({ address: b.address, authkey: AUTHKEY, reconnect: false });
  try {
    const lock = await client.create<LockProxy>('Lock');
    assert.equal(await lock.acquire(), true);
    const aId = (await a.groupView()).managers.find((m) => m.self)!.managerId;
    const row = (await b.groupView()).objects.find((o) => o.id === lock.id);
    assert.deepEqual(row?.managers, [aId], 'the group view names the manager whose client holds the object, not the session\'s own lease');
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    // As if A had been cut off from Redis for longer than its lease: it ends its sessions.
    await plain.del(`${prefix}:m:${aId}`);
    assert.equal((await restored).resumed, true, 'the client resumed its session, through A again');
    assert.equal(await other.callById(lock.id, 'acquire', [false]), false, 'A ending its sessions did not give back what the resumable one holds');
    await lock.unlock();
    assert.equal(await other.callById(lock.id, 'acquire', [false]), true);
  } finally {
    await client.close();
    await other.close();
    plain.disconnect();
  }
});

/**
 * Runs `body` with a manager of a group of its own (`setup` registers on it), a raw client of it in
 * a resumable session (with `capabilities` besides), the Redis key of that session's answers in the
 * group, and a Redis connection of the test's; closes them all after.
 */
async function inResumableSession(
  body: (c: RawClient, answers: string, plain: Redis) => Promise<void>,
  { capabilities = {}, setup }: { capabilities?: Record<string, unknown>; setup?: (m: Manager) => void } = {},
): Promise<void> {
  const prefix = redis.prefix();
  await using a = await startManager({ store: redis.url, storePrefix: prefix }, setup);
  const plain = new Redis(redis.url);
  const c = await RawClient.open(a.address, { initialize: false });
  try {
    const init = await c.request('initialize', { protocolVersion: '1.3', capabilities: { resume: { withinMs: 60_000 }, ...capabilities } });
    await body(c, `${prefix}:m:${sessionLeaseId(tokenDigest(init.result.resumeToken))}:answers`, plain);
  } finally {
    c.close();
    plain.disconnect();
  }
}

test("a resumable session's answers kept in the group go as the client counts them, and with the session", { skip, timeout: 30_000 }, async () => {
  await inResumableSession(async (c, answers, plain) => {
    const q = (await c.request('object/create', { typeid: 'Queue' })).result.id;
    for (let i = 0; i < 3; i++) assert.equal((await c.request('object/call', { id: q, method: 'put', args: [i] })).error, undefined);
    assert.equal((await c.request('object/call', { id: q, method: 'qsize' })).result, 3);
    // The create (marked as started) and the three puts (their answers); the qsize only read.
    assert.equal(await plain.hlen(answers), 4);
    assert.ok((await plain.pttl(answers)) > 0, 'the answers last as the session lease does');
    c.sendJson({ jsonrpc: '2.0', method: '$/answersSeen', params: { count: 3 } });
    await eventually('the answers the client counted forgotten', () => plain.hlen(answers), (n) => n === 1);
    assert.equal((await c.request('object/call', { id: q, method: 'get' })).result, 0);
    assert.equal(await plain.hlen(answers), 2);
    // An edit of inspection has an effect too, and no answer kept: marked as started.
    assert.equal((await c.request('inspect/removeItem', { id: q, index: 0, expected: 1 })).result?.total, 1);
    assert.equal(await plain.hlen(answers), 3);
    await c.request('shutdown', {});
    await eventually('the answers gone with the session', () => plain.exists(answers), (n) => n === 0);
  }, { capabilities: { inspection: true } });
});

test("a client that never counts its answers does not grow the group's answers record past the session's bound", { skip, timeout: 120_000 }, async () => {
  await inResumableSession(async (c, answers, plain) => {
    const q = (await c.request('object/create', { typeid: 'Queue' })).result.id;
    // Every put records its answer; the client never sends $/answersSeen.
    const calls = MAX_KEPT_ANSWERS + 200;
    for (let sent = 0; sent < calls; sent += 500) {
      for (let i = sent; i < Math.min(calls, sent + 500); i++) c.send('object/call', { id: q, method: 'put', args: [i] });
      for (let i = sent; i < Math.min(calls, sent + 500); i++) assert.equal((await c.next(30_000)).error, undefined);
    }
    const kept = await eventually('the oldest records dropped', () => plain.hlen(answers), (n) => n <= MAX_KEPT_ANSWERS + 1);
    assert.ok(kept >= MAX_KEPT_ANSWERS - 1, `the latest answers are still kept (${kept})`);
  });
});

test('a takeover is refused when answers the client lacks were dropped past the bound, as a resumption on the same manager is', { skip, timeout: 30_000 }, async () => {
  await using m = await managers();
  const token = 'a-token-whose-answers-were-dropped';
  m.a.keep('s1', tokenDigest(token), 60_000, agreed);
  // The session's manager dropped answers 1 to 5 unacknowledged (its bound), and their records.
  m.a.answersDropped('s1', [1, 2, 3, 4, 5], 5);
  await m.a.close();
  await assert.rejects(m.b.adopt(tokenDigest(token), 's7', 4, () => ({ sessionId: 's7' })), (e: unknown) => e instanceof SessionNotAdoptable && e.keptBy === undefined && /dropped/.test(e.message));
  const adopted = await m.b.adopt(tokenDigest(token), 's7', 5, () => ({ sessionId: 's7' }));
  assert.deepEqual([...adopted.answers.keys()], [], 'what marks the drop is not an answer');
});

test("a user-registered class's own methods are never taken for the store's: a call on its object is marked as started, whatever the class names its methods", { skip, timeout: 30_000 }, async () => {
  // A class that happens to have a method of the name the store's objects use to say they record their answers.
  class Ledger {
    entries = 0;
    add(): number {
      return ++this.entries;
    }
    answersRecorded(): boolean {
      return true;
    }
  }
  const setup = (m: Manager) => m.register('Ledger', { callable: Ledger, exposed: ['add', 'answersRecorded'] });
  await inResumableSession(async (c, answers, plain) => {
    const ledger = (await c.request('object/create', { typeid: 'Ledger' })).result.id;
    const id = c.send('object/call', { id: ledger, method: 'add' });
    assert.equal((await c.next()).result, 1);
    assert.equal(await plain.hget(answers, JSON.stringify(id)), '?', 'the call, whose effect Redis does not record, was marked as started');
  }, { setup });
});
