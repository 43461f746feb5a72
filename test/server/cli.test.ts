/**
 * `syncmanager serve` as a user runs it: the built CLI in a child process, connected to by the
 * client, stopped with Ctrl-C (SIGINT).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';
import { testFolder } from '../helpers/tempFolder';
import { spawnServe } from '../helpers/serverProcess';
import { until } from '../helpers/until';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

/** Runs the CLI until its ready output shows; returns the process and what it printed. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}, cwd = root): Promise<{ child: ChildProcess; stdout: string; exited: Promise<number | null>; stderr(): string }> {
  const ready = await spawnServe(args, { env, cwd, ready: /Press Ctrl-C to stop\.|^\{.*\}\n/m });
  return { child: ready.child, stdout: ready.stdout, exited: ready.exited.then(({ code }) => code), stderr: ready.stderr };
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, SYNCMANAGER_AUTHKEY: '', ...env }, timeout: 20_000 });
}

test('serve with the seed registrations: a client reaches both queues, and Ctrl-C stops it cleanly', async () => {
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--register', 'get_task_queue=Queue', '--register', 'get_result_queue=Queue', '--no-config']);
  const address = /serving on (\S+)/.exec(stdout)![1];
  assert.match(stdout, /typeids: get_task_queue, get_result_queue; built-in: Queue, JoinableQueue, LifoQueue, PriorityQueue, dict, list, set, Namespace, Value, Array, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier, Iterator/);
  assert.match(stdout, new RegExp(`export SYNCMANAGER_ADDRESS=${address} SYNCMANAGER_AUTHKEY=lihui`));
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address, authkey: 'lihui' });
  const q = await client.get_task_queue();
  await q.put(3);
  assert.equal(await q.get(), 3);
  await client.close();
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});

test('with no authkey a random one is made and printed, and it works', async () => {
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--no-config']);
  const [, address, key] = /SYNCMANAGER_ADDRESS=(\S+) SYNCMANAGER_AUTHKEY=([0-9a-f]{32})/.exec(stdout)!;
  const client = await connect({ address, authkey: key });
  await client.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('--json prints one machine-readable ready line', async () => {
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--json', '--quiet', '--no-config', '--register', 'jobs=Queue(5)']);
  const ready = JSON.parse(stdout.trim());
  assert.match(ready.address, /^127\.0\.0\.1:\d+$/);
  assert.match(ready.authkey, /^[0-9a-f]{32}$/);
  assert.ok(ready.typeids.includes('jobs'));
  const client = await connect({ address: ready.address, authkey: ready.authkey });
  const jobs = await client.create<QueueProxy>('jobs');
  for (let i = 0; i < 5; i++) await jobs.put(i);
  assert.equal(await jobs.full(), true, 'Queue(5) made a bounded queue');
  await client.close();
  child.kill('SIGINT');
  await exited;
});

test('a non-loopback address without an explicit authkey refuses to start', () => {
  const result = run(['serve', '--address', '0.0.0.0:0', '--no-config']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0:0 with a random authkey/);
});

test('usage errors name the problem and exit 2; --help and --version answer', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--register', 'x'], /expected TYPEID=TYPE/],
    [['serve', '--register', 'x=Bogus'], /unknown type "Bogus"/],
    [['serve', '--register', 'x=Value(i, 0)'], /arguments must be JSON/],
    [['serve', '--frobnicate'], /unknown option "--frobnicate"/],
    [['serve', '--address'], /--address needs a value/],
    [['serve', '--address', 'nowhere'], /has no port/],
    [['bogus'], /unknown command "bogus"/],
  ];
  for (const [args, pattern] of cases) {
    const result = run(args);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, pattern);
  }
  assert.match(run(['--help']).stdout, /syncmanager serve \[options\]/);
  assert.match(run(['--help']).stdout, /SYNCMANAGER_ADDRESS/, '--help documents the environment');
  assert.match(run(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('--register arguments a type refuses name the flag and the typeid, exit 2', () => {
  const result = run(['serve', '--address', '127.0.0.1:0', '--authkey', 'k', '--no-config', '--register', 'x=Queue("a")']);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--register 'x=Queue\("a"\)': cannot make a Queue for typeid 'x': 'str' object cannot be interpreted as an integer/);
});

test('an unclosed --register argument list is named as such', () => {
  const result = run(['serve', '--register', 'x=Queue(100']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--register 'x=Queue\(100': the "\(" after Queue is not closed: x=Queue\(100\)/);
});

test('an address that is only a port asks whether the loopback host was meant', () => {
  const result = run(['serve', '--address', '51005']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--address 51005: .*did you mean 127\.0\.0\.1:51005\?/);
});

test('serve listens on SYNCMANAGER_ADDRESS when no --address is given', async () => {
  const port = await freePort();
  const { child, stdout, exited } = await serve(['--authkey', 'k', '--no-config'], { SYNCMANAGER_ADDRESS: `127.0.0.1:${port}` });
  try {
    assert.match(stdout, new RegExp(`serving on 127\\.0\\.0\\.1:${port}\\b`));
    const client = await connect({ address: `127.0.0.1:${port}`, authkey: 'k' });
    await client.close();
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
});

test('--address wins over SYNCMANAGER_ADDRESS, and --authkey over SYNCMANAGER_AUTHKEY', async () => {
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--authkey', 'flag', '--no-config'], {
    SYNCMANAGER_ADDRESS: 'not an address',
    SYNCMANAGER_AUTHKEY: 'environment',
  });
  try {
    const address = /serving on (\S+)/.exec(stdout)![1];
    assert.match(stdout, /SYNCMANAGER_AUTHKEY=flag/);
    const client = await connect({ address, authkey: 'flag' });
    await client.close();
  } finally {
    child.kill('SIGINT');
  }
  await exited;
});

test('a bad SYNCMANAGER_ADDRESS is named as the environment variable, exit 2', () => {
  const result = run(['serve', '--no-config'], { SYNCMANAGER_ADDRESS: '51005' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /SYNCMANAGER_ADDRESS=51005: .*did you mean 127\.0\.0\.1:51005\?/);
});

test('an address in use is reported, exit 1', async () => {
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--authkey', 'k', '--no-config']);
  const address = /serving on (\S+)/.exec(stdout)![1];
  const result = run(['serve', '--address', address, '--authkey', 'k', '--no-config']);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /cannot listen on .*: the address is in use.*--address HOST:PORT.*SYNCMANAGER_ADDRESS/s);
  child.kill('SIGINT');
  await exited;
});

test('a config module in the folder is found and its custom class served with exposed enforced', async (t) => {
  const dir = testFolder(t, 'config');
  writeFileSync(
    join(dir, 'syncmanager.config.ts'),
    `import { defineConfig, Queue } from 'syncmanager/server';
class Counter {
  private n: number = 0;
  increment(by: number = 1): number { return (this.n += by); }
  reset(): void { this.n = 0; }
}
const jobs = new Queue();
export default defineConfig({
  register: {
    Counter: { callable: Counter, exposed: ['increment'] },
    get_jobs: { callable: () => jobs },
  },
});
`,
  );
  const { child, stdout, exited } = await serve(['--address', '127.0.0.1:0', '--authkey', 'k'], {}, dir);
  assert.match(stdout, /config .*syncmanager\.config\.ts/);
  const address = /serving on (\S+)/.exec(stdout)![1];
  const client = await connect({ address, authkey: 'k' });
  const counter = await client.create('Counter');
  assert.equal(await counter.increment(2), 2);
  await assert.rejects(counter.reset(), /not exposed/);
  const jobs = await client.create('get_jobs');
  assert.equal(jobs.constructor.name, 'QueueProxy', "the config's Queue is the server's own class");
  await client.close();
  child.kill('SIGINT');
  await exited;
});

/** Code of a registered class that fails outside any call, and what the manager's log says of it. */
const FAILING_LATER = [
  {
    what: 'a rejected promise no one handles',
    code: `void Promise.reject(new Error('left unhandled by user code'));`,
    logged: /a promise rejected and never handled \(the manager serves on\): Error: left unhandled by user code/,
  },
  {
    what: 'an exception thrown from a timer, outside any call',
    code: `setTimeout(() => {
      throw new Error('thrown later by user code');
    }, 0);`,
    logged: /an exception thrown outside any call \(the manager serves on\): Error: thrown later by user code/,
  },
];

for (const { what, code, logged } of FAILING_LATER) {
  test(`${what}, made by a registered class's code, is logged and the manager serves on`, async (t) => {
    const dir = testFolder(t, 'config');
    writeFileSync(
      join(dir, 'syncmanager.config.ts'),
      `import { defineConfig } from 'syncmanager/server';
class Failing {
  fail(): number {
    ${code}
    return 1;
  }
}
export default defineConfig({ register: { Failing: { callable: Failing } } });
`,
    );
    const { child, stdout, exited, stderr } = await serve(['--address', '127.0.0.1:0', '--authkey', 'k'], {}, dir);
    const address = /serving on (\S+)/.exec(stdout)![1];
    const client = await connect({ address, authkey: 'k', reconnect: false });
    try {
      const failing = await client.create('Failing');
      const queue = await client.create<QueueProxy<number>>('Queue');
      await queue.put(5);
      assert.equal(await failing.fail(), 1);
      // Seen once the call's turn is over: the log says so; the queue's item and a second call prove the manager still serves.
      await until('the failure is logged', () => logged.test(stderr()), 10_000);
      assert.equal(await queue.get(), 5);
      assert.equal(await failing.fail(), 1);
      assert.equal(child.exitCode, null, stderr());
    } finally {
      await client.close();
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
}

test('a config module that does not compile is reported with file and line, exit 1', (t) => {
  const dir = testFolder(t, 'config');
  const file = join(dir, 'broken.config.ts');
  writeFileSync(file, 'export default {\n  register: { x: { callable: () => ( } }\n};\n');
  const result = run(['serve', '--address', '127.0.0.1:0', '--authkey', 'k', '--config', file]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /does not compile:\n.*broken\.config\.ts:2:\d+/);
  writeFileSync(file, 'export default { registr: {} };\n');
  assert.match(run(['serve', '--address', '127.0.0.1:0', '--authkey', 'k', '--config', file]).stderr, /unknown field 'registr'/);
});

test('a config module that throws is reported at its own source line', (t) => {
  const dir = testFolder(t, 'config');
  const file = join(dir, 'throws.config.ts');
  writeFileSync(file, "const limit: number = 1;\nif (limit > 0) throw new Error('planted failure');\nexport default {};\n");
  const result = run(['serve', '--address', '127.0.0.1:0', '--authkey', 'k', '--config', file]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /threw while loading: Error: planted failure\n\s+at .*throws\.config\.ts:2:\d+/);
});

/** A TCP port free at the moment of asking (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

test('serve refusing a store it took from SYNCMANAGER_STORE says where the store came from, not only the options', (t) => {
  const file = join(testFolder(t, 'state'), 'state.json');
  // No Redis is reached: the refusal comes first.
  const result = run(['serve', '--address', '127.0.0.1:0', '--no-config', '--state', file], { SYNCMANAGER_STORE: 'redis://:pw@127.0.0.1:1/0' });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--state keeps the objects of the in-memory store/);
  assert.match(result.stderr, /SYNCMANAGER_STORE/);
  assert.doesNotMatch(result.stderr, /pw/);
});
