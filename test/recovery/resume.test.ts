/**
 * Session resumption (`connect({ resume })`, SPEC 20.4): a client whose connection is cut keeps
 * its session on the manager for the window it asked for, and a reconnect within it resumes the
 * session: what it holds is still held, and the calls in flight at the cut take effect once each.
 * The manager runs as its own process, and a TCP relay between it and the client cuts the network.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { connect, ConnectionLostError, StaleProxyError, type ListProxy, type LockProxy, type DictProxy, type QueueProxy, type ManagerClient, type SessionSummary } from '../../src/client';
import { buildCli, killServer, serveProcess, type ServerProcess } from '../helpers/serverProcess';
import { startRelay, type TcpRelay } from '../helpers/tcpRelay';

before(buildCli);

const AUTHKEY = 'lihui';
/** Fast reconnection tries, so that a mended relay is found at once. */
const quickReconnect = { initialDelayMs: 10, maxDelayMs: 50 };

/** Resolves the next time `listen` calls back, with what it was given. */
function once<T>(listen: (listener: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => listen(resolve));
}

/** The manager's summary of session `id`, as another client's inspection sees it (undefined once it ended). */
async function sessionOf(observer: ManagerClient, id: string): Promise<SessionSummary | undefined> {
  return (await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === id);
}

/** Waits (bounded) until the manager shows session `id` in the state `wanted` asks for. */
async function untilSession(observer: ManagerClient, id: string, what: string, wanted: (s: SessionSummary | undefined) => boolean): Promise<SessionSummary | undefined> {
  let last: SessionSummary | undefined;
  const deadline = Date.now() + 10_000;
  for (let round = 0; round < 2000; round++) {
    last = await sessionOf(observer, id);
    if (wanted(last)) return last;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`session ${id} never became ${what}: ${JSON.stringify(last)}`);
}

async function withManager(body: (server: ServerProcess, relay: TcpRelay, observer: ManagerClient) => Promise<void>): Promise<void> {
  const server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', AUTHKEY]);
  const relay = await startRelay(server.address);
  const observer = await connect({ address: server.address, authkey: AUTHKEY, name: 'observer', reconnect: false });
  try {
    await body(server, relay, observer);
  } finally {
    await observer.close();
    await relay.close();
    await killServer(server);
  }
}

test('a resumed session keeps its lock, its dict, an unacknowledged delivery and a waiting get through a 2 s cut, and 20 calls in flight take effect once each', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'resumer', resume: { withinMs: 60_000 }, reconnect: quickReconnect });
    try {
      const sessionId = client.sessionId;
      const lock = await client.create<LockProxy>('Lock');
      assert.equal(await lock.acquire(), true);
      const dict = await client.create<DictProxy<number>>('dict');
      await dict.set('kept', 1);
      const list = await client.create<ListProxy<number>>('list');
      const queue = await client.create<QueueProxy<string>>('Queue');
      // An unacknowledged delivery: kept in flight through the cut, neither given back nor redelivered.
      const work = await client.create<QueueProxy<string>>('Queue');
      await work.put('job');
      const delivery = await work.get({ ack: true });
      assert.equal(delivery.value, 'job');
      const waitingGet = queue.get();
      // Awaited below; a failure before that must not surface as an unhandled rejection.
      waitingGet.catch(() => {});
      await untilSession(observer, sessionId, 'waiting in get', (s) => s?.pending.length === 1);
      const lost = once<Error>((l) => client.on('lost', l));
      const restored = once<{ resumed: boolean }>((l) => client.on('restored', l));
      // The manager carries out 20 appends, and the cut comes once it has answered them all, with
      // none of the answers let through: 20 calls in flight whose effect the client cannot know.
      relay.dropDownstream();
      const nullAnswers = relay.countDownstream('"result":null');
      let answered = 0;
      const appends = Array.from({ length: 20 }, (_, n) => list.append(n).then(() => void answered++));
      await relay.untilDownstream('"result":null', nullAnswers + 20);
      const cutAt = Date.now();
      relay.cut();
      assert.equal(answered, 0, 'the 20 calls are in flight at the cut');
      await lost;
      // The manager sees the connection gone and keeps the session, detached, with what it holds.
      const detached = await untilSession(observer, sessionId, 'detached', (s) => s?.resumableUntil !== undefined);
      assert.ok(detached!.resumableUntil! > Date.now());
      assert.deepEqual([...detached!.holds!].sort(), [lock.id, work.id].sort(), 'the lock, and the queue it holds a delivery of');
      assert.equal(detached!.pending.length, 1, 'the get waiting at the cut still waits');
      assert.equal(detached!.deliveries?.length, 1, 'the delivery is still in flight, held by the detached session');
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), false, 'the lock is still held');
      // The network stays down for 2 s (the scenario's length, not a synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (Date.now() - cutAt))));
      relay.mend();
      assert.equal((await restored).resumed, true);
      assert.equal(client.sessionId, sessionId);
      await Promise.all(appends);
      assert.equal(relay.countUpstream('"method":"append"'), 40, 'the 20 calls in flight were sent again after the resumption');
      assert.deepEqual((await list.toArray()).sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n), 'each append took effect exactly once');
      assert.equal(await dict.get('kept'), 1);
      assert.equal(await observer.callById(work.id, 'qsize'), 0, 'the delivery was not given back to its queue');
      assert.equal((await sessionOf(observer, sessionId))?.deliveries?.length, 1, 'still in flight after the resumption');
      await delivery.ack();
      assert.equal((await sessionOf(observer, sessionId))?.deliveries, undefined, 'acknowledged for good');
      assert.equal(await observer.callById(work.id, 'qsize'), 0);
      assert.equal(await lock.locked(), true);
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), false, 'the lock is still held after the resumption');
      await lock.unlock();
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), true, 'released by its holder, not before');
      await client.callById(queue.id, 'put', ['after']);
      assert.equal(await waitingGet, 'after', 'the get waiting at the cut got the item put after the resumption');
      const summary = await sessionOf(observer, sessionId);
      assert.equal(summary?.resumableUntil, undefined, 'attached again');
    } finally {
      await client.close();
    }
  });
});

test('a session not resumed within its window ends: its lock is freed, its calls fail, and the client starts a new session', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'late', resume: { withinMs: 1000 }, reconnect: quickReconnect });
    try {
      const sessionId = client.sessionId;
      // The observer's lock: it outlives the session that holds it.
      const lock = await observer.create<LockProxy>('Lock');
      assert.equal(await client.callById(lock.id, 'acquire'), true);
      const queue = await client.create<QueueProxy<string>>('Queue');
      const waitingGet = queue.get().then(
        () => assert.fail('the get of an expired session returned'),
        (error: unknown) => error,
      );
      await untilSession(observer, sessionId, 'waiting in get', (s) => s?.pending.length === 1);
      const restored = once<{ resumed: boolean }>((l) => client.on('restored', l));
      relay.cut();
      // Detached for a second (a busy machine may show it only gone: the refused resumption below
      // is what shows it was resumable), then gone.
      await untilSession(observer, sessionId, 'detached or gone', (s) => s === undefined || s.resumableUntil !== undefined);
      await untilSession(observer, sessionId, 'gone', (s) => s === undefined);
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), true, 'the expired session gave its lock back');
      relay.mend();
      assert.equal((await restored).resumed, false);
      assert.notEqual(client.sessionId, sessionId);
      const failed = await waitingGet;
      assert.ok(failed instanceof ConnectionLostError && /could not be resumed/.test(failed.message), String(failed));
      await assert.rejects(queue.qsize(), StaleProxyError);
      // The new session works, and is resumable in its turn.
      const list = await client.create<ListProxy<number>>('list');
      await list.append(1);
      assert.deepEqual(await list.toArray(), [1]);
      assert.equal(typeof client.serverInfo.resumeToken, 'string');
    } finally {
      await client.close();
    }
  });
});

test('without resume (the default) a cut connection gives everything back at once, as before', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'plain', reconnect: quickReconnect });
    try {
      assert.equal(client.serverInfo.resumeToken, undefined);
      assert.equal(client.serverInfo.capabilities.resume, undefined);
      const sessionId = client.sessionId;
      const lock = await observer.create<LockProxy>('Lock');
      assert.equal(await client.callById(lock.id, 'acquire'), true);
      relay.cut();
      const gone = await untilSession(observer, sessionId, 'gone', (s) => s === undefined || s.resumableUntil !== undefined);
      assert.equal(gone, undefined, 'never detached');
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), true);
    } finally {
      relay.mend();
      await client.close();
    }
  });
});

test('resume needs reconnection and a window above 0', { timeout: 60_000 }, async () => {
  await assert.rejects(connect({ address: '127.0.0.1:1', authkey: AUTHKEY, resume: { withinMs: 1000 }, reconnect: false }), /resume needs reconnection/);
  await assert.rejects(connect({ address: '127.0.0.1:1', authkey: AUTHKEY, resume: { withinMs: 0 } }), /resume.withinMs must be a number/);
});

test('a restarted manager does not know the token: the client is told so and goes on in a new session, shared typeids fetched again', { timeout: 60_000 }, async () => {
  const typeids = ['--register', 'get_task_queue=Queue'];
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', AUTHKEY, ...typeids]);
  const address = server.address;
  const client = await connect<{ get_task_queue: QueueProxy<number> }>({ address, authkey: AUTHKEY, name: 'restarted', resume: { withinMs: 60_000 }, reconnect: quickReconnect });
  try {
    const tasks = await client.get_task_queue();
    const own = await client.create<DictProxy<number>>('dict');
    // With a signal: the failed call lets go of its abort listener.
    const withdraw = new AbortController();
    const waitingGet = tasks.get({ signal: withdraw.signal }).then(
      () => assert.fail('a get of the lost session returned'),
      (error: unknown) => error,
    );
    // The get is on its way before the manager goes.
    await tasks.qsize();
    const restored = once<{ resumed: boolean }>((l) => client.on('restored', l));
    await killServer(server);
    server = await serveProcess(['--address', address, '--authkey', AUTHKEY, ...typeids]);
    assert.equal((await restored).resumed, false);
    const failed = await waitingGet;
    assert.ok(failed instanceof ConnectionLostError && /could not be resumed \(no session to resume with this token/.test(failed.message), String(failed));
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the failed call keeps no abort listener');
    await tasks.put(7);
    assert.equal(await tasks.get(), 7);
    await assert.rejects(own.keys(), StaleProxyError);
    assert.equal(typeof client.serverInfo.resumeToken, 'string');
  } finally {
    await client.close();
    await killServer(server);
  }
});

test('an item a waiting get took while its session was detached goes back to the queue when the window passes', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'taker', resume: { withinMs: 3000 }, reconnect: quickReconnect });
    try {
      const sessionId = client.sessionId;
      const queue = await observer.create<QueueProxy<string>>('Queue');
      const waitingGet = client.callById(queue.id, 'get').then(
        () => assert.fail('the get of an expired session returned'),
        (error: unknown) => error,
      );
      await untilSession(observer, sessionId, 'waiting in get', (s) => s?.pending.length === 1);
      relay.cut();
      await untilSession(observer, sessionId, 'detached', (s) => s?.resumableUntil !== undefined);
      await queue.put('x');
      // The get still waiting in the detached session took it.
      assert.equal(await queue.qsize(), 0);
      await untilSession(observer, sessionId, 'gone', (s) => s === undefined);
      assert.equal(await queue.qsize(), 1, 'given back when the session ended unresumed');
      assert.equal(await queue.getNowait(), 'x');
      relay.mend();
      assert.ok((await waitingGet) instanceof ConnectionLostError);
    } finally {
      await client.close();
    }
  });
});

test('a session started anew after a refused resumption is itself resumed at the next cut, its calls in flight taking effect once', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'anew', resume: { withinMs: 1000 }, reconnect: quickReconnect });
    try {
      const first = client.sessionId;
      const list = await client.create<ListProxy<number>>('list');
      for (let n = 0; n < 5; n++) await list.append(n);
      let restored = once<{ resumed: boolean }>((l) => client.on('restored', l));
      relay.cut();
      await untilSession(observer, first, 'gone', (s) => s === undefined);
      relay.mend();
      assert.equal((await restored).resumed, false, 'the expired session is not resumed');
      // The new session has received fewer answers than the old one had: its count starts anew.
      const second = client.sessionId;
      const queue = await client.create<QueueProxy<string>>('Queue');
      const getting = queue.get();
      getting.catch(() => {});
      await untilSession(observer, second, 'waiting in get', (s) => s?.pending.length === 1);
      restored = once<{ resumed: boolean }>((l) => client.on('restored', l));
      relay.cut();
      await untilSession(observer, second, 'detached', (s) => s?.resumableUntil !== undefined);
      relay.mend();
      assert.equal((await restored).resumed, true, 'the new session is resumed');
      assert.equal(client.sessionId, second);
      await observer.callById(queue.id, 'put', ['after']);
      assert.equal(await getting, 'after');
    } finally {
      await client.close();
    }
  });
});

/** Three gets of `client` waiting on a new queue, then its connection cut and its session detached (resumable). */
async function threeGetsDetached(client: ManagerClient, observer: ManagerClient, relay: TcpRelay) {
  const sessionId = client.sessionId;
  const queue = await observer.create<QueueProxy<string>>('Queue');
  const waitingGets = [0, 1, 2].map(() => client.callById(queue.id, 'get').catch((error: unknown) => error));
  await untilSession(observer, sessionId, 'waiting in three gets', (s) => s?.pending.length === 3);
  relay.cut();
  await untilSession(observer, sessionId, 'detached', (s) => s?.resumableUntil !== undefined);
  return { sessionId, queue, waitingGets };
}

test('items several waiting gets took while their session was detached go back when the window passes, to come out again in the order they were taken', { timeout: 60_000 }, async () => {
  await withManager(async (_server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'taker', resume: { withinMs: 3000 }, reconnect: quickReconnect });
    try {
      const { sessionId, queue, waitingGets } = await threeGetsDetached(client, observer, relay);
      for (const item of ['a', 'b', 'c', 'd']) await queue.put(item);
      // The gets still waiting in the detached session took the first three, in turn.
      assert.equal(await queue.qsize(), 1);
      await untilSession(observer, sessionId, 'gone', (s) => s === undefined);
      assert.deepEqual([await queue.getNowait(), await queue.getNowait(), await queue.getNowait(), await queue.getNowait()], ['a', 'b', 'c', 'd']);
      relay.mend();
      for (const outcome of await Promise.all(waitingGets)) assert.ok(outcome instanceof ConnectionLostError);
    } finally {
      await client.close();
    }
  });
});

test('items several waiting gets took while their session was detached, given back when the window passes, go to the gets waiting then in the order they were taken', { timeout: 60_000 }, async () => {
  await withManager(async (server, relay, observer) => {
    const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'taker', resume: { withinMs: 3000 }, reconnect: quickReconnect });
    const other = await connect({ address: server.address, authkey: AUTHKEY, name: 'other', reconnect: false });
    try {
      const { sessionId, queue, waitingGets } = await threeGetsDetached(client, observer, relay);
      for (const item of ['a', 'b', 'c']) await queue.put(item);
      assert.equal(await queue.qsize(), 0);
      // Two gets of another client wait on the emptied queue when the three items come back.
      const later = [other.callById(queue.id, 'get'), other.callById(queue.id, 'get')];
      await untilSession(observer, other.sessionId, 'waiting in two gets', (s) => s?.pending.length === 2);
      await untilSession(observer, sessionId, 'gone', (s) => s === undefined);
      assert.deepEqual([...(await Promise.all(later)), await queue.getNowait()], ['a', 'b', 'c']);
      relay.mend();
      for (const outcome of await Promise.all(waitingGets)) assert.ok(outcome instanceof ConnectionLostError);
    } finally {
      await other.close();
      await client.close();
    }
  });
});
