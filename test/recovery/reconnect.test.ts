/**
 * Reconnection by default: a client whose manager is SIGKILLed and started again on the same port
 * carries on; proxies of shared typeids work again, other proxies fail with an error naming them.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ConnectionClosedError, ConnectionLostError, StaleProxyError, type QueueProxy } from '../../src/client';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { squareAcrossRestarts } from '../helpers/squaringWorker';

before(buildCli);

const seedTypeids = ['--register', 'get_task_queue=Queue', '--register', 'get_result_queue=Queue'];

/** Resolves the next time `listen` calls back. */
function once(listen: (listener: () => void) => void): Promise<void> {
  return new Promise((resolve) => listen(resolve));
}

test('a worker loop carries on through a SIGKILL and restart of the manager on the same port', async () => {
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', ...seedTypeids]);
  const address = server.address;
  const client = await connect<{ get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> }>({
    address,
    authkey: 'lihui',
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
  });
  try {
    const tasks = await client.get_task_queue();
    const results = await client.get_result_queue();
    const own = await client.create('dict');
    const lost = once((l) => client.on('lost', l));
    const restored = once((l) => client.on('restored', l));
    // The worker loop: one item at a time, 10 items, across the crash.
    const worker = squareAcrossRestarts(tasks, results, 10);
    for (let n = 0; n < 5; n++) await tasks.put(n);
    for (let n = 0; n < 5; n++) assert.equal(await results.get({ timeout: 10 }), n * n);
    // The worker now waits in get(): kill the manager under it.
    await killServer(server);
    await lost;
    // A call made while the manager is away waits for the connection to come back.
    const putWhileAway = tasks.put(5);
    server = await serveProcess(['--address', address, '--authkey', 'lihui', ...seedTypeids]);
    await restored;
    await putWhileAway;
    for (let n = 6; n < 10; n++) await tasks.put(n);
    const squares = [];
    for (let n = 5; n < 10; n++) squares.push(await results.get({ timeout: 10 }));
    assert.deepEqual(squares, [25, 36, 49, 64, 81]);
    assert.equal(await worker, 10);
    // A proxy of an object that was not a shared typeid's is out of reach, and says which it was.
    await assert.rejects(own.keys(), (e: unknown) => e instanceof StaleProxyError && new RegExp(`dict object ${own.id}`).test((e as Error).message));
    assert.equal(client.connected, true);
  } finally {
    await client.close();
    await killServer(server);
  }
});

test('with reconnect: false a lost connection ends the client, as before', async () => {
  const server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', ...seedTypeids]);
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: server.address, authkey: 'lihui', reconnect: false });
  const tasks = await client.get_task_queue();
  const ended = new Promise<Error>((resolve) => client.connectionLost(resolve));
  const waiting = assert.rejects(tasks.get(), ConnectionLostError);
  await tasks.qsize();
  await killServer(server);
  await waiting;
  assert.ok((await ended) instanceof ConnectionClosedError);
  await assert.rejects(tasks.qsize(), ConnectionClosedError);
  assert.equal(client.connected, false);
});

test('a reconnect that cannot succeed within maxMs gives up: waiting calls fail and the client ends', async () => {
  const server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'lihui', ...seedTypeids]);
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address: server.address, authkey: 'lihui', reconnect: { initialDelayMs: 5, maxDelayMs: 20, maxMs: 300 } });
  const tasks = await client.get_task_queue();
  const ended = new Promise<Error>((resolve) => client.connectionLost(resolve));
  const lost = once((l) => client.on('lost', l));
  await killServer(server);
  // Seen as lost first: a call sent before the client read the close would fail as lost, not given up.
  await lost;
  await assert.rejects(tasks.qsize(), (e: unknown) => e instanceof ConnectionClosedError && /gave up reconnecting .* after 0\.3 s/.test((e as Error).message));
  assert.match((await ended).message, /gave up reconnecting/);
});
