/**
 * `syncmanager serve --state FILE`: the shared objects' contents survive a clean stop and start;
 * a state file that is not a complete one of this version is refused, naming it; a SIGKILL leaves
 * the previous file as it was.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, tuple, type DictProxy, type ListProxy, type QueueProxy } from '../../src/client';
import { buildCli, killServer, serveProcess, stopServer } from '../helpers/serverProcess';
import { testFolder } from '../helpers/tempFolder';

before(buildCli);

const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
const registrations = [
  ['get_task_queue', 'Queue'],
  ['get_result_queue', 'Queue'],
  ['jobs', 'JoinableQueue'],
  ['stack', 'LifoQueue'],
  ['ranked', 'PriorityQueue(2)'],
  ['table', 'dict'],
  ['items', 'list'],
  ['tags', 'set'],
  ['config', 'Namespace'],
  ['count', 'Value("i", 0)'],
  ['samples', 'Array("d", [0, 0])'],
  ['ready', 'Event'],
  ['guard', 'Lock'],
].flatMap(([typeid, type]) => ['--register', `${typeid}=${type}`]);

type Shared = any;

test('a clean stop saves every shared built-in object and a start restores it, in order and with its types', async (t) => {
  const file = join(testFolder(t, 'state'), 'state.json');
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, ...registrations]);
  let client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  const nested = new Map<unknown, unknown>([[tuple<unknown>(1, 2), 'pair'], [3n ** 50n, Buffer.from([0, 255])]]);
  try {
    const tasks: QueueProxy<unknown> = await client.get_task_queue();
    for (let n = 0; n < 10; n++) await tasks.put(n);
    await tasks.put(tuple<unknown>('a', 2.5, null));
    await (await client.jobs()).put('job');
    const stack: QueueProxy<unknown> = await client.stack();
    for (const n of [1, 2, 3]) await stack.put(n);
    const ranked: QueueProxy<unknown> = await client.ranked();
    for (const n of [5, 1]) await ranked.put(tuple<unknown>(n, `p${n}`));
    const table: DictProxy<unknown, unknown> = await client.table();
    await table.set('nested', nested);
    await table.set(7, 'seven');
    const items: ListProxy<unknown> = await client.items();
    await items.extend([1, 'two', [3]]);
    await (await client.tags()).add('blue');
    await (await client.config()).set('mode', 'fast');
    await (await client.count()).set(41);
    await (await client.samples()).set(1, 2.0);
    await (await client.ready()).set();
    await client.close();
    assert.equal(await stopServer(server), 0, server.stderr());

    server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, ...registrations]);
    client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
    const restored: QueueProxy<unknown> = await client.get_task_queue();
    assert.equal(await restored.qsize(), 11);
    for (let n = 0; n < 10; n++) assert.equal(await restored.get({ block: false }), n);
    assert.deepEqual(await restored.get({ block: false }), tuple<unknown>('a', 2.5, null));
    const jobs: QueueProxy<unknown> = await client.jobs();
    assert.equal(await jobs.get({ block: false }), 'job');
    await jobs.taskDone();
    await jobs.join();
    const stack2: QueueProxy<unknown> = await client.stack();
    assert.deepEqual([await stack2.get(), await stack2.get(), await stack2.get()], [3, 2, 1]);
    const ranked2: QueueProxy<unknown> = await client.ranked();
    assert.equal(await ranked2.full(), true, 'PriorityQueue(2) is full again');
    assert.deepEqual(await ranked2.get(), tuple<unknown>(1, 'p1'));
    const table2: DictProxy<unknown, unknown> = await client.table();
    assert.deepEqual(await table2.get('nested'), nested);
    assert.equal(await table2.get(7), 'seven');
    assert.deepEqual(await (await client.items()).getValue(), [1, 'two', [3]]);
    assert.equal(await (await client.tags()).has('blue'), true);
    assert.equal(await (await client.config()).get('mode'), 'fast');
    assert.equal(await (await client.count()).get(), 41);
    assert.deepEqual(await (await client.samples()).slice(), [0, 2]);
    assert.equal(await (await client.ready()).isSet(), true);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.format, 'syncmanager-state');
    assert.equal(saved.version, 1);
    assert.equal(saved.objects.guard, undefined, 'a Lock has no data to save');
  } finally {
    await client.close();
    await killServer(server);
  }
});

test('a value holding a reference to a shared object is not saved, and the warning names it; the rest is kept', async (t) => {
  const file = join(testFolder(t, 'state'), 'state.json');
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'get_task_queue=Queue']);
  const client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  try {
    const tasks: QueueProxy<unknown> = await client.get_task_queue();
    await tasks.put('first');
    await tasks.put(await client.create('dict'));
    await tasks.put('third');
    await client.close();
    assert.equal(await stopServer(server), 0, server.stderr());
    assert.match(server.stderr(), /warning: state file .*state\.json: 1 value\(s\) not saved:\n {2}'get_task_queue' \(Queue\) item 1: it holds a reference to a shared dict, which does not outlive the server run/);
    server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'get_task_queue=Queue']);
    const again = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
    const q: QueueProxy<unknown> = await again.get_task_queue();
    assert.deepEqual([await q.get(), await q.get(), await q.qsize()], ['first', 'third', 0]);
    await again.close();
  } finally {
    await killServer(server);
  }
});

test('a saved typeid not registered now is kept in the file, and restored once it is registered again', async (t) => {
  const file = join(testFolder(t, 'state'), 'state.json');
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'a=Queue', '--register', 'b=Queue']);
  let client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  await (await client.b()).put('kept');
  await client.close();
  assert.equal(await stopServer(server), 0);
  server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'a=Queue', '--register', 'b=dict']);
  client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  await (await client.b()).set('new', 1);
  await client.close();
  assert.equal(await stopServer(server), 0, server.stderr());
  assert.match(server.stderr(), /the Queue saved for 'b' is kept in the file but not restored: it was saved as a Queue and is now a dict/);
  assert.match(server.stderr(), /'b' \(dict\): its contents, since the file keeps the Queue saved for 'b' before, which was not restored/);
  server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'a=Queue', '--register', 'b=Queue']);
  client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  try {
    assert.equal(await (await client.b()).get({ block: false }), 'kept');
  } finally {
    await client.close();
    await killServer(server);
  }
});

const badFiles: [string, string, RegExp][] = [
  ['truncated', '{"format":"syncmanager-state","version":1,"objects":{"q":{"type":"Queue","items":[1,2', /is cut short: its JSON ends before it is complete/],
  ['foreign JSON', '{"name":"some other program","objects":[]}', /is not a syncmanager state file: it has no "format": "syncmanager-state" member/],
  ['another version', '{"format":"syncmanager-state","version":2,"objects":{}}', /is of version 2; this syncmanager reads version 1/],
  ['not JSON', 'q: [1, 2]\n', /is not JSON/],
  ['empty', '', /is empty/],
  ['a malformed object', '{"format":"syncmanager-state","version":1,"objects":{"get_task_queue":{"type":"Queue","items":{}}}}', /the object saved for typeid 'get_task_queue' \(a Queue\) needs "items" as an array/],
  ['a value the queue refuses', '{"format":"syncmanager-state","version":1,"objects":{"get_task_queue":{"type":"Queue","items":[{"$int":"12x"}],"unfinished":1}}}', /the Queue saved for typeid 'get_task_queue' cannot be restored: .*\$int/],
];

for (const [what, text, problem] of badFiles) {
  test(`a state file that is ${what} is refused with exit code 1, naming the file and the problem; the server does not start`, (t) => {
    const file = join(testFolder(t, 'state'), 'state.json');
    writeFileSync(file, text);
    const run = spawnSync(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--authkey', 'lihui', '--no-config', '--json', '--state', file, '--register', 'get_task_queue=Queue'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, '', 'it never said it was ready');
    assert.ok(run.stderr.includes(`syncmanager: state file ${file}: `), run.stderr);
    assert.match(run.stderr, problem);
    assert.equal(readFileSync(file, 'utf8'), text, 'the file is left as it was');
  });
}

test('a server run with --no-opaque-pickles refuses a state file holding a pickled object it cannot read, naming its class', (t) => {
  const file = join(testFolder(t, 'state'), 'state.json');
  const opaque = { $opaque: { lang: 'python', type: '__main__.Task', data: Buffer.from('not read').toString('base64') } };
  const text = JSON.stringify({ format: 'syncmanager-state', version: 1, objects: { get_task_queue: { type: 'Queue', items: [1, opaque], unfinished: 2 } } });
  writeFileSync(file, text);
  const serve = (...flags: string[]) =>
    spawnSync(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--authkey', 'lihui', '--no-config', '--json', '--state', file, '--register', 'get_task_queue=Queue', ...flags], { encoding: 'utf8', timeout: 20_000 });
  const refused = serve('--no-opaque-pickles');
  assert.equal(refused.status, 1, refused.stderr);
  assert.equal(refused.stdout, '', 'it never said it was ready');
  assert.match(refused.stderr, /the Queue saved for typeid 'get_task_queue' cannot be restored: a pickled __main__\.Task object .*is refused/);
  assert.equal(readFileSync(file, 'utf8'), text, 'the file is left as it was');
});

test('a state file in a folder that does not exist is refused at start, not found out at shutdown', (t) => {
  const file = join(testFolder(t, 'state'), 'no such folder', 'state.json');
  const run = spawnSync(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--authkey', 'lihui', '--no-config', '--json', '--state', file, '--register', 'get_task_queue=Queue'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.ok(run.stderr.includes(`syncmanager: state file ${file}: cannot be written (ENOENT`), run.stderr);
  assert.match(run.stderr, /so nothing could be saved at shutdown/);
});

test('a SIGKILL leaves the previous state file intact, and the next start restores what it holds', async (t) => {
  const folder = testFolder(t, 'state');
  const file = join(folder, 'state.json');
  const args = ['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'get_task_queue=Queue'];
  let server = await serveProcess(args);
  let client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  await (await client.get_task_queue()).put('saved');
  await client.close();
  assert.equal(await stopServer(server), 0);
  const before = readFileSync(file, 'utf8');
  server = await serveProcess(args);
  client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  await (await client.get_task_queue()).put('lost with the kill');
  await client.close();
  await killServer(server);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.deepEqual(readdirSync(folder), ['state.json'], 'no temporary file is left behind');
  server = await serveProcess(args);
  client = await connect<Shared>({ address: server.address, authkey: 'lihui', reconnect: false });
  try {
    const q: QueueProxy<unknown> = await client.get_task_queue();
    assert.deepEqual([await q.get(), await q.qsize()], ['saved', 0]);
  } finally {
    await client.close();
    await killServer(server);
  }
});

test('a client\'s remote shutdown saves the state too, and so does a manager run with start() (a child process)', async (t) => {
  const { Manager } = await import('../../src/server');
  const file = join(testFolder(t, 'state'), 'state.json');
  const first = new Manager({ address: '127.0.0.1:0', authkey: 'lihui', stateFile: file }).register('get_task_queue', { shared: 'Queue' });
  const address = await first.start();
  const client = await connect<Shared>({ address, authkey: 'lihui', reconnect: false });
  await (await client.get_task_queue()).put('through a remote shutdown');
  await client.shutdownManager();
  await first.serveForever();
  const second = new Manager({ address: '127.0.0.1:0', authkey: 'lihui', stateFile: file }).register('get_task_queue', { shared: 'Queue' });
  const again = await connect<Shared>({ address: await second.start(), authkey: 'lihui', reconnect: false });
  try {
    assert.deepEqual([await (await again.get_task_queue()).get({ block: false })], ['through a remote shutdown']);
  } finally {
    await again.close();
    await second.shutdown();
  }
});

test('a state file that cannot be written at shutdown: exit code 1 with the reason, and the previous file left as it was', async (t) => {
  // A folder inside the test's own, so that the one moved aside below is removed with it.
  const folder = join(testFolder(t, 'state'), 'files');
  mkdirSync(folder);
  const file = join(folder, 'state.json');
  const args = ['--address', '127.0.0.1:0', '--authkey', 'lihui', '--state', file, '--register', 'get_task_queue=Queue'];
  let server = await serveProcess(args);
  assert.equal(await stopServer(server), 0);
  const before = readFileSync(file, 'utf8');
  server = await serveProcess(args);
  // The folder becomes a file's name: nothing can be written in it, whoever runs the test (root too).
  const moved = `${folder}.moved`;
  renameSync(folder, moved);
  writeFileSync(folder, 'not a folder');
  try {
    assert.equal(await stopServer(server), 1);
    assert.match(server.stderr(), new RegExp(`syncmanager: state file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot be written \\(.*\\); the previous state file is unchanged`));
    assert.equal(readFileSync(join(moved, 'state.json'), 'utf8'), before);
  } finally {
    await killServer(server);
  }
});
