/**
 * Activity (SPEC 17.8): `inspect/watchCalls` sends the calls that ended, from every protocol,
 * bounded in what it keeps and sends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import type { CallRecord, InspectCallsParams } from '../../src/common/protocol';
import { ACTIVITY_BUFFER_LIMIT, ACTIVITY_NOTIFICATION_LIMIT, ACTIVITY_SUMMARY_LIMIT, truncateSummary } from '../../src/server/callActivity';
import { AUTHKEY, startManager } from '../helpers/manager';
import { until } from '../helpers/until';
import { assertExitedCleanly, pythonAddressLiteral, pythonEnv, python3s, runPython } from '../python/helpers';

async function setup() {
  const manager = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const viewer = await connect({ address: manager.address, authkey: AUTHKEY, name: 'viewer' });
  const worker = await connect<{ get_task_queue: QueueProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY, name: 'worker' });
  const notifications: InspectCallsParams[] = [];
  const calls = () => notifications.flatMap((n) => n.calls);
  return {
    manager,
    viewer,
    worker,
    notifications,
    calls,
    watch: (intervalMs = 10) => viewer.inspection.watchCalls((n) => notifications.push(n), { intervalMs }),
    async [Symbol.asyncDispose]() {
      await viewer.close();
      await worker.close();
      await manager.shutdown();
    },
  };
}

test('a watcher hears of each call: session, object, method, argument and result summaries, duration', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  await s.watch();
  await q.put([1, 'two']);
  await q.get();
  await until('both calls arrive', () => s.calls().length >= 2);
  const [put, get] = s.calls();
  assert.deepEqual({ ...put, startedAt: 0, durationMs: 0 }, { sessionId: s.worker.sessionId, objectId: q.id, typeid: 'get_task_queue', method: 'put', args: '[[1,"two"]]', result: 'null', startedAt: 0, durationMs: 0 });
  assert.equal(get.method, 'get');
  assert.equal(get.result, '[1,"two"]');
  assert.ok(put.durationMs >= 0 && Number.isInteger(put.startedAt));
});

test('a call that raised carries its error, and a waiting call is listed when it ends, not while it waits', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  await s.watch();
  await assert.rejects(q.get({ block: false }));
  const waiting = q.get();
  await q.qsize();
  await until('the two calls that ended arrive', () => s.calls().length >= 2);
  assert.deepEqual(s.calls().map((c) => c.method), ['get', 'qsize'], 'the waiting get is not listed while it waits');
  assert.match(s.calls()[0].error ?? '', /^Empty/);
  assert.equal(s.calls()[0].result, undefined);
  const other = await connect<{ get_task_queue: QueueProxy<unknown> }>({ address: s.manager.address, authkey: AUTHKEY, name: 'feeder' });
  await (await other.get_task_queue()).put('late');
  assert.equal(await waiting, 'late');
  await until('the served get arrives', () => s.calls().some((c) => c.method === 'get' && c.result === '"late"'));
  await other.close();
});

test('summaries are cut to 200 characters', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  await s.watch();
  await q.put('x'.repeat(10_000));
  await until('the put arrives', () => s.calls().length >= 1);
  const put = s.calls()[0];
  assert.equal(put.args.length, ACTIVITY_SUMMARY_LIMIT);
  assert.ok(put.args.endsWith('…'));
  assert.equal(truncateSummary('short'), 'short');
});

test('a watcher that falls behind keeps at most the buffer limit and is told how many were dropped', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  const extra = 250;
  const total = ACTIVITY_BUFFER_LIMIT + extra;
  // A long interval: every call below ends before the first notification is sent.
  await s.watch(60_000);
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) puts.push(q.put(i));
  await Promise.all(puts);
  // Watching again with a short interval would drop what was kept: instead, check what the manager kept.
  const watcher = [...(s.manager as unknown as { activity: { watchers: Map<string, unknown> } }).activity.watchers.values()][0] as { count: number; dropped: number };
  assert.equal(watcher.count, ACTIVITY_BUFFER_LIMIT);
  assert.equal(watcher.dropped, extra);
});

test('notifications carry at most their limit, oldest first, the newest kept', async () => {
  await using s = await setup();
  const q = await s.worker.get_task_queue();
  const total = ACTIVITY_BUFFER_LIMIT + 50;
  await s.watch(10);
  // Pipelined: all the puts are handled before the first notification can be sent.
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) puts.push(q.put(i));
  await Promise.all(puts);
  await until('the kept calls arrive', () => s.calls().length + s.notifications.reduce((n, x) => n + x.dropped, 0) >= total, 20_000);
  for (const n of s.notifications) assert.ok(n.calls.length <= ACTIVITY_NOTIFICATION_LIMIT, `${n.calls.length} calls in one notification`);
  const seen = s.calls().map((c: CallRecord) => Number(JSON.parse(c.args)[0]));
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'oldest first');
  assert.equal(seen.at(-1), total - 1, 'the newest is never the one dropped');
});

test('unwatching stops the notifications; a closed watcher stops costing anything', async () => {
  await using s = await setup();
  const activity = (s.manager as unknown as { activity: { watched: boolean } }).activity;
  const q = await s.worker.get_task_queue();
  const watch = await s.watch();
  assert.equal(activity.watched, true);
  await watch.dispose();
  assert.equal(activity.watched, false);
  await q.put(1);
  await s.watch();
  await s.viewer.close();
  await until('the closed session no longer watches', () => !activity.watched);
});

test("a Python client's calls show too (one hook for both protocols)", async (t) => {
  const py = python3s().at(-1);
  if (!py) return t.skip('no Python 3 here');
  await using s = await setup();
  await s.watch();
  const script = `
from multiprocessing.managers import BaseManager
class M(BaseManager): pass
M.register('get_task_queue')
m = M(address=${pythonAddressLiteral(s.manager.address)}, authkey=${JSON.stringify(AUTHKEY)}.encode())
m.connect()
m.get_task_queue().put(('py', 3))
`;
  assertExitedCleanly(await runPython(py, ['-c', script], [], pythonEnv(s.manager.address, AUTHKEY)), 'python put');
  await until('the Python put arrives', () => s.calls().some((c) => c.method === 'put'));
  const put = s.calls().find((c) => c.method === 'put')!;
  assert.equal(put.args, '[{"$tuple":["py",3]}]');
  const snapshot = await s.viewer.inspection.snapshot();
  assert.ok(!snapshot.sessions.some((x) => x.sessionId === put.sessionId && x.protocol === 'jsonrpc'), 'the call is the Python session\'s');
});
