/**
 * Resumption across a Redis group (SPEC 20.4.1): two managers on one Redis and prefix, as
 * separate `syncmanager serve` processes. A client with `resume`, given both addresses, holds a
 * lock and an unacknowledged delivery through A; A is SIGKILLed by PID; the client resumes its
 * session on B: it still holds the lock (a client of B does not get it, even once the survivors
 * have reaped A), acknowledges its delivery there, and its proxies work. A session that is not
 * resumed within its window has its lock released and its delivery given back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type DictProxy, type LockProxy, type QueueProxy } from '../../src/client';
import { AUTHKEY } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { killServer, type ServerProcess } from '../helpers/serverProcess';
import { groupProcesses } from '../helpers/groupProcesses';
import { eventually } from '../helpers/until';
import { join } from 'node:path';
import { python3s, pythonEnv, root, startPython } from '../python/helpers';

const redis = redisForTests('resumegroup');
const { skip } = redis;
const { serveInGroup } = groupProcesses(redis);

/** Two managers of one group, A started first so that the group's first member is A. */
async function group(): Promise<{ a: ServerProcess; b: ServerProcess; aId: string; plain: Redis; prefix: string }> {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  const a = await serveInGroup(prefix);
  const [aId] = await plain.smembers(`${prefix}:managers`);
  const b = await serveInGroup(prefix);
  return { a, b, aId: aId!, plain, prefix };
}

/** A test's end: its clients closed, then the group's Redis connection, then manager B (A is dead by then, or `after` kills it). */
async function leave(g: { b: ServerProcess; plain: Redis }, ...clients: { close(): Promise<unknown> }[]): Promise<void> {
  for (const client of clients) await client.close();
  g.plain.disconnect();
  await killServer(g.b);
}

const fast = { initialDelayMs: 20, maxDelayMs: 200, maxMs: 60_000 };

test('a session with resume whose manager is SIGKILLed resumes on another manager of the group, keeping its lock, its delivery and its proxies', { skip, timeout: 90_000 }, async () => {
  const g = await group();
  const { a, b, aId, plain, prefix } = g;
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: `${a.address},${b.address}`, authkey: AUTHKEY, resume: { withinMs: 30_000 }, reconnect: fast });
  const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: b.address, authkey: AUTHKEY, reconnect: false });
  try {
    const lock = await client.create<LockProxy>('Lock');
    const notes = await client.create<DictProxy<number>>('dict');
    const tasks = await client.get_task_queue();
    assert.equal(await lock.acquire(), true);
    await notes.set('seen', 1);
    await tasks.put(7);
    const delivery = await tasks.get({ ack: true });
    assert.equal(delivery.value, 7);
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    await killServer(a);
    assert.equal((await restored).resumed, true, 'the session was resumed, not started anew');
    // The survivors reap A once its lease runs out: what the session holds is not A's to give back.
    await eventually('A reaped by the survivor', () => plain.smembers(`${prefix}:managers`), (ids) => !ids.includes(aId));
    assert.equal(await other.callById(lock.id, 'acquire', [false]), false, 'a client of B does not get the lock the resumed session holds');
    const snapshot = await client.inspection.snapshot();
    const shown = snapshot.sessions.find((s) => s.sessionId === client.sessionId);
    const lockRow = snapshot.objects.find((o) => o.id === lock.id);
    assert.equal((lockRow?.details as { owner?: string } | undefined)?.owner, client.sessionId, 'B shows the lock owned by the session, by its id there');
    assert.ok(shown?.holds?.includes(lock.id), `B's inspection shows the session holding the lock: ${JSON.stringify(shown)}`);
    assert.deepEqual(shown?.deliveries?.map((d) => d.deliveryId), [delivery.deliveryId], 'and its delivery in flight');
    // Acknowledged through B, where only the resumed session's references name the queue: the delivery is still the session's.
    await delivery.ack();
    assert.equal(await tasks.qsize(), 0, 'the acknowledged item is gone for good');
    assert.equal(await notes.get('seen'), 1, 'a proxy of an object the session created works through B');
    await lock.unlock();
    assert.equal(await other.callById(lock.id, 'acquire', [false]), true, 'released by its holder, the lock is free');
  } finally {
    await leave(g, client, other);
  }
});

test('a session whose manager died and which is not resumed within its window has its lock released and its delivery given back', { skip, timeout: 90_000 }, async () => {
  const g = await group();
  const { a, b } = g;
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: a.address, authkey: AUTHKEY, resume: { withinMs: 1500 }, reconnect: fast });
  const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: b.address, authkey: AUTHKEY, reconnect: false });
  try {
    const lock = await client.create<LockProxy>('Lock');
    const tasks = await client.get_task_queue();
    assert.equal(await lock.acquire(), true);
    await tasks.put(9);
    assert.equal((await tasks.get({ ack: true })).value, 9);
    // The client goes too, so nobody resumes the session.
    await killServer(a);
    await client.close();
    assert.equal(await other.callById(lock.id, 'acquire', [true, 60]), true, 'the lock went to a waiter once the window passed');
    const again = await (await other.get_task_queue()).get({ ack: true, timeout: 60 });
    assert.deepEqual([again.value, again.redelivered], [9, true], 'the delivery went back to its queue');
    await again.ack();
  } finally {
    await leave(g, client, other);
  }
});

test('calls waiting when the manager died are sent again after the takeover and carried out once there; what the dead ones waited for goes to nobody', { skip, timeout: 90_000 }, async () => {
  const g = await group();
  const { a, b, plain, prefix } = g;
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: `${a.address},${b.address}`, authkey: AUTHKEY, resume: { withinMs: 30_000 }, reconnect: fast });
  const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: b.address, authkey: AUTHKEY, reconnect: false });
  try {
    const busy = await other.create<LockProxy>('Lock');
    assert.equal(await busy.acquire(), true);
    const theirs = await client.get_task_queue();
    // Waiting through A when A dies: a lock another client holds, and a get on an empty queue.
    const acquiring = client.callById(busy.id, 'acquire', []);
    const getting = theirs.get();
    acquiring.catch(() => {});
    getting.catch(() => {});
    const waiting = async () => [await plain.llen(`${prefix}:o:${busy.id.slice('r:'.length)}:queue`), await plain.exists(`${prefix}:o:shared:get_task_queue:waited`)];
    await eventually('both calls waiting on A', waiting, ([tickets, waited]) => tickets === 1 && waited === 1);
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    await killServer(a);
    assert.equal((await restored).resumed, true);
    // Their waits died with A and were withdrawn; the calls, sent again with their ids, wait on B.
    await eventually('both calls waiting again, on B', waiting, ([tickets, waited]) => tickets === 1 && waited === 1);
    await busy.unlock();
    assert.equal(await acquiring, true, 'the acquire sent again gets the lock');
    assert.equal(await other.callById(busy.id, 'acquire', [false]), false, 'held once, by the resumed session');
    await (await other.get_task_queue()).put(5);
    assert.equal(await getting, 5, 'the get sent again gets the item');
    assert.equal(await theirs.qsize(), 0, 'taken once');
  } finally {
    await leave(g, client, other);
  }
});

test('a delivery taken with a visibility timeout through a manager that died goes back when it passes, once the session is taken over', { skip, timeout: 90_000 }, async () => {
  const g = await group();
  const { a, b } = g;
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: `${a.address},${b.address}`, authkey: AUTHKEY, resume: { withinMs: 60_000 }, reconnect: fast });
  const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: b.address, authkey: AUTHKEY, reconnect: false });
  try {
    const tasks = await client.get_task_queue();
    await tasks.put(3);
    assert.equal((await tasks.get({ ack: true, visibilityTimeout: 1 })).value, 3);
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    await killServer(a);
    assert.equal((await restored).resumed, true);
    // The timer died with A; the session's new manager runs it (the session itself lives on for a minute).
    const again = await (await other.get_task_queue()).get({ ack: true, timeout: 30 });
    assert.deepEqual([again.value, again.redelivered], [3, true]);
    await again.ack();
  } finally {
    await leave(g, client, other);
  }
});

test('a session the group keeps while no manager serves it is listed by inspect/group, with its client and until when it can be resumed, until it is taken over', { skip, timeout: 90_000 }, async () => {
  const g = await group();
  const { a, b, aId, prefix } = g;
  const client = await connect({ address: a.address, authkey: AUTHKEY, name: 'kept-client', resume: { withinMs: 30_000 }, reconnect: fast });
  const other = await connect({ address: b.address, authkey: AUTHKEY, reconnect: false });
  let again: ServerProcess | undefined;
  try {
    const lock = await client.create<LockProxy>('Lock');
    assert.equal(await lock.acquire(), true);
    const sessionId = client.sessionId;
    assert.equal((await other.inspection.group()).keptSessions, undefined, 'served by A, the session is A\'s to list');
    await killServer(a);
    const view = await eventually('the session kept by the group', () => other.inspection.group(), (v) => (v.keptSessions ?? []).length > 0);
    const [kept] = view.keptSessions!;
    assert.deepEqual([kept!.sessionId, kept!.managerId, kept!.clientName], [sessionId, aId, 'kept-client']);
    assert.ok(kept!.resumableUntil > Date.now(), 'resumable for a while yet');
    assert.ok(!view.managers.some((m) => m.managerId === aId), 'A is gone from the managers');
    // A manager started again on A's address takes the session over: the group no longer keeps it alone.
    const restored = new Promise<{ resumed: boolean }>((resolve) => client.on('restored', resolve));
    again = await serveInGroup(prefix, { address: a.address });
    assert.equal((await restored).resumed, true);
    assert.equal((await other.inspection.group()).keptSessions, undefined, 'taken over, it is listed by its new manager');
  } finally {
    await leave(g, client, other);
    if (again) await killServer(again);
  }
});

const pythons = python3s().filter((p) => p.minor >= 8);
const python = pythons[pythons.length - 1];

for (const mode of ['list', 'restart'] as const) {
  const how = mode === 'list' ? 'on the next manager of its address list' : 'on a manager of the group started again on its address';
  test(`the Python JSON client resumes its session ${how}, keeping its lock`, { skip: skip || (python ? false : 'no CPython 3.8+ found'), timeout: 120_000 }, async () => {
    const g = await group();
    const { a, b, aId, plain, prefix } = g;
    const other = await connect<{ get_task_queue: QueueProxy<number> }>({ address: b.address, authkey: AUTHKEY, reconnect: false });
    const address = mode === 'list' ? `${a.address},${b.address}` : a.address;
    const py = startPython(python!, join(__dirname, '..', 'fixtures', 'group_resuming_client.py'), [], { ...pythonEnv(address, AUTHKEY), PYTHONPATH: join(root, 'clients', 'python') });
    let again: ServerProcess | undefined;
    try {
      const [, lockId] = await py.waitForLine(/^ready (\S+)$/);
      await eventually('its get waiting on A', () => plain.exists(`${prefix}:o:shared:get_task_queue:waited`), (n) => n === 1);
      await killServer(a);
      if (mode === 'restart') {
        // Started again on the same address: a new manager of the group, which never knew the session.
        again = await serveInGroup(prefix, { address: a.address });
      }
      await eventually('A reaped by the survivors', () => plain.smembers(`${prefix}:managers`), (ids) => !ids.includes(aId));
      assert.equal(await other.callById(lockId!, 'acquire', [false]), false, 'the lock is still the session\'s');
      // The get waiting on A when it died is sent again once the session is taken over, and answered there.
      await (await other.get_task_queue()).put(11);
      py.send('go');
      const [, json] = await py.waitForLine(/^outcome (.*)$/, 60_000);
      assert.deepEqual(JSON.parse(json!), { got: 11, lostCall: false, resumed: true, allAnswersLost: false, locked: true }, py.output());
      py.send('release');
      await py.waitForLine(/^released$/, 30_000);
      assert.equal(await other.callById(lockId!, 'acquire', [false]), true, 'released by the resumed session, the lock is free');
      py.send('close');
      assert.equal((await py.finished(30_000)).code, 0, py.output());
    } finally {
      py.kill('SIGKILL');
      await leave(g, other);
      if (again) await killServer(again);
    }
  });
}
