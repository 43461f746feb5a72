/**
 * The examples run as a user runs them: built by esbuild, each script in its own process.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches, rejects on exit or after 20 s. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

/** Every example process started, killed after the tests whatever happened. */
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

function runExample(name: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [join(root, 'dist', 'examples', `${name}.js`)], { cwd: root, env: { ...process.env, ...env } });
  started.push(child);
  return watch(name, child);
}

/** Collects a started process's output. */
function watch(name: string, child: ChildProcess): Running {
  let out = '';
  const listeners = new Set<() => void>();
  const onOutput = (d: Buffer) => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => reject(new Error(`${name}: no ${pattern} in 20 s:\n${out}`)), 20_000);
        listeners.add(check);
        exited.then(() => setImmediate(() => listeners.has(check) && (check(), listeners.has(check) && reject(new Error(`${name} exited:\n${out}`)))));
        check();
      });
    },
  };
}

test("the seed's manager and worker: 0..9 out, their squares back", async () => {
  const manager = runExample('seed-manager', { SYNCMANAGER_ADDRESS: '127.0.0.1:0', SYNCMANAGER_AUTHKEY: 'lihui' });
  const [, address] = await manager.waitFor(/Manager listening on (127\.0\.0\.1:\d+)/);
  await manager.waitFor(/Waiting for results/);
  const worker = runExample('seed-worker', { SYNCMANAGER_ADDRESS: address, SYNCMANAGER_AUTHKEY: 'lihui' });
  assert.equal(await worker.exited, 0, worker.output());
  assert.equal(await manager.exited, 0, manager.output());
  const puts = [...worker.output().matchAll(/Put: (\d+) => manager/g)].map((m) => Number(m[1]));
  assert.deepEqual(puts, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  assert.match(worker.output(), /worker exit/);
  const gets = [...manager.output().matchAll(/Get: (\d+) <= worker/g)].map((m) => Number(m[1]));
  assert.deepEqual(gets, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  assert.match(manager.output(), /manager exit/);
});

test("the tutorial's shared list: five worker processes each append one item", async () => {
  const manager = runExample('shared-list-manager', { SYNCMANAGER_ADDRESS: '127.0.0.1:0', SYNCMANAGER_AUTHKEY: 'abracadabra' });
  const [, address] = await manager.waitFor(/Manager listening on (127\.0\.0\.1:\d+)/);
  const workers = runExample('shared-list-workers', { SYNCMANAGER_ADDRESS: address, SYNCMANAGER_AUTHKEY: 'abracadabra' });
  assert.equal(await workers.exited, 0, workers.output());
  assert.match(workers.output(), /The shared list held 5 items/);
  for (let i = 0; i < 5; i++) assert.match(workers.output(), new RegExp(`Result from worker ${i}`));
  manager.child.kill('SIGINT');
  assert.equal(await manager.exited, 0);
  assert.match(manager.output(), /Shutting down manager/);
});

/** Runs `npm <args>` in the repository as a user types it, in its own process group (npm, sh, node). */
function runNpm(args: string[]): Running {
  const child = spawn('npm', args, { cwd: root, env: { ...process.env, SYNCMANAGER_ADDRESS: '', SYNCMANAGER_AUTHKEY: '' }, detached: true });
  started.push(child);
  const running = watch(`npm ${args.join(' ')}`, child);
  running.exited.finally(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // whatever npm started and left behind
    } catch {
      /* the group is gone */
    }
  });
  return running;
}

test('npm start -- --address and npm run worker -- --address meet on the chosen port', async () => {
  const manager = runNpm(['start', '--silent', '--', '--address', '127.0.0.1:0']);
  const [, address] = await manager.waitFor(/Manager listening on (127\.0\.0\.1:\d+)/);
  assert.notEqual(address, '127.0.0.1:50000');
  await manager.waitFor(/Waiting for results/);
  const worker = runNpm(['run', 'worker', '--silent', '--', '--address', address]);
  assert.equal(await worker.exited, 0, worker.output());
  assert.match(worker.output(), new RegExp(`Connect to server ${address.replace(/\./g, '\\.')}`));
  assert.equal(await manager.exited, 0, manager.output());
  assert.deepEqual([...manager.output().matchAll(/Get: (\d+) <= worker/g)].map((m) => Number(m[1])), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
});

test('npm start on a port in use says how to choose another', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = holder.address() as AddressInfo;
    const manager = runNpm(['start', '--silent', '--', '--address', `127.0.0.1:${port}`]);
    assert.equal(await manager.exited, 1, manager.output());
    assert.match(manager.output(), /the address is in use; choose another port: npm start -- --address 127\.0\.0\.1:\d+/);
  } finally {
    holder.close();
  }
});
