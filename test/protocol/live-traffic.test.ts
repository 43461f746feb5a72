/**
 * Every message the real client and server exchange validates against protocol/schema.json: a
 * man-in-the-middle relay on 127.0.0.1 passes the handshake through, then decodes and checks each
 * JSON-RPC message in both directions while a full session runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, kwargs, type DictProxy, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { methodsById, startRelay } from './relay';
import { validateMessage } from './schemaValidator';

test('a full session of the real client and server is valid protocol in both directions', async () => {
  await using manager = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const relay = await startRelay(manager.address);
  try {
    const client = await connect<{ get_task_queue: QueueProxy<unknown> }>({ address: relay.address, authkey: AUTHKEY });
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
    relay.close();
  }
  assert.equal(relay.connections.length, 1);
  const [{ toServer, toClient }] = relay.connections;
  assert.ok(toServer.length >= 12, `saw ${toServer.length} client messages`);
  assert.ok(toClient.length >= 10, `saw ${toClient.length} server messages`);
  const methodOf = methodsById(toServer);
  for (const message of toServer) assert.deepEqual(validateMessage(message), [], JSON.stringify(message));
  // Each response is also checked against its own method's result schema.
  for (const message of toClient) assert.deepEqual(validateMessage(message, methodOf.get((message as { id: number }).id)), [], JSON.stringify(message));
  const methods = new Set(toServer.map((m) => (m as { method: string }).method));
  for (const method of ['initialize', 'manager/describe', 'object/create', 'object/call', 'object/decref', '$/cancelRequest', 'shutdown']) assert.ok(methods.has(method), method);
});
