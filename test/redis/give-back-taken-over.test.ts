/**
 * A resumable session's get that took an item while the session was detached holds the item in
 * its answer record in Redis. When its manager (A) is cut off from Redis longer than its lease,
 * another manager of the group (B) takes the session over and answers the get, sent again, from
 * that record. A, back on Redis, must not give the item back too: the client has it, so the queue
 * would hold it a second time. Nor when B takes the session over after A checked who hosts it and
 * before A's give-back ran: the check is made in the give-back's own script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';

const redis = redisForTests('takenover');
const { skip } = redis;

/**
 * Two managers on one prefix, A reaching Redis through `storeRelay` (its log kept), and a
 * resumable client ('taker') that reaches A through `relayA` and B directly or, with `relayToB`,
 * through `relayB`; its get of the shared `get_task_queue` waits on A. `other`'s proxy is on B.
 */
async function takerWaitingOnA(relayToB: boolean) {
  const prefix = redis.prefix();
  const store = new URL(redis.url);
  const held: AsyncDisposable[] = [];
  const keep = <D extends AsyncDisposable>(d: D): D => {
    held.push(d);
    return d;
  };
  const release = async (): Promise<void> => {
    for (const d of held.reverse()) await d[Symbol.asyncDispose]();
  };
  try {
    const storeRelay = keep(await startRelay(`${store.hostname}:${store.port}`));
    const logA: string[] = [];
    const shared = (m: { register(typeid: string, options: { shared: 'Queue' }): void }) => m.register('get_task_queue', { shared: 'Queue' });
    const a = keep(await startManager({ store: `redis://${storeRelay.address}`, storePrefix: prefix, storeLeaseMs: 1000, log: (line) => logA.push(line) }, shared));
    const b = keep(await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 1000 }, shared));
    const relayA = keep(await startRelay(a.address));
    const relayB = relayToB ? keep(await startRelay(b.address)) : undefined;
    const plain = new Redis(redis.url);
    held.push({ [Symbol.asyncDispose]: async () => plain.disconnect() });
    const observer = keep(await connect({ address: a.address, authkey: AUTHKEY, name: 'observer', reconnect: false }));
    const client = keep(
      await connect<{ get_task_queue: QueueProxy<unknown> }>({
        address: `${relayA.address},${relayB?.address ?? b.address}`,
        authkey: AUTHKEY,
        name: 'taker',
        resume: { withinMs: 30_000 },
        reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxMs: 60_000 },
      }),
    );
    const other = keep(await connect<{ get_task_queue: QueueProxy<unknown> }>({ address: b.address, authkey: AUTHKEY, reconnect: false }));
    const sessionId = client.sessionId;
    const session = async () => (await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === sessionId);
    const got = (await client.get_task_queue()).get();
    got.catch(() => {});
    await eventually('the get waits on A', async () => (await session())?.pending.length, (n) => n === 1);
    return { prefix, storeRelay, a, logA, relayA, relayB, plain, session, got, theirs: await other.get_task_queue(), items: `${prefix}:o:shared:get_task_queue:items`, [Symbol.asyncDispose]: release };
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
}

test('an item a detached session took, its session taken over by another manager while its own was cut off from Redis, is not given back by the first manager once it is back', { skip, timeout: 90_000 }, async () => {
  await using s = await takerWaitingOnA(false);
  const { storeRelay, a, logA, plain, theirs, items } = s;
  // The client's connection to A goes: the session waits on A, detached, its get still waiting.
  s.relayA.cut();
  await eventually('the session is detached on A', async () => (await s.session())?.resumableUntil !== undefined, (detached) => detached);
  await theirs.put(7);
  await eventually("the detached session's get took the item", async () => (await plain.exists(items)) === 0 && (await theirs.qsize()) === 0, (taken) => taken);
  // A is cut off from Redis: its lease lapses, and B takes the session over, answering the get from its record.
  storeRelay.cut();
  assert.equal(await s.got, 7, 'the get is answered with the item it took, on B');
  storeRelay.mend();
  await eventually("A found its lease lapsed and ended its sessions", async () => logA.some((line) => /lease ran out/.test(line)), (found) => found, 20_000);
  // A call through A after that runs after any give-back A made then.
  await using later = await connect<{ get_task_queue: QueueProxy<number> }>({ address: a.address, authkey: AUTHKEY, reconnect: false });
  await eventually('A serves again', () => later.get_task_queue().then((q) => q.qsize()).catch(() => -1), (n) => n >= 0, 20_000);
  assert.equal(await plain.llen(items), 0, 'the item the client got is not in the queue again');
  await eventually('A said why it did not give the item back', async () => logA.some((line) => /is not given back: another manager took its session over/.test(line)), (said) => said, 20_000);
  assert.equal(await plain.llen(items), 0);
  assert.equal(await theirs.qsize(), 0);
});

test("a detached session's item given back by its first manager while another manager takes the session over (after the first read who hosts it, before its give-back ran) is not given back", { skip, timeout: 90_000 }, async () => {
  const ITEM = 'item-taken-over';
  await using s = await takerWaitingOnA(true);
  const { prefix, storeRelay, a, logA, plain, theirs, items } = s;
  const relayB = s.relayB!;
  // The client can reach neither manager: the session waits on A, detached, its get still waiting.
  relayB.cut();
  s.relayA.cut();
  await eventually('the session is detached on A', async () => (await s.session())?.resumableUntil !== undefined, (detached) => detached);
  await theirs.put(ITEM);
  await eventually("the detached session's get took the item", async () => (await plain.exists(items)) === 0 && (await theirs.qsize()) === 0, (taken) => taken);
  // A is cut off from Redis longer than its lease. Back, it ends its sessions and gives the item back:
  // the give-back (the first write holding the item's text) is held, whatever A read before it.
  const puts = storeRelay.countUpstream(ITEM);
  const managers = await plain.smembers(`${prefix}:managers`);
  storeRelay.cut();
  await eventually("A's lease ran out", async () => (await Promise.all(managers.map((id) => plain.exists(`${prefix}:m:${id}`)))).includes(0), (lapsed) => lapsed, 20_000);
  storeRelay.holdUpstreamFrom(ITEM);
  storeRelay.mend();
  await storeRelay.untilUpstream(ITEM, puts + 1);
  // Meanwhile (A's lease lapsed, its renewals held too) the client reaches B, which takes the session over and answers the get from its record.
  relayB.mend();
  assert.equal(await s.got, ITEM, 'the get is answered with the item it took, on B');
  storeRelay.releaseUpstream();
  // A call through A after that runs after the give-back A sent.
  await using later = await connect<{ get_task_queue: QueueProxy<string> }>({ address: a.address, authkey: AUTHKEY, reconnect: false });
  await eventually('A serves again', () => later.get_task_queue().then((q) => q.qsize()).catch(() => -1), (n) => n >= 0, 20_000);
  assert.equal(await plain.llen(items), 0, 'the item the client got is not in the queue again');
  await eventually('A said why it did not give the item back', async () => logA.some((line) => /is not given back: another manager took its session over/.test(line)), (said) => said, 20_000);
  assert.equal(await theirs.qsize(), 0);
});
