/**
 * `syncmanager serve --registrations-on-stdin`: typeids registered while the manager runs, one JSON
 * line each on stdin, answered one JSON line each on stdout (what the VS Code extension sends when
 * its `syncmanager.register` setting gains a typeid, so nothing queued is lost to a restart).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

/** The CLI serving with registrations on stdin; `reply(line)` sends a line and resolves with the answer. */
async function serve(t: { after(fn: () => unknown): void }) {
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--authkey', 'k', '--json', '--no-config', '--register', 'get_task_queue=Queue', '--registrations-on-stdin'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (what: string) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const { value, done } = await lines.next();
    clearTimeout(timer);
    assert.ok(!done, `no ${what} line within 10 s; stderr:\n${stderr}`);
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  const ready = await next('ready');
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  return {
    address: ready.address as string,
    log: () => stderr,
    reply: async (line: string) => {
      child.stdin!.write(`${line}\n`);
      return next('reply');
    },
  };
}

test('a typeid registered on stdin is served at once, also to a client connected before', async (t) => {
  const server = await serve(t);
  const early = await connect({ address: server.address, authkey: 'k', name: 'early' });
  t.after(() => early.close());
  assert.deepEqual(await server.reply(JSON.stringify({ register: 'jobs=Queue(2)' })), { registered: 'jobs', type: 'Queue' });
  const jobs = await (early as unknown as { jobs(): Promise<QueueProxy<string>> }).jobs();
  await jobs.put('a');
  await jobs.put('b');
  assert.equal(await jobs.full(), true, 'Queue(2): the arguments were applied');
  assert.match(server.log(), /registered typeid jobs \(Queue\) while serving/);
});

test('a line that cannot be registered is answered with what was wrong, and the manager keeps serving', async (t) => {
  const server = await serve(t);
  const answers = [
    await server.reply('not json'),
    await server.reply(JSON.stringify({ register: 'x=NoSuchType' })),
    await server.reply(JSON.stringify({ register: 'get_task_queue=LifoQueue' })),
    await server.reply(JSON.stringify({ something: 'else' })),
  ];
  assert.match(String(answers[0].error), /not a JSON line/);
  assert.match(String(answers[1].error), /unknown type "NoSuchType"/);
  assert.match(String(answers[2].error), /get_task_queue is already registered: changing it needs a restart/);
  assert.match(String(answers[3].error), /expected \{"register": "TYPEID=TYPE"\}/);
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: server.address, authkey: 'k' });
  t.after(() => client.close());
  await (await client.get_task_queue()).put(1);
});
