/**
 * Reconnection in the Python JSON client (clients/python): a worker loop carries on through a
 * SIGKILL and restart of the manager on the same port, for the oldest and newest Python 3.8+ here.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { python3s, pythonEnv, root, startPython } from '../python/helpers';

before(buildCli);

const clientDir = join(root, 'clients', 'python');
const worker = join(__dirname, 'fixtures', 'reconnecting_worker.py');
const seedTypeids = ['--register', 'get_task_queue=Queue', '--register', 'get_result_queue=Queue'];
const candidates = python3s().filter((p) => p.minor >= 8);
const pythons = candidates.length > 1 ? [candidates[0], candidates[candidates.length - 1]] : candidates;

test('there is a Python 3.8+ to run the reconnecting worker with', () => {
  assert.ok(pythons.length > 0, 'no CPython 3.8+ under pyenv');
});

for (const python of pythons) {
  test(`${python.label}: a Python JSON worker loop carries on through a SIGKILL and restart of the manager`, { timeout: 120_000 }, async () => {
    let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', ...seedTypeids]);
    const address = server.address;
    const client = await connect<{ get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> }>({ address, authkey: 'lihui', reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
    const restored = new Promise<void>((resolve) => client.on('restored', () => resolve()));
    const py = startPython(python, worker, [], { ...pythonEnv(address, 'lihui'), PYTHONPATH: clientDir });
    try {
      await py.waitForLine(/^ready$/);
      const tasks = await client.get_task_queue();
      const results = await client.get_result_queue();
      for (let n = 0; n < 5; n++) await tasks.put(n);
      for (let n = 0; n < 5; n++) assert.equal(await results.get({ timeout: 20 }), n * n);
      await py.waitForLine(/^done 5$/);
      await killServer(server);
      await py.waitForLine(/^lost: /);
      server = await serveProcess(['--address', address, '--authkey', 'lihui', ...seedTypeids]);
      await restored;
      for (let n = 5; n < 10; n++) await tasks.put(n);
      const squares = [];
      for (let n = 5; n < 10; n++) squares.push(await results.get({ timeout: 20 }));
      assert.deepEqual(squares, [25, 36, 49, 64, 81]);
      const finished = await py.finished(30_000);
      assert.equal(finished.code, 0, py.output());
      assert.match(finished.stdout, /^restored after \d+ tries$/m);
      assert.match(finished.stdout, /^stale: cannot call dict object \S+: the reference this proxy held ended when the connection to the manager at \S+ was lost/m);
      assert.match(finished.stdout, /^worker exit$/m);
    } finally {
      py.kill('SIGKILL');
      await client.close();
      await killServer(server);
    }
  });
}
