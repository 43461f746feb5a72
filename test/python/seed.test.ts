/**
 * The seed's task queue, all in Python, against our server: `syncmanager serve` plays the seed's
 * manager process (two shared queues, authkey `lihui`), `examples/python/task_master.py` puts
 * 0..9 and reads the results, `examples/python/task_worker.py` squares them. For every CPython
 * on the machine (one subtest per version), across versions (a Python 2 and a Python 3 client of
 * one manager, which no CPython manager can serve), and the seed's worker in its original Python
 * 2 form under 2.7.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertExitedCleanly,
  example,
  findPythons,
  fixture,
  python2,
  python3s,
  pythonEnv,
  requirePythons,
  runPython,
  serveCli,
  startPython,
  type PythonInstall,
} from './helpers';

const AUTHKEY = 'lihui';
const QUEUES = ['get_task_queue=Queue', 'get_result_queue=Queue'];
const SQUARES = [0, 1, 4, 9, 16, 25, 36, 49, 64, 81];

/** What task_master.py prints, as the seed's manager.py did. */
const masterLines = [
  ...Array.from({ length: 10 }, (_, i) => `Put: ${i} => worker`),
  'Waiting for results ...',
  ...SQUARES.map((r) => `Get: ${r} <= worker`),
  'manager exit',
];

/** What the seed's worker.py prints for the ten tasks (its separator lines left out). */
const workerLines = [...Array.from({ length: 10 }, (_, n) => [`Get: ${n} <= manager`, `Put: ${n * n} => manager`]).flat(), 'worker exit'];

const withoutSeparators = (lines: string[]) => lines.filter((l) => !/^#+$/.test(l));

/** task_master.py's output lines, without the notice it prints when the worker is slow to start. */
const masterOutput = (stdout: string) => stdout.split('\n').filter((l) => l !== '' && !/^No result yet: /.test(l));

/** Master (under `masterPy`) and worker (under `workerPy`) against one `syncmanager serve`. */
async function seedRound(masterPy: PythonInstall, workerPy: PythonInstall, worker: { script: string; viaRedirect?: boolean } = { script: example('task_worker.py') }) {
  await using server = await serveCli(AUTHKEY, QUEUES);
  const env = pythonEnv(server.address, AUTHKEY);
  // The master takes the address as arguments, the worker from the environment: both ways work.
  const master = startPython(masterPy, example('task_master.py'), [server.address, AUTHKEY], { ...env, SYNCMANAGER_ADDRESS: '', SYNCMANAGER_AUTHKEY: '' });
  // The seed's order: the manager has put every task before the worker starts.
  await master.waitForLine(/^Waiting for results \.\.\.$/);
  const workerScript = worker.viaRedirect ? [fixture('redirect.py'), worker.script] : [worker.script];
  const done = await runPython(workerPy, workerScript, [], env);
  assertExitedCleanly(done, `${workerPy.label} worker`);
  const finished = await master.finished();
  assertExitedCleanly(finished, `${masterPy.label} task_master.py`);

  const wlines = done.stdout.split('\n').filter(Boolean);
  assert.match(wlines[0], /^Connect to server\b/, done.stdout);
  assert.deepEqual(withoutSeparators(wlines.slice(1)), workerLines, `the worker's output:\n${done.stdout}`);
  assert.deepEqual(masterOutput(finished.stdout), masterLines, `the master's output:\n${finished.stdout}`);
}

const all = requirePythons();

test('the seed: Python task_master.py and task_worker.py against syncmanager serve, for every Python', async (t) => {
  for (const py of all) {
    await t.test(py.label, { timeout: 60_000 }, async () => {
      await using server = await serveCli(AUTHKEY, QUEUES);
      const env = pythonEnv(server.address, AUTHKEY);
      const master = startPython(py, example('task_master.py'), [server.address, AUTHKEY], { ...env, SYNCMANAGER_ADDRESS: '', SYNCMANAGER_AUTHKEY: '' });
      await master.waitForLine(/^Waiting for results \.\.\.$/);
      const worker = await runPython(py, example('task_worker.py'), [], env);
      assertExitedCleanly(worker, 'task_worker.py');
      const finished = await master.finished();
      assertExitedCleanly(finished, 'task_master.py');
      const wlines = worker.stdout.split('\n').filter(Boolean);
      assert.equal(wlines[0], 'Connect to server 127.0.0.1');
      assert.deepEqual(withoutSeparators(wlines.slice(1)), workerLines, `the worker's output:\n${worker.stdout}`);
      assert.deepEqual(masterOutput(finished.stdout), masterLines, `the master's output:\n${finished.stdout}`);

      // Again with no tasks: the worker's get(timeout=1) raises queue.Empty (Queue.Empty on 2.7),
      // which the worker catches by its own Python's class.
      const idle = await runPython(py, example('task_worker.py'), [], env);
      assertExitedCleanly(idle, 'task_worker.py with an empty queue');
      assert.deepEqual(idle.stdout.split('\n').filter(Boolean), ['Connect to server 127.0.0.1', 'task queue is empty', 'worker exit']);
    });
  }
});

test('one manager, two Pythons: a Python 2.7 master with a Python 3 worker, and the reverse', async (t) => {
  const py2 = python2();
  const newest = python3s().at(-1);
  assert.ok(py2 && newest, `needs a 2.7 and a 3.x: found ${findPythons().map((p) => p.version).join(', ')}`);
  await t.test(`${py2.label} task_master.py, ${newest.label} task_worker.py`, { timeout: 60_000 }, async () => {
    await seedRound(py2, newest);
  });
  await t.test(`${newest.label} task_master.py, ${py2.label} task_worker.py`, { timeout: 60_000 }, async () => {
    await seedRound(newest, py2);
  });
});

test("the seed's worker.py in its original Python 2 form, under 2.7", { timeout: 60_000 }, async () => {
  const py2 = python2();
  assert.ok(py2, 'a Python 2.7 is on this machine');
  // The file hard-codes ('', 5000); redirect.py points its BaseManager at our free port, nothing else.
  await seedRound(py2, py2, { script: fixture('seed_worker_py2.py'), viaRedirect: true });
});

test('task_master.py with no worker waits, and Ctrl-C takes its untaken tasks back and exits without a traceback', async (t) => {
  const pythons = [python2(), python3s().at(-1)].filter((p): p is PythonInstall => p !== undefined);
  for (const py of pythons) {
    await t.test(py.label, { timeout: 60_000 }, async () => {
      await using server = await serveCli(AUTHKEY, QUEUES);
      const env = pythonEnv(server.address, AUTHKEY);
      const master = startPython(py, example('task_master.py'), [], env);
      await master.waitForLine(/^Waiting for results \.\.\.$/);
      await master.waitForLine(/^No result yet: start a worker/);
      master.kill('SIGINT');
      const finished = await master.finished();
      assert.equal(finished.code, 130, master.output());
      assert.doesNotMatch(finished.stderr, /Traceback/, master.output());
      assert.match(finished.stdout, /Stopped: took back the 10 tasks no worker took and 0 results not read\./, master.output());
      // The next run starts clean: nothing left in either queue.
      const probe = await runPython(py, ['-c', QUEUE_SIZES], [], env);
      assertExitedCleanly(probe, 'the queue-size probe');
      assert.equal(probe.stdout.trim(), '0 0');
    });
  }
});

/** Prints the sizes of the seed's two queues, with Python's own client. */
const QUEUE_SIZES = `
import os
from multiprocessing.managers import BaseManager
host, _, port = os.environ['SYNCMANAGER_ADDRESS'].rpartition(':')
BaseManager.register('get_task_queue'); BaseManager.register('get_result_queue')
m = BaseManager(address=(host, int(port)), authkey=os.environ['SYNCMANAGER_AUTHKEY'].encode('utf-8')); m.connect()
print('%d %d' % (m.get_task_queue().qsize(), m.get_result_queue().qsize()))
`;
