/**
 * A group of managers on one Redis: an object a client creates through manager A is served by
 * manager B under the same id (by id, or read back from a stored value); references are counted
 * across the group, so the object's keys go only when no manager refers to it, and a dead
 * manager's references are dropped by the survivor that reaps it. Objects of user-registered
 * classes stay in their manager: another one answers with a clear unknown-object error.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { DictProxy, QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import type { RedisStore } from '../../src/server/store/redisStore';
import { AUTHKEY, RawClient, startManager } from '../helpers/manager';
import { redisForTests, twoManagers } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { connect } from '../../src/client';
import { eventually } from '../helpers/until';
import { assertExitedCleanly, python3s, pythonEnv, runPython } from '../python/helpers';

const redis = redisForTests('group');
const { skip } = redis;

before(() => {
  if (!skip) buildCli();
});

type Shared = { shared_dict: DictProxy<unknown> };

class Counter {
  n = 0;
  increment(): number {
    return ++this.n;
  }
}

function groupManager(storePrefix: string, leaseMs?: number): Promise<Manager> {
  return startManager({ store: redis.url, storePrefix, storeLeaseMs: leaseMs }, (m) => m.register('shared_dict', { shared: 'dict' }).register('Counter', { callable: () => new Counter() }));
}

/** Every key of the object with group-wide id `id` under `prefix`. */
function keysOf(plain: Redis, prefix: string, id: string): Promise<string[]> {
  return plain.keys(`${prefix}:o:${id.slice('r:'.length)}:*`).then((keys) => keys.sort());
}

/** A raw JSON-RPC request's result, failing the test with its error. */
async function result(c: RawClient, method: string, params: unknown): Promise<any> {
  const reply = await c.request(method, params);
  if (reply.error) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

test('a queue created through A is used through B by its id, and read back from a dict through B', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>((p) => groupManager(p), redis.prefix());
  const { b, onA, onB } = pair;
  const qa = await onA.create<QueueProxy<unknown>>('Queue', 3);
  assert.match(qa.id, /^r:/, 'an object kept in Redis has a group-wide id');
  // By id: a client of B names it, takes a reference and calls it.
  const raw = await RawClient.open(b.address);
  try {
    assert.equal(await result(raw, 'object/incref', { id: qa.id }), null);
    await result(raw, 'object/call', { id: qa.id, method: 'put', args: ['through B'] });
    assert.equal(await qa.get(), 'through B');
    // Made on B with A's constructor arguments: maxsize 3.
    for (const i of [1, 2, 3]) await qa.put(i);
    const full = await raw.request('object/call', { id: qa.id, method: 'put_nowait', args: [4] });
    assert.equal(full.error?.data?.type, 'Full', `a put through B sees A's maxsize: ${JSON.stringify(full)}`);
    for (const i of [1, 2, 3]) assert.equal(await qa.get(), i);
  } finally {
    raw.close();
  }
  // Read back from a stored value: the same queue, through B.
  const da = await onA.shared_dict();
  await da.set('q', qa);
  const db = await onB.shared_dict();
  const qb = (await db.get('q')) as unknown as QueueProxy<unknown>;
  assert.equal(qb.id, qa.id, 'the same id through either manager');
  await qb.put('stored, then used through B');
  assert.equal(await qa.get(), 'stored, then used through B');
  // A proxy a client of B makes from A's token, passed as an argument through B.
  const other = await onA.create<QueueProxy<unknown>>('Queue');
  await db.set('other', onB.proxyFor(other.token));
  const back = (await da.get('other')) as unknown as QueueProxy<unknown>;
  assert.equal(back.id, other.id);
  // An id nobody made is still refused as an argument, naming it.
  await assert.rejects(db.set('none', onB.proxyFor({ ...other.token, id: 'r:nobody' })), /r:nobody/);
});

test("an object is answered once the group can find it: its id works through B as soon as A's client has it, however late A's writes reach Redis", { skip, timeout: 30_000 }, async () => {
  const store = new URL(redis.url);
  await using relay = await startRelay(`${store.hostname}:${store.port}`);
  const prefix = redis.prefix();
  await using a = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix });
  await using b = await groupManager(prefix);
  const onA = await RawClient.open(a.address);
  const onB = await RawClient.open(b.address);
  try {
    relay.holdUpstream();
    const createId = onA.send('object/create', { typeid: 'Queue' });
    // Answers to requests that need nothing from the store come in order: a create answered
    // without waiting for its write would be back before this one.
    const describeId = onA.send('manager/describe', {});
    const before: any[] = [];
    for (let i = 0; i < 5; i++) {
      const message = await onA.next();
      if (message.id === describeId) break;
      before.push(message);
    }
    let created = before.find((m) => m.id === createId);
    if (!created) {
      relay.releaseUpstream();
      created = await onA.next();
    }
    assert.match(created.result?.id ?? '', /^r:/, JSON.stringify(created));
    const incref = await onB.request('object/incref', { id: created.result.id });
    assert.equal(incref.error, undefined, `B found no object for the id A's client was given: ${JSON.stringify(incref.error)}`);
  } finally {
    relay.releaseUpstream();
    onA.close();
    onB.close();
  }
});

test("a Python client of B reads a queue A's client stored in a dict, and puts on it", { skip: skip ?? (python3s().length ? undefined : 'no CPython 3 here'), timeout: 60_000 }, async () => {
  await using pair = await twoManagers<Shared>((p) => groupManager(p), redis.prefix());
  const { b, onA } = pair;
  const qa = await onA.create<QueueProxy<unknown>>('Queue');
  await (await onA.shared_dict()).set('q', qa);
  const script = [
    'import multiprocessing, os',
    'from multiprocessing.managers import BaseManager',
    'class M(BaseManager): pass',
    "M.register('shared_dict')",
    "host, port = os.environ['SYNCMANAGER_ADDRESS'].rsplit(':', 1)",
    "key = os.environ['SYNCMANAGER_AUTHKEY'].encode()",
    '# A proxy read from a value connects with the process authkey, as in Python\'s own managers.',
    'multiprocessing.current_process().authkey = key',
    "m = M(address=(host, int(port)), authkey=key)",
    'm.connect()',
    "q = m.shared_dict().get('q')",
    "q.put('from Python through B')",
    "print('size', q.qsize())",
  ].join('\n');
  const python = python3s().at(-1)!;
  const run = await runPython(python, ['-c', script], [], pythonEnv(b.address, AUTHKEY));
  assertExitedCleanly(run, 'the Python client of B');
  assert.match(run.stdout, /size 1/);
  assert.equal(await qa.get(), 'from Python through B');
});

test('references count across managers: the keys stay while B refers after A let go, and go when both have', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  try {
    await using pair = await twoManagers<Shared>((p) => groupManager(p), prefix);
    const { b, onA } = pair;
    const qa = await onA.create<QueueProxy<unknown>>('Queue');
    await qa.put('kept');
    const raw = await RawClient.open(b.address);
    try {
      await result(raw, 'object/incref', { id: qa.id });
      const [, refs] = [`${prefix}:o:${qa.id.slice(2)}:meta`, `${prefix}:o:${qa.id.slice(2)}:refs`];
      await eventually('both managers refer', () => plain.scard(refs), (n) => n === 2);
      await qa.release();
      await eventually('only B refers', () => plain.scard(refs), (n) => n === 1);
      assert.ok((await keysOf(plain, prefix, qa.id)).some((k) => k.endsWith(':items')), 'the items are kept while B refers to the queue');
      assert.equal((await result(raw, 'object/call', { id: qa.id, method: 'get' })), 'kept');
      await result(raw, 'object/call', { id: qa.id, method: 'put', args: ['again'] });
      await result(raw, 'object/decref', { id: qa.id });
      await eventually('every key of the queue deleted', () => keysOf(plain, prefix, qa.id), (keys) => keys.length === 0);
    } finally {
      raw.close();
    }
  } finally {
    plain.disconnect();
  }
});

test('a manager SIGKILLed: the survivor drops its references, and deletes what nobody else refers to', { skip, timeout: 60_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  const a = await serveProcess(['--address', '127.0.0.1:0', '--store', redis.url, '--store-prefix', prefix, '--store-lease', '2'], { SYNCMANAGER_AUTHKEY: AUTHKEY });
  try {
    await using b = await groupManager(prefix, 2000);
    const onA = await connect({ address: a.address, authkey: AUTHKEY, reconnect: false });
    const kept = await onA.create<QueueProxy<unknown>>('Queue');
    const dropped = await onA.create<QueueProxy<unknown>>('Queue');
    await kept.put('survives A');
    await dropped.put('goes with A');
    const raw = await RawClient.open(b.address);
    try {
      await result(raw, 'object/incref', { id: kept.id });
      await eventually('B refers to one queue', () => plain.scard(`${prefix}:o:${kept.id.slice(2)}:refs`), (n) => n === 2);
      await killServer(a);
      await onA.close().catch(() => {});
      await eventually('the queue only A referred to deleted by the survivor', () => keysOf(plain, prefix, dropped.id), (keys) => keys.length === 0);
      const onlyB = [(b.store as RedisStore).managerId];
      await eventually('only B refers to the queue B holds', () => plain.smembers(`${prefix}:o:${kept.id.slice(2)}:refs`), (ids) => JSON.stringify(ids) === JSON.stringify(onlyB));
      assert.equal(await result(raw, 'object/call', { id: kept.id, method: 'get' }), 'survives A');
    } finally {
      raw.close();
    }
  } finally {
    await killServer(a);
    plain.disconnect();
  }
});

test('an object of a user-registered class stays in its manager: another one answers unknown object', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>((p) => groupManager(p), redis.prefix());
  const { b, onA } = pair;
  const counter = await onA.create('Counter');
  assert.doesNotMatch(counter.id, /^r:/, 'an object of a user-registered class has this manager\'s id');
  const raw = await RawClient.open(b.address);
  try {
    const reply = await raw.request('object/call', { id: counter.id, method: 'increment' });
    assert.match(JSON.stringify(reply.error), /no object with id/);
    // A group-wide id nobody created is unknown too, after asking the store.
    const none = await raw.request('object/call', { id: 'r:00000000-0000-0000-0000-000000000000', method: 'qsize' });
    assert.match(JSON.stringify(none.error), /no object with id/);
  } finally {
    raw.close();
  }
});

test('inspect/group through B lists A with its address and its clients, and the objects the group shares', { skip, timeout: 30_000 }, async () => {
  await using pair = await twoManagers<Shared>((p) => groupManager(p), redis.prefix());
  const { a, b, onA } = pair;
  const viewer = await connect({ address: b.address, authkey: AUTHKEY, name: 'viewer' });
  try {
    const qa = await onA.create<QueueProxy<unknown>>('Queue');
    const aId = (a.store as RedisStore).managerId;
    const view = await eventually(
      "A's client in the group view",
      () => viewer.inspection.group(),
      (v) => v.managers.some((m) => m.address === a.address && m.sessions.some((s) => s.sessionId === onA.sessionId && s.references === 1)),
    );
    assert.equal(view.managers[0]!.self, true, 'the answering manager first');
    assert.equal(view.managers[0]!.address, b.address);
    assert.ok(view.managers[0]!.sessions.some((s) => s.clientInfo?.name === 'viewer'));
    const onManagerA = view.managers.find((m) => m.address === a.address)!;
    assert.equal(onManagerA.managerId, aId);
    assert.equal(onManagerA.self, false);
    assert.deepEqual(
      view.objects.find((o) => o.id === qa.id),
      { id: qa.id, typeid: 'Queue', type: 'Queue', managers: [aId], stored: false },
      'the queue A made, held through A',
    );
    // A's client leaves: A publishes itself again without it.
    await onA.close();
    await eventually("A's client gone from the group view", () => viewer.inspection.group(), (v) => !v.managers.some((m) => m.sessions.some((s) => s.sessionId === onA.sessionId)));
  } finally {
    await viewer.close();
  }
});

test('inspect/group on a manager without a Redis store lists that manager alone, with no shared objects', { timeout: 20_000 }, async () => {
  await using m = await startManager();
  const viewer = await connect({ address: m.address, authkey: AUTHKEY });
  try {
    const view = await viewer.inspection.group();
    assert.equal(view.managers.length, 1);
    assert.equal(view.managers[0]!.self, true);
    assert.equal(view.managers[0]!.address, m.address);
    assert.deepEqual(view.managers[0]!.sessions.map((s) => s.sessionId), [viewer.sessionId]);
    assert.deepEqual(view.objects, []);
  } finally {
    await viewer.close();
  }
});
