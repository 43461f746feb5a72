/**
 * Python clients as the manager's inspection shows them: `manager.snapshot()` lists a Python
 * client's channel as a session of protocol 'python', with the call it is blocked in, and the
 * items it put are in the queue's summary and peek, in get order. For every Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import type { SessionSummary } from '../../src/common/protocol';
import { startManager } from '../helpers/manager';
import { until } from '../helpers/until';
import { assertExitedCleanly, fixture, pythonEnv, requirePythons, startPython } from './helpers';

const AUTHKEY = 'inspect-key';

test('a Python client in manager.snapshot(): its session (protocol python), its blocked get, the items it put', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => m.register('get_queue', { shared: 'Queue' }));
      // The TypeScript side holds a reference first, so the shared queue stays in the table (and
      // keeps its id) between Python's connections, as a CPython manager's would.
      await using client = await connect<{ get_queue: QueueProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY, name: 'inspector' });
      const q = await client.get_queue();
      const id = q.id;
      // It puts three items, then takes the first with get(), which does not block.
      const getter = startPython(py, fixture('blocking_getter.py'), ['first', 'second', 'third'], pythonEnv(manager.address, AUTHKEY));
      const got = await getter.finished();
      assertExitedCleanly(got, 'blocking_getter.py');
      assert.equal(got.stdout.trim().split('\n').at(-1), 'got first');

      // The two left, as inspection shows them, in get order.
      const summary = manager.snapshot().objects.find((o) => o.id === id);
      assert.equal(summary?.typeid, 'get_queue');
      assert.equal(summary?.size, 2);
      const peek = await client.inspection.peek(id);
      assert.deepEqual({ kind: peek.kind, total: peek.total, items: peek.items }, { kind: 'items', total: 2, items: ['second', 'third'] });
      assert.equal(await q.get({ timeout: 1 }), 'second');
      assert.equal(await q.get({ timeout: 1 }), 'third');

      // Now a Python client that blocks: its channel is a python session with a pending get.
      const blocked = startPython(py, fixture('blocking_getter.py'), [], pythonEnv(manager.address, AUTHKEY));
      await blocked.waitForLine(/^getting$/);
      const pythonSession = (): SessionSummary | undefined =>
        manager.snapshot().sessions.find((s) => s.protocol === 'python' && s.pending.some((p) => p.method === 'get' && p.objectId === id));
      await until('the Python client blocked in get() to show in the snapshot', () => pythonSession() !== undefined, 10_000);
      const session = pythonSession()!;
      assert.equal(session.protocol, 'python');
      assert.equal(session.pending.length, 1);
      assert.equal(session.pending[0].typeid, 'get_queue');
      assert.match(session.clientInfo?.name ?? '', /MainProcess/, `the session names Python's thread: ${JSON.stringify(session)}`);
      assert.match(session.remoteAddress, /127\.0\.0\.1/);
      // The same through the wire protocol's inspection.
      const wire = await client.inspection.snapshot();
      assert.ok(wire.sessions.some((s) => s.sessionId === session.sessionId && s.protocol === 'python' && s.pending.length === 1));

      // An item from TypeScript ends its wait: the session's pending call goes, then the session.
      await q.put(['a list', 1]);
      const done = await blocked.finished();
      assertExitedCleanly(done, 'the blocked getter');
      assert.match(done.stdout.trim().split('\n').at(-1) ?? '', /^got \[u?'a list', 1\]$/, 'a list from TypeScript is a list in Python');
      await until('the Python session to leave the snapshot', () => !manager.snapshot().sessions.some((s) => s.sessionId === session.sessionId), 10_000);
    });
  }
});
