/**
 * An accepted connection read into the server's buffer (acceptedReads.ts): its bytes arrive whole
 * and in order through the reader, the server still counts it until it closes (`server.close`
 * completes), and a handle that cannot read into a given buffer is served through 'data'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readChunks, readerOf, takeOverReads } from '../../src/server/acceptedReads';

/** A paused listener on 127.0.0.1 port 0, and the first connection made to it, accepted. */
async function acceptOne(prepare?: (accepted: Socket) => void): Promise<{ server: Server; client: Socket; served: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [socket] = await accepted;
  prepare?.(socket);
  return { server, client, served: takeOverReads(socket) };
}

/** Everything `served` receives until its peer ends, through readChunks (copied, as the reader hands views). */
function received(served: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  readChunks(served, (chunk) => chunks.push(Buffer.from(chunk)));
  return new Promise((resolve) => served.once('end', () => resolve(Buffer.concat(chunks))));
}

const PAYLOAD = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));

test('an accepted connection reads into the server buffer: every byte in order, no data events, counted until it closes', async () => {
  const { server, client, served } = await acceptOne();
  assert.ok(readerOf(served), 'read through the server buffer');
  served.on('data', () => assert.fail('a data event on a socket read into the server buffer'));
  const got = received(served);
  client.end(PAYLOAD);
  assert.deepEqual(await got, PAYLOAD);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  let count = -1;
  server.getConnections((_, n) => (count = n));
  served.end();
  await closed;
  assert.equal(count, 1, 'counted while open');
});

test('the served socket writes, pauses and resumes as any socket', async () => {
  const { server, client, served } = await acceptOne();
  const chunks: Buffer[] = [];
  readChunks(served, (chunk) => {
    chunks.push(Buffer.from(chunk));
    served.write(chunk);
  });
  served.pause();
  client.write('ab');
  const echoed = once(client, 'data');
  served.resume();
  assert.equal(String((await echoed)[0]), 'ab');
  client.destroy();
  await once(served, 'close');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a handle that cannot read into a given buffer is served through data events', async () => {
  const { server, client, served } = await acceptOne((socket) => {
    const handle = (socket as unknown as { _handle: object })._handle;
    Object.defineProperty(handle, 'useUserBuffer', { value: undefined });
  });
  assert.equal(readerOf(served), undefined);
  const got = received(served);
  client.end(PAYLOAD);
  assert.deepEqual(await got, PAYLOAD);
  served.end();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
