/**
 * Acknowledged gets (SPEC 20.3) over real sockets: a get with `ack` leaves its item in flight,
 * held by the session; `ack` removes it for good, `nack`, a visibility timeout or the session's
 * end put it back at the front of its queue marked redelivered, whatever the queue type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, DeliverySettledError, AbortError, UnknownDeliveryError, type ManagerClient, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import { join } from 'node:path';
import { Manager, PriorityQueue, Queue } from '../../src/server';
import { AUTHKEY, createOver, RawClient, startManager } from '../helpers/manager';
import { testFolder } from '../helpers/tempFolder';
import { until } from '../helpers/until';

async function client(address: string, name = 'ack-test', reconnect = false): Promise<ManagerClient> {
  return connect({ address, authkey: AUTHKEY, name, reconnect });
}

test('ack removes the item for good; nack puts it back at the front, marked redelivered with a count', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<string>;
  for (const item of ['a', 'b', 'c']) await q.put(item);
  const first = await q.get({ ack: true });
  assert.deepEqual([first.value, first.redelivered, first.deliveryCount], ['a', false, 1]);
  assert.equal(await q.qsize(), 2, 'an item in flight is not in the queue');
  await first.nack();
  const again = await q.get({ ack: true });
  assert.deepEqual([again.value, again.redelivered, again.deliveryCount], ['a', true, 2]);
  await again.nack();
  const third = await q.get({ ack: true });
  assert.deepEqual([third.value, third.deliveryCount], ['a', 3]);
  await third.ack();
  assert.deepEqual([await q.get(), await q.get()], ['b', 'c'], 'the acknowledged item is gone; the rest follow in order');
  assert.equal(await q.qsize(), 0);
});

test('settling twice fails on the client with DeliverySettledError, and the manager is not asked', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<number>;
  await q.put(1);
  await q.put(2);
  const d = await q.get({ ack: true });
  await d.ack();
  await assert.rejects(d.ack(), (e: unknown) => e instanceof DeliverySettledError && /already acknowledged/.test(e.message));
  await assert.rejects(d.nack(), (e: unknown) => e instanceof DeliverySettledError && /already acknowledged/.test(e.message));
  const e = await q.getNowait({ ack: true });
  await e.nack();
  await assert.rejects(e.ack(), (err: unknown) => err instanceof DeliverySettledError && /already given back/.test(err.message));
  assert.equal(await q.qsize(), 1, 'the item given back is there once');
});

test('a visibility timeout gives the item back by itself; acknowledging it afterwards is UnknownDeliveryError', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<string>;
  await q.put('slow job');
  const d = await q.get({ ack: true, visibilityTimeout: 0.05 });
  // Waits (no sleep) until the item comes back: the blocked get receives it.
  const back = await q.get({ ack: true, timeout: 10 });
  assert.deepEqual([back.value, back.redelivered, back.deliveryCount], ['slow job', true, 2]);
  await assert.rejects(d.ack(), (e: unknown) => e instanceof UnknownDeliveryError && /not held by this session/.test(e.message));
  await back.ack();
  assert.equal(await q.qsize(), 0);
});

test('a session that ends gives its deliveries back, in the order they were first taken; its ack afterwards is UnknownDeliveryError', async () => {
  // A shared queue: it outlives the session that ends.
  await using manager = await startManager({}, (m) => m.register('get_jobs', { shared: 'Queue' }));
  await using other = await client(manager.address, 'other');
  await using c = await client(manager.address, 'reconnecting', true);
  const q = (await c.create('get_jobs')) as QueueProxy<string>;
  const otherQ = (await other.create('get_jobs')) as QueueProxy<string>;
  await q.put('x');
  await q.put('y');
  await q.put('z');
  const dx = await q.get({ ack: true });
  const dy = await q.get({ ack: true });
  const session = [...manager.connectedSessions].find((s) => s.id === c.sessionId)!;
  const restored = new Promise<void>((resolve) => c.on('restored', () => resolve()));
  // The manager drops the connection: the session ends (the client reconnects as a new session).
  session.close();
  await restored;
  await assert.rejects(dx.ack(), (e: unknown) => e instanceof UnknownDeliveryError);
  await assert.rejects(dy.nack(), (e: unknown) => e instanceof UnknownDeliveryError);
  const got = [];
  for (let i = 0; i < 3; i++) got.push(await otherQ.getNowait());
  assert.deepEqual(got, ['x', 'y', 'z']);
});

test('another session cannot settle a delivery it does not hold (raw protocol): UnknownDelivery', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  try {
    const q = await createOver(a, 'Queue');
    await a.request('object/call', { id: q.id, method: 'put', args: [7] });
    const got = await a.request('object/call', { id: q.id, method: 'get', ack: true });
    assert.deepEqual(Object.keys(got.result).sort(), ['deliveryCount', 'deliveryId', 'redelivered', 'value']);
    assert.equal(got.result.value, 7);
    const stolen = await b.request('delivery/ack', { id: q.id, deliveryId: got.result.deliveryId });
    assert.equal(stolen.error.code, ErrorCodes.UnknownDelivery);
    const unknown = await a.request('delivery/nack', { id: q.id, deliveryId: 'no-such' });
    assert.equal(unknown.error.code, ErrorCodes.UnknownDelivery);
    assert.match(unknown.error.message, /"no-such"/);
    const ok = await a.request('delivery/ack', { id: q.id, deliveryId: got.result.deliveryId });
    assert.equal(ok.result, null);
    const twice = await a.request('delivery/ack', { id: q.id, deliveryId: got.result.deliveryId });
    assert.equal(twice.error.code, ErrorCodes.UnknownDelivery);
    // ack only where a delivery is made.
    const d = await createOver(a, 'dict');
    const notQueue = await a.request('object/call', { id: d.id, method: 'get', args: ['k'], ack: true });
    assert.equal(notQueue.error.code, ErrorCodes.InvalidParams);
    assert.match(notQueue.error.message, /only to get and get_nowait of a queue/);
    const put = await a.request('object/call', { id: q.id, method: 'put', args: [1], ack: true });
    assert.equal(put.error.code, ErrorCodes.InvalidParams);
    const lonely = await a.request('object/call', { id: q.id, method: 'get', visibilityTimeout: 1 });
    assert.match(lonely.error.message, /visibilityTimeout needs ack: true/);
    const negative = await a.request('object/call', { id: q.id, method: 'get', ack: true, visibilityTimeout: -1 });
    assert.match(negative.error.message, /visibilityTimeout must be/);
    // Longer than one timer holds: refused rather than fired at once.
    const tooLong = await a.request('object/call', { id: q.id, method: 'get', ack: true, visibilityTimeout: 3_000_000 });
    assert.match(tooLong.error.message, /at most 2147483/);
    assert.equal((await a.request('object/call', { id: q.id, method: 'qsize' })).result, 0, 'the refused calls took and added nothing');
  } finally {
    a.close();
    b.close();
  }
});

test('LifoQueue: an item given back is the next got again; a session that ends restores the stack as it was', async () => {
  await using manager = await startManager({}, (m) => m.register('get_stack', { shared: 'LifoQueue' }));
  await using c = await client(manager.address);
  await using other = await client(manager.address, 'other');
  const q = (await c.create('get_stack')) as QueueProxy<number>;
  const otherQ = (await other.create('get_stack')) as QueueProxy<number>;
  for (const n of [1, 2, 3, 4]) await q.put(n);
  const top = await q.get({ ack: true });
  assert.equal(top.value, 4);
  await top.nack();
  const again = await q.get({ ack: true });
  assert.deepEqual([again.value, again.redelivered], [4, true]);
  const next = await q.get({ ack: true });
  assert.equal(next.value, 3);
  const session = [...manager.connectedSessions].find((s) => s.id === c.sessionId)!;
  session.close();
  await until('the session to end', () => ![...manager.connectedSessions].includes(session));
  const order = [];
  for (let i = 0; i < 4; i++) order.push(await otherQ.getNowait());
  assert.deepEqual(order, [4, 3, 2, 1]);
});

test('PriorityQueue: an item given back takes its place by priority again, before a larger one put meanwhile and after a smaller one', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('PriorityQueue')) as QueueProxy<number>;
  for (const n of [5, 2, 8]) await q.put(n);
  const smallest = await q.get({ ack: true });
  assert.equal(smallest.value, 2);
  await q.put(3);
  await q.put(1);
  await smallest.nack();
  const order = [];
  for (let i = 0; i < 5; i++) {
    const d = await q.get({ ack: true });
    order.push([d.value, d.redelivered]);
    await d.ack();
  }
  assert.deepEqual(order, [[1, false], [2, true], [3, false], [5, false], [8, false]]);
});

test('PriorityQueue: an item given back that cannot be ordered against the items put meanwhile is not lost: it goes to the front', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('PriorityQueue')) as QueueProxy<unknown>;
  await q.put(1);
  const d = await q.get({ ack: true });
  // The queue was empty, so nothing refuses a str now; 1 and 'a' cannot be compared.
  await q.put('a');
  await d.nack();
  assert.equal(await q.qsize(), 2);
  const back = await q.get({ ack: true });
  assert.deepEqual([back.value, back.redelivered], [1, true]);
  await back.ack();
  assert.equal(await q.get(), 'a');
});

test('PriorityQueue: an item given back out of order can be removed or replaced in place by inspection, and replaced only by one the heap can order', async () => {
  const pq = new PriorityQueue();
  await using manager = await startManager({}, (m) => m.register('get_pq', { callable: () => pq }));
  await using c = await client(manager.address);
  const q = (await c.create('get_pq')) as QueueProxy<unknown>;
  await q.put(1);
  const d = await q.get({ ack: true });
  await q.put('a');
  await d.nack();
  assert.deepEqual(pq.peekAll(), [1, 'a'], 'the item given back first, as get would take it');
  assert.throws(() => pq.replaceQueued(0, 2), /not supported between/);
  assert.deepEqual(pq.peekAll(), [1, 'a'], 'a refused replacement changes nothing');
  assert.equal(pq.replaceQueued(0, 'b'), 1);
  assert.deepEqual(pq.peekAll(), ['a', 'b']);
  assert.equal(pq.removeQueued(1), 'b');
  assert.deepEqual(pq.peekAll(), ['a']);
});

test('JoinableQueue: task_done and join are unchanged; a redelivered item is one unfinished task', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('JoinableQueue')) as QueueProxy<string>;
  await q.put('task');
  const d = await q.get({ ack: true });
  await d.nack();
  const again = await q.get({ ack: true });
  assert.equal(again.deliveryCount, 2);
  const snapshot = await c.inspection.snapshot();
  assert.equal(snapshot.objects.find((o) => o.id === q.id)!.details.unfinishedTasks, 1);
  await again.ack();
  await q.taskDone();
  await q.join();
  await assert.rejects(q.taskDone(), /task_done\(\) called too many times/);
});

test('a blocked get with ack that is cancelled takes nothing; the next item goes to the next getter', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<string>;
  const controller = new AbortController();
  const waiting = q.get({ ack: true, signal: controller.signal });
  await until('the get to wait', () => [...manager.connectedSessions].some((s) => s.pendingCount === 1));
  controller.abort();
  await assert.rejects(waiting, (e: unknown) => e instanceof AbortError);
  await q.put('kept');
  assert.equal(await q.get({ timeout: 5 }), 'kept');
});

test('a get with ack cancelled too late (the delivery was already on its way) gives the delivery back and rejects with AbortError', async () => {
  await using manager = await startManager();
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<string>;
  await q.put('raced');
  const controller = new AbortController();
  const taking = q.get({ ack: true, signal: controller.signal });
  // The cancel follows the get on the wire: the manager has delivered the item before it reads it.
  controller.abort();
  await assert.rejects(taking, (e: unknown) => e instanceof AbortError && /was given back/.test(e.message));
  const again = await q.get({ ack: true, timeout: 5 });
  assert.deepEqual([again.value, again.redelivered, again.deliveryCount], ['raced', true, 2]);
  await again.ack();
});

test('a delivery whose answer is too large to send is not made: the item stays at the front, not counted as delivered', async () => {
  const big = new Queue();
  await using manager = await startManager({ maxMessageBytes: 64 * 1024 }, (m) => m.register('get_big', { callable: () => big }));
  await using c = await client(manager.address);
  const q = (await c.create('get_big')) as QueueProxy<string>;
  // Put in the manager's own process: no client message could carry it.
  big.put('x'.repeat(100 * 1024));
  big.put('small');
  await assert.rejects(q.get({ ack: true }), /exceeds the message limit.*given back/);
  assert.equal(big.qsize(), 2);
  assert.equal(big.describeState().details.deliveriesInFlight, undefined);
  const snapshot = [...manager.connectedSessions].find((s) => s.id === c.sessionId)!.summary();
  assert.deepEqual([snapshot.holds, snapshot.deliveries], [[], undefined]);
  assert.equal((big.peekAll()[0] as string).length, 100 * 1024, 'at the front, as it was');
});

test('inspection shows deliveries in flight per session and per queue', async () => {
  await using manager = await startManager({ inspection: true });
  await using c = await client(manager.address);
  const q = (await c.create('Queue')) as QueueProxy<string>;
  await q.put('a');
  await q.put('b');
  const d = await q.get({ ack: true, visibilityTimeout: 60 });
  const snapshot = await c.inspection.snapshot();
  const me = snapshot.sessions.find((s) => s.sessionId === c.sessionId)!;
  assert.equal(me.deliveries?.length, 1);
  assert.equal(me.deliveries![0].objectId, q.id);
  assert.equal(me.deliveries![0].deliveryId, d.deliveryId);
  assert.equal(me.deliveries![0].deliveryCount, 1);
  assert.ok(me.deliveries![0].visibleAt! > me.deliveries![0].since);
  assert.deepEqual(me.holds, [q.id]);
  assert.equal(snapshot.objects.find((o) => o.id === q.id)!.details.deliveriesInFlight, 1);
  await d.ack();
  const after = await c.inspection.snapshot();
  assert.equal(after.sessions.find((s) => s.sessionId === c.sessionId)!.deliveries, undefined);
  assert.deepEqual(after.sessions.find((s) => s.sessionId === c.sessionId)!.holds, []);
  assert.equal(after.objects.find((o) => o.id === q.id)!.details.deliveriesInFlight, undefined);
});

test('a clean shutdown with a state file saves an unacknowledged delivery as a queued item: a restart delivers it again', async (t) => {
  const dir = testFolder(t, 'ack-state');
  const file = join(dir, 'state.json');
  const first = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, stateFile: file }).register('get_jobs', { shared: 'Queue' });
  await first.listen();
  const c = await client(first.address);
  const jobs = (await c.create('get_jobs')) as QueueProxy<string>;
  await jobs.put('in flight');
  await jobs.put('queued');
  const held = await jobs.get({ ack: true });
  assert.equal(held.value, 'in flight');
  await first.shutdown();
  await c.close();
  const second = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, stateFile: file }).register('get_jobs', { shared: 'Queue' });
  await second.listen();
  try {
    await using again = await client(second.address);
    const restored = (await again.create('get_jobs')) as QueueProxy<string>;
    assert.deepEqual([await restored.getNowait(), await restored.getNowait()], ['in flight', 'queued']);
  } finally {
    await second.shutdown();
  }
});

