/**
 * A Python client killed with SIGKILL while blocked in `q.get()` takes nothing with it: the next
 * item put goes to a live getter. CPython's own manager fails this (the server thread serving the
 * dead client stays blocked in `queue.get()` and swallows the next item). For every Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { deadGetterRounds } from '../helpers/deadGetterRounds';
import { startManager } from '../helpers/manager';
import { until } from '../helpers/until';
import { assertExitedCleanly, fixture, pythonEnv, python3s, requirePythons, startPython } from './helpers';

const AUTHKEY = 'kill-key';

test('a Python client SIGKILLed inside q.get() loses no item: the next put goes to a live getter', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => m.register('get_queue', { shared: 'Queue' }));
      const env = pythonEnv(manager.address, AUTHKEY);
      const waitingGets = () => manager.snapshot().sessions.filter((s) => s.protocol === 'python' && s.pending.some((p) => p.method === 'get')).length;

      // The doomed getter is first in line, the live one second.
      const doomed = startPython(py, fixture('blocking_getter.py'), [], env);
      await doomed.waitForLine(/^getting$/);
      await until('the first Python getter to block in get()', () => waitingGets() === 1, 10_000);
      const live = startPython(py, fixture('blocking_getter.py'), [], env);
      await live.waitForLine(/^getting$/);
      await until('the second Python getter to block in get()', () => waitingGets() === 2, 10_000);

      doomed.kill('SIGKILL');
      const killed = await doomed.finished();
      assert.equal(killed.signal, 'SIGKILL');
      // The manager sees the connection close (and withdraws its get) when the kernel closes the
      // socket; CPython's server thread would stay blocked in get() however long one waited.
      await until("the killed client's get to be withdrawn", () => waitingGets() === 1, 10_000);

      await using client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, name: 'producer' });
      const q = await client.get_queue();
      await q.put('precious');
      const done = await live.finished();
      assertExitedCleanly(done, 'the live getter');
      assert.equal(done.stdout.trim().split('\n').at(-1), 'got precious');
      assert.equal(await q.qsize(), 0, 'the item went to the live getter, and only once');
      assert.equal(waitingGets(), 0);
    });
  }
});

const ROUNDS = 200;

test(`an unmodified Python getter SIGKILLed in q.get() and an item put as soon as it exited: the item reaches the live getter (${ROUNDS} rounds)`, { timeout: 300_000 }, async (t) => {
  requirePythons();
  const py = python3s().at(-1);
  if (!py) return t.skip('no Python 3 here');
  // A manager process of its own, as in use: the dead getter's end of stream and the put can reach it in the same turn.
  const manager = new Manager({ authkey: AUTHKEY }).register('get_queue', { shared: 'Queue' });
  const address = await manager.start();
  try {
    const env = pythonEnv(address, AUTHKEY);
    const result = await deadGetterRounds(address, AUTHKEY, ROUNDS, async () => {
      const doomed = startPython(py, fixture('blocking_getter.py'), [], env);
      await doomed.waitForLine(/^getting$/);
      return {
        pid: doomed.pid,
        kill: async () => {
          process.kill(doomed.pid, 'SIGKILL');
          await doomed.finished();
        },
      };
    });
    assert.deepEqual(result, { lost: [], duplicated: [] }, `${py.label}: of ${ROUNDS} rounds, ${result.lost.length} lost their item and ${result.duplicated.length} kept a copy`);
  } finally {
    await manager.shutdown();
  }
});
