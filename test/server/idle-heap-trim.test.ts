/**
 * The idle step of the CLI's processes (src/server/idleHeapTrim.ts): after a burst of puts, once
 * the process is idle, the young generation V8 grew under the burst is given back. Each way the
 * server is started runs it: `syncmanager serve`, `Manager.start()`'s child, the extension's
 * server process; the step's own log line says what the server's heap was before and after.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { connect, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import type * as ServerProcessModule from '../../src/extension/serverProcess';
import { buildCli, spawnServe } from '../helpers/serverProcess';
import { until } from '../helpers/until';

const root = join(__dirname, '..', '..');
/** Puts in the burst: enough for V8 to grow its young generation past the step's 4 MB. */
const PUTS = 50_000;
/** Long enough for the burst, two of the step's checks (5 s apart) and a slow machine. */
const STEP_WAIT_MS = 60_000;
const STEP_LINE = /idle: heap [\d.]+ → [\d.]+ MB \(young generation ([\d.]+) → ([\d.]+) MB\)/;

before(buildCli);

/** Puts {@link PUTS} small ints with 100 in flight, as a burst of clients would; the items stay queued. */
async function burst(address: string, authkey: string): Promise<void> {
  const client = await connect<{ get_queue: QueueProxy<number> }>({ address, authkey });
  const queue = await client.get_queue();
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < PUTS) await queue.put(next++);
  };
  await Promise.all(Array.from({ length: 100 }, loop));
  assert.equal(await queue.qsize(), PUTS);
  await client.close();
}

/** Waits for the step's log line among `lines()` and checks that it gave the young generation back. */
async function stepGaveBack(lines: () => string): Promise<void> {
  await until('the idle step to log what it did', () => lines().split('\n').some((line) => shrunk(line)), STEP_WAIT_MS);
}

/** Whether `line` is the step's and says the young generation shrank from grown to at most 4 MB. */
function shrunk(line: string): boolean {
  const match = STEP_LINE.exec(line);
  return match !== null && Number(match[1]) > 4 && Number(match[2]) <= 4;
}

test('syncmanager serve gives back the young generation once idle after a burst', async () => {
  const server = await spawnServe(['--json', '--no-config', '--address', '127.0.0.1:0', '--register', 'get_queue=Queue'], { env: { SYNCMANAGER_AUTHKEY: 'k' }, ready: /^\{.*\}$/m });
  try {
    const address = JSON.parse(/^\{.*\}$/m.exec(server.stdout)![0]).address as string;
    await burst(address, 'k');
    await stepGaveBack(server.stderr);
  } finally {
    process.kill(server.child.pid!, 'SIGTERM');
    await server.exited;
  }
});

test("Manager.start()'s child gives back the young generation once idle after a burst", async () => {
  const logged: string[] = [];
  const manager = new Manager({ address: '127.0.0.1:0', authkey: 'k', log: (line) => logged.push(line) });
  manager.register('get_queue', { shared: 'Queue' });
  const address = await manager.start();
  try {
    await burst(address, 'k');
    await stepGaveBack(() => logged.join('\n'));
  } finally {
    await manager.shutdown();
  }
});

test("the extension's server process gives back the young generation once idle after a burst", async () => {
  // The extension's own starting code, bundled beside dist/cli.js as dist/extension.js is (it finds the CLI beside itself).
  const bundle = join(root, 'dist', `idle-trim-test-${process.pid}.js`);
  await build({ entryPoints: [join(root, 'src', 'extension', 'serverProcess.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  const logged: string[] = [];
  try {
    const { startServerProcess } = (await import(bundle)) as typeof ServerProcessModule;
    const server = await startServerProcess({ address: '127.0.0.1:0', authkey: 'k', register: ['get_queue=Queue'], log: (line) => logged.push(line) });
    try {
      await burst(server.address, 'k');
      await stepGaveBack(() => logged.join('\n'));
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(bundle, { force: true });
  }
});
