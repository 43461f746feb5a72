/**
 * The TypeScript client: connect defaults, typed and dynamic proxies, errors by class, kwargs,
 * cancellation with AbortSignal, iteration, release and the FinalizationRegistry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  AbortError,
  AttributeError,
  connect,
  ConnectionClosedError,
  DictProxy,
  EmptyError,
  FullError,
  isManagerError,
  KeyError,
  kwargs,
  ListProxy,
  ManagerError,
  NamespaceProxy,
  ProxyReleasedError,
  QueueProxy,
  releaseProxy,
  RemoteError,
  tuple,
  UnknownObjectError,
  UnknownTypeidError,
  ValueProxy,
} from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';

class Greeter {
  constructor(private readonly greeting = 'hello') {}
  greet(name: string) {
    return `${this.greeting}, ${name}`;
  }
  release() {
    return 'remote release';
  }
  async slow(ms: number) {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
}

async function setup() {
  const manager = await startManager({}, (m) => {
    m.register('Greeter', { callable: Greeter });
    m.register('get_task_queue', { shared: 'Queue' });
  });
  const client = await connect({ address: manager.address, authkey: AUTHKEY, name: 'client-test' });
  return {
    manager,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await manager.shutdown();
    },
  };
}

/**
 * Runs a script in a child Node with `--expose-gc` (garbage collection on demand), given the
 * manager's address and authkey as arguments; resolves with what it printed. Bounded in time: a
 * regression that leaves the child waiting fails the test instead of hanging the suite.
 */
async function runWithGc(script: string, address: string): Promise<string> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script, address, AUTHKEY], { cwd: `${__dirname}/../..` });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  return out;
}

test('connect reads SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY when given nothing', async () => {
  await using manager = await startManager();
  const saved = { ...process.env };
  process.env.SYNCMANAGER_ADDRESS = manager.address;
  process.env.SYNCMANAGER_AUTHKEY = AUTHKEY;
  try {
    await using client = await connect();
    assert.equal(client.address, manager.address);
  } finally {
    process.env.SYNCMANAGER_ADDRESS = saved.SYNCMANAGER_ADDRESS;
    process.env.SYNCMANAGER_AUTHKEY = saved.SYNCMANAGER_AUTHKEY;
    if (saved.SYNCMANAGER_ADDRESS === undefined) delete process.env.SYNCMANAGER_ADDRESS;
    if (saved.SYNCMANAGER_AUTHKEY === undefined) delete process.env.SYNCMANAGER_AUTHKEY;
  }
});

test('connect without an address says how to give one; a refused port says so', async () => {
  const saved = process.env.SYNCMANAGER_ADDRESS;
  delete process.env.SYNCMANAGER_ADDRESS;
  try {
    await assert.rejects(connect({ authkey: 'x' }), /no manager address: pass \{ address \}.*SYNCMANAGER_ADDRESS/);
  } finally {
    if (saved !== undefined) process.env.SYNCMANAGER_ADDRESS = saved;
  }
  const manager = await startManager();
  const address = manager.address;
  await manager.shutdown();
  await assert.rejects(connect({ address, authkey: AUTHKEY }), (e: unknown) => e instanceof ConnectionClosedError && /connection refused \(is the manager running there\?\)/.test((e as Error).message));
  await assert.rejects(connect({ address: 'nohost', authkey: AUTHKEY }), /has no port/);
});

test('built-in typeids give typed proxies; a shared typeid is reached by its creation method', async () => {
  await using s = await setup();
  const manager = s.client as typeof s.client & { get_task_queue(): Promise<QueueProxy<number>> };
  assert.ok((await manager.get_task_queue()) instanceof QueueProxy);
  assert.ok((await s.client.create('dict')) instanceof DictProxy);
  assert.ok((await s.client.create('list')) instanceof ListProxy);
  assert.ok((await s.client.create('Namespace')) instanceof NamespaceProxy);
  assert.ok((await s.client.create('Value', 'i', 3)) instanceof ValueProxy);
});

test('QueueProxy: put and get, nowait, sizes, task_done and join, and errors by class with context', async () => {
  await using s = await setup();
  const q = await s.client.create<QueueProxy<string>>('Queue', kwargs({ maxsize: 1 }));
  await q.put('a');
  assert.equal(await q.full(), true);
  const full = await q.put('b', { timeout: 0.02 }).catch((e) => e);
  assert.ok(full instanceof FullError && full instanceof RemoteError && isManagerError(full));
  assert.match(full.message, /queue is full after 0\.0 s/);
  await assert.rejects(q.putNowait('b'), FullError);
  assert.equal(await q.qsize(), 1);
  assert.equal(await q.get(), 'a');
  const empty = await q.get({ timeout: 0.02 }).catch((e) => e);
  assert.ok(empty instanceof EmptyError);
  assert.match(empty.message, /queue is empty after 0\.0 s \(get\(\) on Queue #/);
  await assert.rejects(q.getNowait(), EmptyError);
  await assert.rejects(q.get({ block: false }), EmptyError);
  await q.taskDone();
  await q.join();
});

test('an AbortSignal withdraws a blocked get: AbortError, and the item stays for the next get', async () => {
  await using s = await setup();
  const q = await s.client.create<QueueProxy<string>>('Queue');
  const controller = new AbortController();
  const pending = q.get({ signal: controller.signal });
  await q.qsize();
  controller.abort();
  await assert.rejects(pending, AbortError);
  await q.put('stays');
  assert.equal(await q.get(), 'stays');
  const already = new AbortController();
  already.abort();
  await assert.rejects(q.get({ signal: already.signal }), AbortError);
});

test('iter({ timeout }) yields items as they come and ends when none comes in time', async () => {
  await using s = await setup();
  const q = await s.client.create<QueueProxy<number>>('Queue');
  for (let i = 0; i < 5; i++) await q.put(i);
  const seen: number[] = [];
  for await (const n of q.iter({ timeout: 0.05 })) seen.push(n);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  await q.put(7);
  for await (const n of q) {
    assert.equal(n, 7);
    break;
  }
  assert.equal(await q.qsize(), 0);
});

test('DictProxy, ListProxy, NamespaceProxy and ValueProxy map to the Python methods', async () => {
  await using s = await setup();
  const d = await s.client.create<DictProxy<number, unknown>>('dict');
  await d.set('a', 1);
  await d.set(tuple(1, 2), 2);
  assert.equal(await d.get('a'), 1);
  assert.equal(await d.get('zz', 9), 9);
  assert.equal(await d.has(tuple(1, 2)), true);
  assert.equal(await d.size(), 2);
  const missing = await d.getItem('zz').catch((e) => e);
  assert.ok(missing instanceof KeyError);
  assert.match(missing.message, /KeyError: 'zz'/);
  assert.deepEqual(missing.remoteArgs, ['zz']);
  assert.equal(await d.pop('a'), 1);
  const l = await s.client.create<ListProxy<number>>('list', [3, 1, 2]);
  await l.append(0);
  await l.sort();
  assert.deepEqual(await l.toArray(), [0, 1, 2, 3]);
  assert.equal(await l.at(-1), 3);
  assert.equal(await l.length(), 4);
  const ns = await s.client.create<NamespaceProxy>('Namespace', kwargs({ x: 1 }));
  assert.equal(await ns.get('x'), 1);
  await ns.set('y', 'two');
  assert.equal(await ns.get('y'), 'two');
  await assert.rejects(ns.get('nope'), AttributeError);
  const v = await s.client.create<ValueProxy<number>>('Value', 'i', 5);
  await v.set(6);
  assert.equal(await v.get(), 6);
});

test('a dynamic proxy calls any exposed method; await on it is safe; exposed names win over its own', async () => {
  await using s = await setup();
  const g = await s.client.create('Greeter', 'hi');
  assert.equal(await g.greet('there'), 'hi, there');
  assert.equal(await g.release(), 'remote release', 'a remote method named release is reachable');
  assert.equal(await g, g, 'awaiting a proxy does not call a remote then');
  await assert.rejects(g.nosuch(), (e: unknown) => e instanceof AttributeError && /not exposed/.test((e as Error).message));
  await g[releaseProxy]();
  await assert.rejects(g.greet('x'), ProxyReleasedError);
});

test('unknown typeids and released objects get their own error classes', async () => {
  await using s = await setup();
  await assert.rejects(s.client.create('Nope'), UnknownTypeidError);
  const q = await s.client.create<QueueProxy>('Queue');
  const again = s.client.proxyFor(q.token);
  await q.release();
  await assert.rejects(q.put(1), ProxyReleasedError);
  await assert.rejects(again.put(1), UnknownObjectError, 'the manager dropped the object with its last reference');
});

test('manager.<typeid>() for a typeid the manager does not serve names it, the manager and what is registered', async () => {
  await using s = await setup();
  const m = s.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  assert.equal(typeof m.get_result_queue, 'function', 'an unknown name still reads as a creation method, so calling it can explain');
  const error = await m.get_result_queue().then(() => assert.fail('created an unregistered typeid'), (e: unknown) => e);
  assert.ok(error instanceof UnknownTypeidError, String(error));
  assert.match((error as Error).message, /^the manager at 127\.0\.0\.1:\d+ serves no typeid "get_result_queue"; it serves Greeter, get_task_queue and /);
  assert.ok((error as Error).message.includes(s.manager.address), (error as Error).message);
  // Members, `then` and `toJSON` are not typeids: `await client` and JSON.stringify keep working.
  assert.equal((s.client as unknown as { then?: unknown }).then, undefined);
  assert.equal((s.client as unknown as { toJSON?: unknown }).toJSON, undefined);
});

test('a typeid registered after connecting is found when first called (the manager is asked again)', async () => {
  await using s = await setup();
  s.manager.register('get_result_queue', { shared: 'Queue' });
  const m = s.client as unknown as Record<string, () => Promise<QueueProxy>>;
  const results = await m.get_result_queue();
  await results.put(81);
  assert.equal(await results.get(), 81);
  assert.ok(s.client.typeids.has('get_result_queue'));
});

test('await using releases a proxy at the end of its block', async () => {
  await using s = await setup();
  {
    await using q = await s.client.create<QueueProxy>('Queue');
    await q.put(1);
    assert.equal(s.manager.table.size, 1);
  }
  await s.client.describe();
  assert.equal(s.manager.table.size, 0);
});

test('calls pending when the connection closes fail with ConnectionClosedError', async () => {
  await using s = await setup();
  const q = await s.client.create<QueueProxy>('Queue');
  const pending = q.get();
  await q.qsize();
  await s.client.close();
  await assert.rejects(pending, ConnectionClosedError);
  await assert.rejects(q.qsize(), (e: unknown) => e instanceof ManagerError);
});

test('a forgotten proxy gives its reference back once it is garbage collected', async () => {
  await using manager = await startManager();
  // A child with --expose-gc makes a proxy, keeps only its id, collects, and then finds the object gone.
  const script = `
    const { connect, UnknownObjectError } = require('./src/client');
    (async () => {
      const client = await connect({ address: process.argv[1], authkey: process.argv[2] });
      const observer = await connect({ address: process.argv[1], authkey: process.argv[2] });
      const token = await (async () => (await client.create('Queue')).token)();
      // Probed from another session, whose proxies hold no reference the probe could drop.
      const probe = () => observer.proxyFor(token).qsize().then(() => 'alive', (e) => (e instanceof UnknownObjectError ? 'released' : String(e)));
      let state = 'alive';
      for (let i = 0; i < 50 && state === 'alive'; i++) {
        global.gc();
        await new Promise((r) => setImmediate(r));
        state = await probe();
      }
      process.stdout.write(state);
      await client.close();
      await observer.close();
    })();
  `;
  const out = await runWithGc(script, manager.address);
  assert.equal(out, 'released');
});

test('an argument that cannot be sent rejects with a ManagerError naming where it was, and sends nothing', async () => {
  await using s = await setup();
  const q = await s.client.create<QueueProxy<unknown>>('Queue');
  const error = await q.put({ callback: () => 1 }).catch((e) => e);
  assert.ok(error instanceof ManagerError);
  assert.match(error.message, /cannot encode a function at \$\[0\]\.callback/);
  assert.equal(await q.qsize(), 0);
});

test('a released dynamic proxy that is then collected does not release another proxy’s reference', async () => {
  const greeter = new Greeter();
  await using manager = await startManager({}, (m) => m.register('get_greeter', { callable: () => greeter }));
  const script = `
    const { connect, releaseProxy } = require('./src/client');
    (async () => {
      const client = await connect({ address: process.argv[1], authkey: process.argv[2] });
      const keep = await client.create('get_greeter');
      let drop = await client.create('get_greeter');
      await drop[releaseProxy]();
      const greet = keep.greet;
      drop = null;
      for (let i = 0; i < 20; i++) { global.gc(); await new Promise((r) => setImmediate(r)); await client.describe(); }
      process.stdout.write(await greet('still here'));
      await client.close();
    })().catch((e) => process.stdout.write('failed: ' + e.message));
  `;
  const out = await runWithGc(script, manager.address);
  assert.equal(out, 'hello, still here');
});
