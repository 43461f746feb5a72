/**
 * The Python client of the JSON-RPC protocol (`clients/python`, package `syncmanager_client`),
 * written from protocol/SPEC.md alone, against our server, for every CPython 3.8+ on the machine
 * (one subtest per version):
 * - its unittest suite (`clients/python/tests`), which reaches the manager through
 *   SYNCMANAGER_TEST_ADDRESS / SYNCMANAGER_TEST_AUTHKEY and uses every built-in type;
 * - the seed: the TypeScript side puts 0..9 into the task queue, `examples/seed_worker.py` squares
 *   them into the result queue, the TypeScript side checks the squares;
 * - the conformance suite (protocol/conformance/scenarios) through
 *   `python -m syncmanager_client.conformance`, the interpreter any client can check itself with;
 * - and once per build mode, `pip install` of the package into a temporary directory, offline.
 *
 * Every wait is bounded; nothing sleeps to synchronise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';
import { startManager } from '../helpers/manager';
import { testFolder } from '../helpers/tempFolder';
import { assertExitedCleanly, python3s, pythonEnv, root, runPython, type PythonInstall } from '../python/helpers';

const clientDir = join(root, 'clients', 'python');
const scenarioDir = join(root, 'protocol', 'conformance', 'scenarios');
const AUTHKEY = 'py-client-key';

/** Every CPython 3.8 or later, oldest first. */
const pythons: PythonInstall[] = python3s().filter((p) => p.minor >= 8);

/** The environment of a script using the client from the source tree. */
function clientEnv(address: string, authkey: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // pythonEnv drops PYTHONPATH (a clean interpreter); ours is set after it.
  return { ...pythonEnv(address, authkey), PYTHONPATH: clientDir, ...extra };
}

/** A JavaScript class registered as a typeid of its own: the Python side sees it through an AutoProxy. */
class CounterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CounterError';
  }
}

class Counter {
  n: number;
  constructor(start = 0) {
    this.n = start;
  }
  increment(by = 1): number {
    this.n += by;
    return this.n;
  }
  value(): number {
    return this.n;
  }
  fail(): never {
    throw new CounterError('counter failed');
  }
  /** Mapped to Counter in methodToTypeid: the server makes `Counter(result)`, a new counter from this one's value. */
  child(): number {
    return this.n;
  }
}

test('there is a Python 3.8+ to test the client with', () => {
  assert.ok(pythons.length > 0, 'no CPython 3.8+ under pyenv: the Python client cannot be tested');
});

test('an older Python 3 (3.6, 3.7) is told at import that the client needs 3.8 or later', async (t) => {
  const older = python3s().filter((p) => p.minor < 8);
  if (older.length === 0) return t.skip('no Python 3 older than 3.8 under pyenv');
  for (const py of older) {
    const result = await runPython(py, ['-c', 'import syncmanager_client'], [], { ...process.env, PYTHONPATH: clientDir }, 20_000);
    assert.notEqual(result.code, 0, `${py.label}: the import must fail`);
    assert.match(result.stderr, /ImportError: syncmanager_client needs Python 3\.8 or later; this is Python 3\.[67]\./, `${py.label}: ${result.stderr}`);
  }
});

test('the unittest suite of clients/python against our server, for every Python 3.8+', async (t) => {
  for (const py of pythons) {
    await t.test(py.label, { timeout: 60_000 }, async (st) => {
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => {
        m.register('get_task_queue', { shared: 'Queue' });
        m.register('get_result_queue', { shared: 'Queue' });
        m.register('Counter', { callable: Counter, exposed: ['increment', 'value', 'fail', 'child'], methodToTypeid: { child: 'Counter' } });
      });
      const env = clientEnv(manager.address, AUTHKEY, { SYNCMANAGER_TEST_ADDRESS: manager.address, SYNCMANAGER_TEST_AUTHKEY: AUTHKEY });
      const result = await runPython(py, ['-m', 'unittest', 'discover', '-s', join(clientDir, 'tests'), '-t', clientDir], [], env, 50_000);
      assertExitedCleanly(result, `${py.label} unittest`);
      const ran = /^Ran (\d+) tests? in /m.exec(result.stderr);
      const verdict = /^OK(?: \((.*)\))?$/m.exec(result.stderr);
      assert.ok(ran && verdict, `unittest's summary:\n${result.stderr}`);
      assert.ok(Number(ran[1]) >= 90, `the whole suite ran (${ran[1]} tests)`);
      // With the Counter registered nothing has a reason to skip.
      assert.doesNotMatch(verdict[1] ?? '', /skipped/, `no test skipped:\n${result.stderr}`);
      st.diagnostic(`${ran[1]} tests, ${verdict[0]}`);
    });
  }
});

type Queues = { get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> };

test("the seed: TypeScript puts 0..9, Python's seed_worker.py squares them, for every Python 3.8+", async (t) => {
  for (const py of pythons) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ authkey: 'lihui' }, (m) => {
        m.register('get_task_queue', { shared: 'Queue' });
        m.register('get_result_queue', { shared: 'Queue' });
      });
      await using m = await connect<Queues>({ address: manager.address, authkey: 'lihui', name: 'seed-master' });
      const task = await m.get_task_queue();
      const result = await m.get_result_queue();
      for (let i = 0; i < 10; i++) await task.put(i);
      // The address and key from the environment, as a worker terminal gets them.
      const worker = await runPython(py, join(clientDir, 'examples', 'seed_worker.py'), [], clientEnv(manager.address, 'lihui'));
      assertExitedCleanly(worker, `${py.label} seed_worker.py`);
      const lines = worker.stdout.split('\n').filter((l) => l && !/^#+$/.test(l));
      assert.equal(lines[0], `Connect to server ${manager.address}`);
      assert.deepEqual(lines.slice(1), [...Array.from({ length: 10 }, (_, n) => [`Get: ${n} <= manager`, `Put: ${n * n} => manager`]).flat(), 'worker exit']);
      const squares: number[] = [];
      for (let i = 0; i < 10; i++) squares.push(await result.get({ timeout: 5 }));
      assert.deepEqual(squares, Array.from({ length: 10 }, (_, n) => n * n));
      assert.equal(squares.reduce((a, b) => a + b, 0), 285);
      assert.equal(await task.qsize(), 0);
    });
  }
});

test('the conformance scenarios through python -m syncmanager_client.conformance, for every Python 3.8+', async (t) => {
  const scenarios = existsSync(scenarioDir) ? readdirSync(scenarioDir).filter((f) => f.endsWith('.jsonl')) : [];
  if (scenarios.length === 0) {
    t.skip(`no scenarios in ${scenarioDir} yet`);
    return;
  }
  for (const py of pythons) {
    await t.test(py.label, { timeout: 60_000 }, async (st) => {
      // The server a scenario expects: the defaults, nothing registered (README); a short
      // handshake timeout so that the silent-handshake scenario is quick.
      await using manager = await startManager({ authkey: AUTHKEY, handshakeTimeoutMs: 1000 });
      const args = [manager.address, '--authkey', AUTHKEY, '--handshake-timeout-ms', '1000', '--scenarios', scenarioDir];
      const run = await runPython(py, ['-m', 'syncmanager_client.conformance'], args, clientEnv(manager.address, AUTHKEY), 50_000);
      const summary = /^(\d+) passed, (\d+) failed, (\d+) scenarios$/m.exec(run.stdout);
      assert.ok(summary, `the runner's summary:\n${run.stdout}\n${run.stderr}`);
      assert.equal(run.code, 0, `every scenario passes:\n${run.stdout.split('\n').filter((l) => !l.startsWith('ok ')).join('\n')}\n${run.stderr}`);
      assert.equal(Number(summary[3]), scenarios.length, 'every scenario file ran');
      st.diagnostic(summary[0]);
    });
  }
});

test('pip installs the package offline into a target directory, and it imports from there', async (t) => {
  const newest = pythons.at(-1);
  const oldest = pythons[0];
  assert.ok(newest && oldest);
  // The oldest Python without build isolation, the newest with it: the in-tree backend needs no
  // download either way.
  const cases: [PythonInstall, string[]][] = [
    [oldest, ['--no-build-isolation']],
    ...(newest === oldest ? [] : ([[newest, []]] as [PythonInstall, string[]][])),
  ];
  for (const [py, mode] of cases) {
    await t.test(`${py.label} ${mode.join(' ') || 'with build isolation'}`, { timeout: 90_000 }, async (st) => {
      const target = testFolder(st, 'client-pip');
      const env = { ...pythonEnv('', ''), PIP_NO_INDEX: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
      const install = await runPython(py, ['-m', 'pip', 'install', '--no-index', ...mode, '--target', target, clientDir], [], env, 80_000);
      assertExitedCleanly(install, `${py.label} pip install`);
      assert.ok(existsSync(join(target, 'syncmanager_client', '__init__.py')), `the package is in ${target}:\n${install.stdout}`);
      const check = await runPython(
        py,
        ['-c', 'import sys, syncmanager_client as s; assert s.__file__.startswith(sys.argv[1]), s.__file__; print(s.__version__, s.connect.__name__)', target],
        [],
        { ...pythonEnv('', ''), PYTHONPATH: target },
      );
      assertExitedCleanly(check, `${py.label} import from the target`);
      assert.equal(check.stdout.trim(), '0.1.0 connect');
    });
  }
});
