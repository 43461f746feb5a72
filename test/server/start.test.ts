/**
 * Manager.start(): the manager in a child process, as BaseManager.start() does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect, type QueueProxy } from '../../src/client';
import { Manager, Queue } from '../../src/server';
import { testFolder } from '../helpers/tempFolder';

test('start() serves shared built-ins from a child process until shutdown()', async () => {
  const manager = new Manager({ address: '127.0.0.1:0', authkey: 'k' });
  manager.register('get_task_queue', { shared: 'Queue' });
  manager.register('bounded', { shared: 'Queue', kwargs: { maxsize: 2 } });
  const address = await manager.start();
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  assert.equal(manager.address, address);
  const client = await connect<{ get_task_queue: QueueProxy<number>; bounded: QueueProxy<number> }>({ address, authkey: 'k' });
  const q = await client.get_task_queue();
  await q.put(41);
  assert.equal(await q.get(), 41);
  const b = await client.bounded();
  await b.put(1);
  await b.put(2);
  assert.equal(await b.full(), true);
  await client.close();
  await manager.shutdown();
  await assert.rejects(connect({ address, authkey: 'k', timeout: 2 }), /connection refused/);
  await manager.shutdown();
});

test('start() refuses callables it cannot send to a child, and says what to do instead', async () => {
  const manager = new Manager({ address: '127.0.0.1:0' });
  const queue = new Queue();
  manager.register('get_queue', { callable: () => queue });
  await assert.rejects(manager.start(), /cannot receive the callables registered for 'get_queue'.*config module.*listen\(\)/);
});

test('start() with a config module: the child loads it and serves its classes', async (t) => {
  const dir = testFolder(t, 'start');
  const file = join(dir, 'syncmanager.config.mjs');
  writeFileSync(file, `export default { register: { Greeter: { callable: class Greeter { hi(n) { return 'hi ' + n; } } } } };\n`);
  const manager = new Manager({ address: '127.0.0.1:0', authkey: 'k' });
  await manager.useConfig(file);
  const address = await manager.start();
  const client = await connect({ address, authkey: 'k' });
  const g = await client.create('Greeter');
  assert.equal(await g.hi('there'), 'hi there');
  await client.close();
  await manager.shutdown();
});

test('a started manager exits when the process that started it dies', async () => {
  const script = `
    const { Manager } = require('./src/server');
    const m = new Manager({ address: '127.0.0.1:0', authkey: 'k' });
    m.start().then(() => process.stdout.write(String(m['child'].pid) + '\\n'));
  `;
  const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const childPid = Number(line.toString().trim());
  assert.ok(childPid > 0);
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  // The child notices the lost IPC channel: wait for it to be gone, boundedly.
  let alive = true;
  for (let i = 0; i < 200 && alive; i++) {
    try {
      process.kill(childPid, 0);
      await new Promise((resolve) => setTimeout(resolve, 25));
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, `child ${childPid} outlived its parent`);
});
