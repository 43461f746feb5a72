/**
 * A worker loop (TypeScript client, and the Python JSON client) carries on through a clean stop
 * and start of `serve --state FILE` on the same port, and the items queued when it stopped are
 * still there afterwards.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';
import { buildCli, killServer, serveProcess, stopServer, type ServerProcess } from '../helpers/serverProcess';
import { squareAcrossRestarts } from '../helpers/squaringWorker';
import { testFolder, type TestEnd } from '../helpers/tempFolder';
import { python3s, pythonEnv, root, startPython } from '../python/helpers';

before(buildCli);

const seedTypeids = ['--register', 'get_task_queue=Queue', '--register', 'get_result_queue=Queue'];
type Seed = { get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> };

/** A fresh state file's path, in a folder of its own that is removed when test `t` ends. */
function stateFile(t: TestEnd): string {
  return join(testFolder(t, 'restart'), 'state.json');
}

/** Stops the server as Ctrl-C would; asserts it exited cleanly. */
async function stopCleanly(server: ServerProcess): Promise<void> {
  assert.equal(await stopServer(server), 0, server.stderr());
}

test('a TypeScript worker loop carries on through a clean restart of serve --state, and queued items survive it', async (t) => {
  const file = stateFile(t);
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, ...seedTypeids]);
  const address = server.address;
  const options = { address, authkey: 'lihui', reconnect: { initialDelayMs: 10, maxDelayMs: 100 } };
  const producer = await connect<Seed>(options);
  const worker = await connect<Seed>(options);
  try {
    const tasks = await producer.get_task_queue();
    const results = await producer.get_result_queue();
    const workerTasks = await worker.get_task_queue();
    const workerResults = await worker.get_result_queue();
    const lost: string[] = [];
    // The worker loop: squares tasks one at a time, across the restart.
    const loop = squareAcrossRestarts(workerTasks, workerResults, 10, lost);
    for (let n = 0; n < 5; n++) await tasks.put(n);
    // Five squares wait in the result queue, and the worker waits in get(), when it stops.
    for (let i = 0; i < 1000 && (await results.qsize()) < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(await results.qsize(), 5);
    await stopCleanly(server);
    server = await serveProcess(['--address', address, '--authkey', 'lihui', '--state', file, ...seedTypeids]);
    // The same proxies, after the restart: the squares are there.
    assert.equal(await results.qsize(), 5);
    for (let n = 5; n < 10; n++) await tasks.put(n);
    const squares = [];
    for (let n = 0; n < 10; n++) squares.push(await results.get({ timeout: 20 }));
    assert.deepEqual(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    assert.equal(await loop, 10);
    assert.ok(lost.length >= 1, 'the get waiting at the stop failed as lost, and the loop went on');
  } finally {
    await producer.close();
    await worker.close();
    await killServer(server);
  }
});

const clientDir = join(root, 'clients', 'python');
const pythonWorker = join(__dirname, 'fixtures', 'reconnecting_worker.py');
const candidates = python3s().filter((p) => p.minor >= 8);
const pythons = candidates.length > 1 ? [candidates[0], candidates[candidates.length - 1]] : candidates;

for (const python of pythons) {
  test(`${python.label}: a Python JSON worker loop carries on through a clean restart of serve --state, and queued items survive it`, { timeout: 120_000 }, async (t) => {
    const file = stateFile(t);
    let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, ...seedTypeids]);
    const address = server.address;
    const client = await connect<Seed>({ address, authkey: 'lihui', reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
    const py = startPython(python, pythonWorker, [], { ...pythonEnv(address, 'lihui'), PYTHONPATH: clientDir });
    try {
      await py.waitForLine(/^ready$/);
      const tasks = await client.get_task_queue();
      const results = await client.get_result_queue();
      for (let n = 0; n < 5; n++) await tasks.put(n);
      await py.waitForLine(/^done 5$/);
      // The worker now waits in get(); these squares and tasks are what the restart must keep.
      const queued = [100, 101, 102];
      await stopCleanly(server);
      await py.waitForLine(/^(lost|call lost)/);
      server = await serveProcess(['--address', address, '--authkey', 'lihui', '--state', file, ...seedTypeids]);
      assert.equal(await results.qsize(), 5, 'the five squares are still in the result queue');
      for (const n of queued) await tasks.put(n);
      for (const n of [5, 6]) await tasks.put(n);
      const squares = [];
      for (let i = 0; i < 10; i++) squares.push(await results.get({ timeout: 20 }));
      assert.deepEqual(squares, [0, 1, 4, 9, 16, ...queued.map((n) => n * n), 25, 36]);
      const finished = await py.finished(30_000);
      assert.equal(finished.code, 0, py.output());
      assert.match(finished.stdout, /^restored after \d+ tries$/m);
    } finally {
      py.kill('SIGKILL');
      await client.close();
      await killServer(server);
    }
  });
}
