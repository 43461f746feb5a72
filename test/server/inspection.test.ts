/**
 * Inspection (capability `inspection`): what the VS Code sidebar is built on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, kwargs, ProtocolError, type DictProxy, type QueueProxy } from '../../src/client';
import type { InspectChangedParams } from '../../src/common/protocol';
import { AUTHKEY, startManager } from '../helpers/manager';
import { viewerAndWorker } from '../helpers/viewerAndWorker';

function setup() {
  return startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' })).then((m) => viewerAndWorker<{ get_task_queue: QueueProxy<number> }>(m));
}


test('initialize advertises inspection', async () => {
  await using s = await setup();
  assert.equal(s.viewer.serverInfo.capabilities.inspection, true);
});

test('snapshot lists objects with holders and details, and sessions with names and references', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  await q.put(1);
  await q.put(2);
  const snapshot = await s.viewer.inspection.snapshot();
  assert.equal(snapshot.server.name, 'syncmanager');
  assert.equal(snapshot.server.address, s.manager.address);
  const queue = snapshot.objects.find((o) => o.typeid === 'get_task_queue')!;
  assert.equal(queue.builtin, 'Queue');
  assert.equal(queue.size, 2);
  assert.deepEqual(queue.details, { maxsize: 0, unfinishedTasks: 2, waitingGetters: 0, waitingPutters: 0 });
  assert.deepEqual(queue.holders, [{ sessionId: s.worker.sessionId, references: 1 }]);
  const worker = snapshot.sessions.find((x) => x.sessionId === s.worker.sessionId)!;
  assert.equal(worker.clientInfo?.name, 'worker');
  assert.equal(worker.processId, process.pid);
  assert.equal(worker.references, 1);
  assert.equal(worker.protocol, 'jsonrpc');
});

test('a typeid\'s shared object is in the snapshot and peekable before anyone holds it and after its last holder left', async () => {
  await using s = await setup();
  const before = (await s.viewer.inspection.snapshot()).objects.filter((o) => o.typeid === 'get_task_queue');
  assert.equal(before.length, 1, 'the shared queue shows before any client asked for it');
  assert.equal(before[0].refcount, 0);
  assert.deepEqual(before[0].holders, []);
  assert.equal(before[0].size, 0);
  const q = await s.worker.get_task_queue();
  assert.equal(q.id, before[0].id, 'the id it showed is the one clients get');
  await (q as unknown as QueueProxy<string>).put('left behind');
  await q.release();
  const after = (await s.viewer.inspection.snapshot()).objects.filter((o) => o.typeid === 'get_task_queue');
  assert.deepEqual(after.map((o) => [o.id, o.refcount, o.size]), [[q.id, 0, 1]], 'still shown, with its item, once nobody holds it');
  assert.deepEqual((await s.viewer.inspection.peek(q.id)).items, ['left behind']);
  // Objects nobody holds that are not a typeid's shared object still leave: a created queue released is gone.
  const created = await s.worker.create<QueueProxy>('Queue');
  await created.release();
  assert.ok(!(await s.viewer.inspection.snapshot()).objects.some((o) => o.id === created.id));
});

test('a blocked get shows as a pending call of its session, and disappears when served', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  const waiting = q.get();
  await q.qsize();
  const before = await s.viewer.inspection.snapshot();
  const pending = before.sessions.find((x) => x.sessionId === s.worker.sessionId)!.pending;
  assert.equal(pending.length, 1);
  assert.equal(pending[0].method, 'get');
  assert.equal(pending[0].typeid, 'get_task_queue');
  assert.ok(Date.now() - pending[0].since < 5000);
  assert.equal(before.objects.find((o) => o.id === q.id)!.details.waitingGetters, 1);
  await q.put(9);
  assert.equal(await waiting, 9);
  const after = await s.viewer.inspection.snapshot();
  assert.deepEqual(after.sessions.find((x) => x.sessionId === s.worker.sessionId)!.pending, []);
});

test('peek pages a queue in get order and takes nothing', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  for (let i = 0; i < 250; i++) await q.put(i);
  const first = await s.viewer.inspection.peek(q.id);
  assert.equal(first.kind, 'items');
  assert.equal(first.total, 250);
  assert.deepEqual(first.items, Array.from({ length: 100 }, (_, i) => i));
  const last = await s.viewer.inspection.peek(q.id, { offset: 200, limit: 1000 });
  assert.deepEqual(last.items, Array.from({ length: 50 }, (_, i) => 200 + i));
  assert.equal(await q.qsize(), 250);
  assert.equal(await q.get(), 0);
});

test('peek shows dict entries, namespace attributes and values in wire form', async () => {
  await using s = await setup();
  const d = await s.worker.create<DictProxy>('dict', kwargs({ a: 1 }));
  await d.set('b', new Uint8Array([1]));
  const entries = await s.viewer.inspection.peek(d.id);
  assert.equal(entries.kind, 'entries');
  assert.deepEqual(entries.items, [['a', 1], ['b', { $bytes: 'AQ==' }]]);
  const ns = await s.worker.create('Namespace', kwargs({ x: 1 }));
  assert.deepEqual((await s.viewer.inspection.peek(ns.id)).items, [['x', 1]]);
  const v = await s.worker.create('Value', 'd', 2.5);
  const value = await s.viewer.inspection.peek(v.id);
  assert.equal(value.kind, 'value');
  assert.deepEqual(value.items, [2.5]);
});

test('a queue of 100 000 items is peeked a page at a time', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  await Promise.all(Array.from({ length: 100_000 }, (_, i) => q.put(i)));
  const page = await s.viewer.inspection.peek(q.id, { offset: 99_900, limit: 100 });
  assert.equal(page.total, 100_000);
  assert.equal(page.items.length, 100);
  assert.equal(page.items[99], 99_999);
});

test('subscribers hear of changes, merged per interval; sessions coming and going are reported', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  const changes: InspectChangedParams[] = [];
  let seen: (() => void) | undefined;
  const sub = await s.viewer.inspection.subscribe(
    (c) => {
      changes.push(c);
      seen?.();
    },
    { intervalMs: 20 },
  );
  const waitFor = (check: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not seen in 5 s: ${JSON.stringify(changes)}`)), 5000);
      seen = () => {
        if (check()) {
          clearTimeout(timer);
          resolve();
        }
      };
      seen();
    });
  for (let i = 0; i < 50; i++) await q.put(i);
  await waitFor(() => changes.some((c) => c.changed.includes(q.id)));
  assert.ok(changes.length < 50, `50 puts were merged into ${changes.length} notifications`);
  const other = await connect({ address: s.manager.address, authkey: AUTHKEY, name: 'late' });
  await waitFor(() => changes.some((c) => c.sessions));
  const d = await other.create('dict');
  await waitFor(() => changes.some((c) => c.added.includes(d.id)));
  await other.close();
  await waitFor(() => changes.some((c) => c.removed.includes(d.id)));
  await sub.dispose();
  const count = changes.length;
  await q.put(1);
  await s.viewer.inspection.snapshot();
  await s.viewer.inspection.snapshot();
  assert.equal(changes.length, count, 'no notification after dispose');
});

test('inspection requests with bad params are refused naming the field', async () => {
  await using s = await setup();
  await assert.rejects(s.viewer.inspection.peek('nope'), /no object with id "nope"/);
  const q = await s.worker.get_task_queue();
  await assert.rejects(s.viewer.inspection.peek(q.id, { limit: 5000 }), (e: unknown) => e instanceof ProtocolError && /limit must be a whole number from 1 to 1000/.test((e as Error).message));
  await assert.rejects(s.viewer.inspection.peek(q.id, { offset: -1 }), /offset must be/);
  await assert.rejects(s.viewer.inspection.subscribe(() => {}, { intervalMs: 1 }), /intervalMs must be between 10 and 60000/);
});
