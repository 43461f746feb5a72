/**
 * Connection floods: idle connections that never authenticate must not keep legitimate clients
 * out. Connections still in the handshake have their own cap, and one more sheds the oldest;
 * `--max-connections` caps them all; an optional idle timeout closes silent authenticated ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect, type QueueProxy } from '../../src/client';
import { RawClient, openSocket, startManager } from '../helpers/manager';
import { until } from '../helpers/until';
import { serveBounded } from './boundedServer';

const KEY = 'flood-key';

/** Opens `count` TCP connections that never say a word; resolves once each has connected or failed. */
async function flood(address: string, count: number): Promise<Socket[]> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sockets: Socket[] = [];
  let settled = 0;
  for (let i = 0; i < count; i++) {
    const socket = netConnect({ host, port });
    socket.on('error', () => {});
    socket.once('connect', () => settled++);
    socket.once('close', () => {
      if (socket.connecting) settled++;
    });
    sockets.push(socket);
  }
  await until(`${count} flood connections settled`, () => settled >= count, 20_000);
  return sockets;
}

test('under a flood of 1,100 idle unauthenticated connections to a server of 1,024 file descriptors, 20 of 20 legitimate clients connect and get answers', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue'], 512, 1024);
  const idle = await flood(server.address, 1100);
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async (_, i) => {
        const client = await connect<{ jobs: QueueProxy<number> }>({ address: server.address, authkey: KEY, timeout: 15 });
        try {
          const jobs = await client.jobs();
          await jobs.put(i);
          return await jobs.qsize();
        } finally {
          await client.close();
        }
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(failed, [], `${20 - failed.length} of 20 legitimate clients were served`);
    assert.ok(server.alive());
  } finally {
    for (const socket of idle) socket.destroy();
  }
});

test('a connection beyond the handshake cap sheds the oldest one still in the handshake', async () => {
  await using manager = await startManager({ maxHandshaking: 3 });
  const first = await openSocket(manager.address);
  const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
  first.on('error', () => {});
  first.resume();
  const others = [await openSocket(manager.address), await openSocket(manager.address)];
  const fourth = await openSocket(manager.address);
  await firstClosed;
  // The newest ones are still in the handshake; an authenticated client is not counted.
  const client = await RawClient.open(manager.address);
  assert.ok((await client.request('manager/describe', {})).result);
  for (const s of [...others, fourth]) s.destroy();
  client.close();
});

test('--max-connections: a connection beyond the cap is closed while all are authenticated, and accepted once one leaves', async () => {
  await using server = await serveBounded(KEY, ['--max-connections', '3'], 256);
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connect({ address: server.address, authkey: KEY }));
  await assert.rejects(connect({ address: server.address, authkey: KEY, timeout: 5 }), /closed the connection during the handshake/);
  await clients.pop()!.close();
  let admitted: Awaited<ReturnType<typeof connect>> | undefined;
  for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
    admitted = await connect({ address: server.address, authkey: KEY, timeout: 5 }).catch(() => undefined);
  }
  assert.ok(admitted, 'a client is admitted once one of the three left');
  for (const c of [...clients, admitted]) await c.close();
});

test('idleTimeoutMs closes a silent authenticated connection, but not one waiting in a blocking call', async () => {
  await using manager = await startManager({ idleTimeoutMs: 300 }, (m) => m.register('jobs', { shared: 'Queue' }));
  const waiter = await connect<{ jobs: QueueProxy<number> }>({ address: manager.address, authkey: 'test-key' });
  const jobs = await waiter.jobs();
  const got = jobs.get();
  const silent = await RawClient.open(manager.address);
  await silent.closed;
  const producer = await connect<{ jobs: QueueProxy<number> }>({ address: manager.address, authkey: 'test-key' });
  await (await producer.jobs()).put(42);
  assert.equal(await got, 42, 'the blocked getter was still connected and received the item');
  await producer.close();
  await waiter.close();
});
