/**
 * The TypeScript client's calls at the moment a resumable connection drops (SPEC 20.4): a call
 * queued in the turn of the cut, one cut after its first bytes, one sent whole and not answered,
 * one whose answer arrives half written, and calls whose answers the manager sends as the session
 * is resumed. Each call ends: answered once, never carried out twice, no item lost, no abort
 * listener left behind. A TCP relay between the client and a manager process cuts the network.
 */
import { test, before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { AbortError, ConnectionClosedError, ConnectionLostError, connect, type ListProxy, type LockProxy, type ManagerClient, type QueueProxy, type SessionSummary } from '../../src/client';
import { buildCli, killServer, serveProcess, type ServerProcess } from '../helpers/serverProcess';
import { startRelay, type TcpRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';

const AUTHKEY = 'lihui';
/** Fast reconnection tries, so that a mended relay is found at once. */
const quickReconnect = { initialDelayMs: 10, maxDelayMs: 50 };
/** How long a call may take to end once it should; past it the test fails instead of hanging. */
const ENDS_WITHIN_MS = 15_000;

let server: ServerProcess;
let observer: ManagerClient;

before(async () => {
  buildCli();
  server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', AUTHKEY]);
  observer = await connect({ address: server.address, authkey: AUTHKEY, name: 'observer', reconnect: false });
});

after(async () => {
  await observer?.close();
  if (server) await killServer(server);
});

/** `promise`, or a failure naming `what` when it has not settled within {@link ENDS_WITHIN_MS}. */
function endsSoon<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} never ended (waited ${ENDS_WITHIN_MS} ms)`)), ENDS_WITHIN_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function sessionOf(id: string): Promise<SessionSummary | undefined> {
  return (await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === id);
}

/**
 * A resumable client through a fresh relay; `body` cuts the network as it likes, and the relay is
 * mended once the client has seen the loss. The session must come back resumed, unless `resumes` is false.
 */
async function withResumable(name: string, body: (client: ManagerClient, relay: TcpRelay) => Promise<void>, resumes = true): Promise<void> {
  const relay = await startRelay(server.address);
  const client = await connect({ address: relay.address, authkey: AUTHKEY, name, resume: { withinMs: 60_000 }, reconnect: quickReconnect });
  const resumed: boolean[] = [];
  client.on('lost', () => relay.mend());
  client.on('restored', (info) => resumed.push(info.resumed));
  try {
    await body(client, relay);
    if (resumes) assert.ok(resumed.length > 0 && resumed.every(Boolean), `resumed after each cut: ${JSON.stringify(resumed)}`);
  } finally {
    await client.close();
    await relay.close();
  }
}

test('a call made in the turn the connection is cut (still in the outbox) is sent on the resumed session and carried out once', { timeout: 60_000 }, async () => {
  await withResumable('outbox', async (client, relay) => {
    const list = await client.create<ListProxy<string>>('list');
    const withdraw = new AbortController();
    relay.cut();
    // The client has not heard of the cut yet: the frame goes into the outbox of a dead socket.
    const appending = list.callMethod('append', ['queued'], undefined, { signal: withdraw.signal });
    await endsSoon('the append', appending);
    assert.deepEqual(await list.toArray(), ['queued'], 'carried out exactly once');
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the answered call keeps no abort listener');
  });
});

test('a put cut after its first bytes reached the manager is sent again whole and carried out once', { timeout: 60_000 }, async () => {
  await withResumable('first-bytes', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const withdraw = new AbortController();
    const cut = relay.cutMidway('upstream', 'first-bytes-item');
    const putting = queue.put('first-bytes-item', { signal: withdraw.signal });
    await cut;
    await endsSoon('the put', putting);
    assert.equal(await observer.callById(queue.id, 'qsize'), 1, 'put exactly once');
    assert.equal(await queue.get(), 'first-bytes-item');
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the answered call keeps no abort listener');
  });
});

test('a put and an acknowledged get sent whole whose answers never arrived are answered once after the resumption', { timeout: 60_000 }, async () => {
  await withResumable('unanswered', async (client, relay) => {
    const list = await client.create<ListProxy<string>>('list');
    const queue = await client.create<QueueProxy<string>>('Queue');
    await queue.put('acked-item');
    relay.dropDownstream();
    const before = relay.countDownstream('"deliveryId"');
    const withdraw = new AbortController();
    const appending = list.callMethod('append', ['once'], undefined, { signal: withdraw.signal });
    const delivering = queue.get({ ack: true, signal: withdraw.signal });
    // Both carried out by the manager, their answers dropped on the way.
    await relay.untilDownstream('"deliveryId"', before + 1);
    await eventually('the append carried out', () => observer.callById(list.id, '__len__'), (n) => n === 1);
    relay.cut();
    await endsSoon('the append', appending);
    const delivery = await endsSoon('the acknowledged get', delivering);
    assert.equal(delivery.value, 'acked-item');
    assert.equal(delivery.redelivered, false, 'the same delivery, answered again, not a new one');
    assert.deepEqual(await list.toArray(), ['once'], 'the append was not carried out again');
    await delivery.ack();
    assert.equal(await observer.callById(queue.id, 'qsize'), 0, 'the item is not back in the queue');
    assert.equal((await sessionOf(client.sessionId))?.deliveries, undefined, 'and no delivery is left in flight');
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the answered calls keep no abort listener');
  });
});

test('a get whose answer arrived half written is answered whole after the resumption, its item neither lost nor taken twice', { timeout: 60_000 }, async () => {
  await withResumable('half-answer', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    await queue.put('half-answer-item');
    await queue.put('next-item');
    const withdraw = new AbortController();
    const cut = relay.cutMidway('downstream', 'half-answer-item');
    const getting = queue.get({ signal: withdraw.signal });
    await cut;
    assert.equal(await endsSoon('the get', getting), 'half-answer-item');
    assert.equal(await observer.callById(queue.id, 'qsize'), 1, 'one item taken, once');
    assert.equal(await queue.get(), 'next-item');
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the answered call keeps no abort listener');
  });
});

test('70 gets whose items came while the session was detached each get their own item once it is resumed, none carried out again', { timeout: 90_000 }, async () => {
  // More answers than the client counts between two $/answersSeen (64), large enough to take the
  // client several reads: the manager sends them as the session is resumed, and the client must
  // not tell it they arrived and then ask for them again.
  const GETS = 70;
  const padding = 'x'.repeat(4000);
  await withResumable('detached-answers', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const sessionId = client.sessionId;
    const withdraw = new AbortController();
    setMaxListeners(GETS + 1, withdraw.signal);
    const gets = Array.from({ length: GETS }, () => queue.get({ signal: withdraw.signal }));
    for (const get of gets) get.catch(() => {});
    await eventually('the gets waiting', () => sessionOf(sessionId), (s) => s?.pending.length === GETS);
    // Kept down until the items are in: the relay is mended by hand here, not on the loss.
    const mendLater = relay.mend.bind(relay);
    relay.mend = () => {};
    relay.cut();
    await eventually('the session detached', () => sessionOf(sessionId), (s) => s?.resumableUntil !== undefined);
    for (let n = 0; n < GETS; n++) await observer.callById(queue.id, 'put', [`${n} ${padding}`]);
    await eventually('every get answered while detached', () => sessionOf(sessionId), (s) => s?.pending.length === 0);
    mendLater();
    const got = await endsSoon('the gets', Promise.all(gets));
    const numbers = got.map((item) => Number(item.split(' ')[0])).sort((a, b) => a - b);
    assert.deepEqual(numbers, Array.from({ length: GETS }, (_, n) => n), 'each item got once');
    assert.equal(await observer.callById(queue.id, 'qsize'), 0);
    assert.equal((await sessionOf(sessionId))?.pending.length, 0, 'no get carried out again, waiting for items that will not come');
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the answered calls keep no abort listener');
  });
});

test('a waiting get aborted while the connection is down is withdrawn on the resumed session and lets go of its abort listener', { timeout: 60_000 }, async () => {
  await withResumable('aborted-while-down', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const sessionId = client.sessionId;
    const withdraw = new AbortController();
    const getting = queue.get({ signal: withdraw.signal }).then(
      () => assert.fail('the aborted get returned an item'),
      (error: unknown) => error,
    );
    await eventually('the get waiting', () => sessionOf(sessionId), (s) => s?.pending.length === 1);
    const mendLater = relay.mend.bind(relay);
    relay.mend = () => {};
    relay.cut();
    await eventually('the session detached', () => sessionOf(sessionId), (s) => s?.resumableUntil !== undefined);
    withdraw.abort();
    mendLater();
    assert.ok((await endsSoon('the aborted get', getting)) instanceof AbortError);
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the withdrawn call keeps no abort listener');
    await queue.put('later');
    assert.equal(await observer.callById(queue.id, 'qsize'), 1, 'the withdrawn get took nothing');
  });
});

test('a call in flight when a resumable client is closed while reconnecting fails and lets go of its abort listener', { timeout: 60_000 }, async () => {
  await withResumable(
    'closed-while-down',
    async (client, relay) => {
      const queue = await client.create<QueueProxy<string>>('Queue');
      const withdraw = new AbortController();
      const getting = queue.get({ signal: withdraw.signal }).then(
        () => assert.fail('the get returned an item'),
        (error: unknown) => error,
      );
      await eventually('the get waiting', () => sessionOf(client.sessionId), (s) => s?.pending.length === 1);
      // Never mended: the client is closed while it tries to reconnect.
      relay.mend = () => {};
      const lost = new Promise((resolve) => client.on('lost', resolve));
      relay.cut();
      await lost;
      await client.close();
      assert.ok((await endsSoon('the get', getting)) instanceof ConnectionClosedError);
      assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the failed call keeps no abort listener');
    },
    false,
  );
});

test('a connection that resumed the session and failed before it took the calls over is not kept: the next one resumes, and the waiting get ends', { timeout: 60_000 }, async () => {
  await withResumable('failed-resumption', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const sessionId = client.sessionId;
    const getting = queue.get();
    getting.catch(() => {});
    await eventually('the get waiting', () => sessionOf(sessionId), (s) => s?.pending.length === 1);
    // The resuming connection's describe answer comes with bytes that are no frame: that
    // connection fails in the very read that completes its opening.
    relay.appendDownstream('"typeids"', '!not a frame');
    relay.cut();
    await eventually('resumed again after the failed connection', () => sessionOf(sessionId), (s) => s !== undefined && s.resumableUntil === undefined && client.connected);
    await observer.callById(queue.id, 'put', ['after']);
    assert.equal(await endsSoon('the waiting get', getting), 'after');
  });
});

test('a call made while the client reconnects and aborted before the connection is back ends at once, never sent', { timeout: 60_000 }, async () => {
  await withResumable('aborted-while-reconnecting', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const mendLater = relay.mend.bind(relay);
    relay.mend = () => {};
    const lost = new Promise((resolve) => client.on('lost', resolve));
    relay.cut();
    await lost;
    const withdraw = new AbortController();
    const getting = queue.get({ signal: withdraw.signal }).then(
      () => assert.fail('the aborted get returned an item'),
      (error: unknown) => error,
    );
    withdraw.abort();
    assert.ok((await endsSoon('the aborted get, the network still down,', getting)) instanceof AbortError);
    assert.equal(getEventListeners(withdraw.signal, 'abort').length, 0, 'the withdrawn call keeps no abort listener');
    mendLater();
    await queue.put('after');
    assert.equal(await observer.callById(queue.id, 'qsize'), 1, 'the aborted get took nothing');
  });
});

test('a resumable client closed while its reconnection is under way ends its session once that connection is up, giving back its lock', { timeout: 60_000 }, async () => {
  await withResumable(
    'closed-while-opening',
    async (client, relay) => {
      const sessionId = client.sessionId;
      const lock = await observer.create<LockProxy>('Lock');
      assert.equal(await client.callById(lock.id, 'acquire'), true);
      // The next connection's handshake is kept back at the relay: the client is closed while it opens.
      const challenges = relay.countDownstream('#CHALLENGE#');
      relay.holdUpstream();
      relay.cut();
      await relay.untilDownstream('#CHALLENGE#', challenges + 1);
      await client.close();
      relay.releaseUpstream();
      // Long before the session's 60 s window: the connection that came up after close() ended it.
      await eventually("the closed client's session ended", () => sessionOf(sessionId), (s) => s === undefined);
      assert.equal(await observer.callById(lock.id, 'acquire', [false]), true, 'its lock was given back');
    },
    false,
  );
});

/**
 * A get of `client` waiting when the relay is cut, answered with the first of `items` (all put by
 * the observer) while its session is detached. The relay stays cut, whatever reconnects: its
 * `mend` does nothing until the returned `mend` is called.
 */
async function getAnsweredWhileDetached(client: ManagerClient, relay: TcpRelay, items: string[]) {
  const queue = await client.create<QueueProxy<string>>('Queue');
  const sessionId = client.sessionId;
  const getting = queue.get();
  getting.catch(() => {});
  await eventually('the get waiting', () => sessionOf(sessionId), (s) => s?.pending.length === 1);
  const mendLater = relay.mend.bind(relay);
  relay.mend = () => {};
  relay.cut();
  await eventually('the session detached', () => sessionOf(sessionId), (s) => s?.resumableUntil !== undefined);
  for (const item of items) await observer.callById(queue.id, 'put', [item]);
  await eventually('the get answered while detached', () => sessionOf(sessionId), (s) => s?.pending.length === 0);
  const mend = (): void => {
    relay.mend = mendLater;
    mendLater();
  };
  return { queue, sessionId, getting, mend };
}

test('a get answered while detached gets that answer on the resumed connection, never sent again nor carried out again, even when that connection is cut too', { timeout: 60_000 }, async () => {
  await withResumable('cut-while-sent-again', async (client, relay) => {
    const { sessionId, getting, mend } = await getAnsweredWhileDetached(client, relay, ['detached-item']);
    const gets = relay.countUpstream('"method":"get"');
    // The resuming connection receives the get's answer before it takes the get over. Were the get
    // sent again, it would be cut off halfway, unread by the manager, and the next resumption
    // would count that answer as received: the manager would forget it and carry the get out again.
    relay.cutMidway('upstream', '"method":"get"').catch(() => {});
    mend();
    assert.equal(await endsSoon('the get', getting), 'detached-item');
    assert.equal(relay.countUpstream('"method":"get"'), gets, 'the get was not sent again');
    assert.equal((await sessionOf(sessionId))?.pending.length, 0, 'no get carried out again');
  });
});

test('a resumption cut as its answer arrives is tried again: a get answered while detached gets its item once', { timeout: 60_000 }, async () => {
  await withResumable('cut-in-resumption', async (client, relay) => {
    const { queue, sessionId, getting, mend } = await getAnsweredWhileDetached(client, relay, ['detached-item', 'next-item']);
    // The first resumption's answer arrives half written, and that connection ends.
    const cutInResumption = relay.cutMidway('downstream', '"resumed":true');
    mend();
    await cutInResumption;
    // Still reconnecting: no new loss mends the relay.
    relay.mend();
    assert.equal(await endsSoon('the get', getting), 'detached-item');
    assert.equal(await queue.get(), 'next-item');
    assert.equal((await sessionOf(sessionId))?.pending.length, 0, 'no get carried out again');
  });
});

test('a proxy released while the session is detached gives its reference back once the session is resumed', { timeout: 60_000 }, async () => {
  await withResumable('released-while-down', async (client, relay) => {
    const list = await client.create<ListProxy<string>>('list');
    const sessionId = client.sessionId;
    const referencesHeld = async () => (await observer.inspection.snapshot()).objects.find((o) => o.id === list.id)?.holders.find((h) => h.sessionId === sessionId)?.references ?? 0;
    assert.equal(await referencesHeld(), 1);
    const mendLater = relay.mend.bind(relay);
    relay.mend = () => {};
    const lost = new Promise((resolve) => client.on('lost', resolve));
    relay.cut();
    await lost;
    const restored = new Promise((resolve) => client.on('restored', resolve));
    await list.release();
    mendLater();
    await restored;
    await eventually('the reference given back', referencesHeld, (n) => n === 0);
  });
});

test('a resuming connection cut between its initialize answer and its describe answer is a failed try: the next one resumes, and the waiting get ends', { timeout: 60_000 }, async () => {
  await withResumable('cut-in-describe', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const sessionId = client.sessionId;
    const getting = queue.get();
    getting.catch(() => {});
    await eventually('the get waiting', () => sessionOf(sessionId), (s) => s?.pending.length === 1);
    // The resuming connection's describe answer arrives half written, after its initialize answer, and that connection ends.
    const cutInDescribe = relay.cutMidway('downstream', '"typeids"');
    relay.cut();
    await cutInDescribe;
    // Still reconnecting: no new loss mends the relay.
    relay.mend();
    await eventually('resumed again', () => sessionOf(sessionId), (s) => s !== undefined && s.resumableUntil === undefined && client.connected);
    await observer.callById(queue.id, 'put', ['after']);
    assert.equal(await endsSoon('the waiting get', getting), 'after');
  });
});

test('a proxy released while the client reconnects does not keep the process alive for the reconnection', { timeout: 60_000 }, async () => {
  const relay = await startRelay(server.address);
  try {
    // A program that releases a proxy once its connection is lost, and never closes: it ends as
    // soon as nothing but the reconnection is left, as without the release.
    const script = `
      const { connect } = require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'client.js'))});
      connect({ address: ${JSON.stringify(relay.address)}, authkey: ${JSON.stringify(AUTHKEY)}, resume: { withinMs: 60000 }, reconnect: { initialDelayMs: 10, maxDelayMs: 50, maxMs: 120000 } }).then(async (client) => {
        const list = await client.create('list');
        client.on('lost', () => list.release().then(() => console.log('released')));
        console.log('ready');
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`the program ended before it was ready: ${stdout}`)));
    });
    relay.cut();
    try {
      assert.equal(await endsSoon('the program', exited), 0);
    } finally {
      child.kill();
    }
    assert.match(stdout, /released/);
  } finally {
    await relay.close();
  }
});

test('reconnection tries whose connection is accepted and ended in the handshake (a port forward whose manager is down) are failed tries, not a refused key: the session is resumed', { timeout: 60_000 }, async () => {
  await withResumable('ended-in-handshake', async (client, relay) => {
    const queue = await client.create<QueueProxy<string>>('Queue');
    const getting = queue.get();
    getting.catch(() => {});
    await eventually('the get waiting', () => sessionOf(client.sessionId), (s) => s?.pending.length === 1);
    const mendLater = relay.mend.bind(relay);
    relay.mend = () => {};
    const ended = new Promise<unknown>((resolve) => client.connectionLost(resolve));
    relay.cut('end');
    await Promise.race([relay.untilRefused(relay.refused + 3), ended]);
    mendLater();
    await observer.callById(queue.id, 'put', ['after']);
    assert.equal(await endsSoon('the waiting get', getting), 'after');
  });
});

/** Messages a client cannot read (SPEC 20.2): bytes that break the framing, and a frame whose body is not JSON. */
const UNREADABLE = [
  { what: 'bytes that break the framing', bytes: '!not a frame\r\n\r\n' },
  { what: 'a body that is not JSON', bytes: 'Content-Length: 6\r\n\r\n{nope}' },
];

for (const { what, bytes } of UNREADABLE) {
  test(`a get whose answer comes as ${what} is a loss: it is answered after the resumption, its item taken once`, { timeout: 60_000 }, async () => {
    await withResumable(`unreadable-${what}`, async (client, relay) => {
      const queue = await client.create<QueueProxy<string>>('Queue');
      const getting = queue.get();
      getting.catch(() => {});
      await eventually('the get waiting', () => sessionOf(client.sessionId), (s) => s?.pending.length === 1);
      relay.spoilDownstream('spoiled-item', bytes);
      await observer.callById(queue.id, 'put', ['spoiled-item']);
      assert.equal(await endsSoon('the get', getting), 'spoiled-item');
      assert.equal(await observer.callById(queue.id, 'qsize'), 0, 'taken once');
    });
  });
}

test('a manager whose answer cannot be read on every connection is not reconnected to for ever: the call ends saying why', { timeout: 60_000 }, async () => {
  await withResumable(
    'unreadable-every-time',
    async (client, relay) => {
      const queue = await client.create<QueueProxy<string>>('Queue');
      const getting = queue.get().then(
        () => assert.fail('the get returned an item'),
        (error: unknown) => error,
      );
      await eventually('the get waiting', () => sessionOf(client.sessionId), (s) => s?.pending.length === 1);
      // Its answer spoiled each time the manager sends it: first, and again at every resumption.
      relay.spoilDownstream('spoiled-item', '!not a frame\r\n\r\n', 100);
      await observer.callById(queue.id, 'put', ['spoiled-item']);
      const ended = await endsSoon('the get', getting);
      assert.ok(ended instanceof ConnectionClosedError, String(ended));
      assert.match((ended as Error).message, /cannot read.*3 connections within 60 s/);
    },
    false,
  );
});

test('without resumption, an answer the client cannot read fails its call as lost, and the client reconnects', { timeout: 60_000 }, async () => {
  const relay = await startRelay(server.address);
  const client = await connect({ address: relay.address, authkey: AUTHKEY, name: 'unreadable-not-resumable', reconnect: quickReconnect });
  try {
    const shared = await observer.create<QueueProxy<string>>('Queue');
    await shared.put('x');
    const restored = new Promise((resolve) => client.on('restored', resolve));
    relay.spoilDownstream('"result":"x"', '!not a frame\r\n\r\n');
    const lost = await client.callById(shared.id, 'get', []).then(
      () => assert.fail('the get returned'),
      (error: unknown) => error,
    );
    assert.ok(lost instanceof ConnectionLostError, String(lost));
    await endsSoon('the reconnection', restored);
    const fresh = await client.create<QueueProxy<string>>('Queue');
    await fresh.put('after');
    assert.equal(await fresh.get(), 'after');
  } finally {
    await client.close();
    await relay.close();
  }
});
