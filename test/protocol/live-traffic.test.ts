/**
 * Every message the real client and server exchange validates against protocol/schema.json: a
 * man-in-the-middle relay on 127.0.0.1 passes the handshake through, then decodes and checks each
 * JSON-RPC message in both directions while a full session runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { ContentLengthDecoder } from '../../src/common/framing';
import { connect, kwargs, type DictProxy, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { validateMessage } from './schemaValidator';

/** Passes bytes through; after `skipFrames` handshake frames, records each JSON-RPC message. */
function tap(into: unknown[], skipFrames: number): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let skipped = 0;
  const decoder = new ContentLengthDecoder((body) => into.push(JSON.parse(body)));
  return (chunk) => {
    if (skipped === skipFrames) return decoder.push(chunk);
    pending = Buffer.concat([pending, chunk]);
    while (skipped < skipFrames && pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      pending = pending.subarray(4 + pending.readInt32BE(0));
      skipped++;
    }
    if (skipped === skipFrames && pending.length) decoder.push(pending);
  };
}

test('a full session of the real client and server is valid protocol in both directions', async () => {
  await using manager = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const [host, port] = manager.address.split(':');
  const toServer: unknown[] = [];
  const toClient: unknown[] = [];
  const sockets: Socket[] = [];
  const relay = createServer((client) => {
    const server = netConnect({ host, port: Number(port) });
    sockets.push(client, server);
    const up = tap(toServer, 3);
    const down = tap(toClient, 3);
    client.on('data', (d: Buffer) => {
      up(d);
      server.write(d);
    });
    server.on('data', (d: Buffer) => {
      down(d);
      client.write(d);
    });
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  try {
    const address = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const client = await connect<{ get_task_queue: QueueProxy<unknown> }>({ address, authkey: AUTHKEY });
    const q = await client.get_task_queue();
    await q.put({ nested: [1, 2.5, 'x', null, new Uint8Array([1, 2]), new Set([1]), new Map([[1, 'one']]), 2n ** 70n, NaN] });
    await q.get();
    await q.get({ timeout: 0.01 }).catch(() => {});
    const aborter = new AbortController();
    const pending = q.get({ signal: aborter.signal }).catch(() => {});
    await q.qsize();
    aborter.abort();
    await pending;
    const d = await client.create<DictProxy>('dict', kwargs({ a: 1 }));
    await d.getItem('missing').catch(() => {});
    await d.release();
    await client.create('Nope').catch(() => {});
    await client.close();
  } finally {
    for (const s of sockets) s.destroy();
    relay.close();
  }
  assert.ok(toServer.length >= 12, `saw ${toServer.length} client messages`);
  assert.ok(toClient.length >= 10, `saw ${toClient.length} server messages`);
  const methodOf = new Map(toServer.filter((m) => 'id' in (m as object)).map((m) => [(m as { id: number }).id, (m as { method: string }).method]));
  for (const message of toServer) assert.deepEqual(validateMessage(message), [], JSON.stringify(message));
  // Each response is also checked against its own method's result schema.
  for (const message of toClient) assert.deepEqual(validateMessage(message, methodOf.get((message as { id: number }).id)), [], JSON.stringify(message));
  const methods = new Set(toServer.map((m) => (m as { method: string }).method));
  for (const method of ['initialize', 'manager/describe', 'object/create', 'object/call', 'object/decref', '$/cancelRequest', 'shutdown']) assert.ok(methods.has(method), method);
});
