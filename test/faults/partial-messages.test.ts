/**
 * Incomplete messages: bytes of a declared body that never completes. What they hold is counted
 * across all connections, a connection that would pass the manager's limit is closed with an
 * error saying why, and a closed connection's bytes are given back at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { connect, type QueueProxy } from '../../src/client';
import { RawClient, startManager } from '../helpers/manager';
import { until } from '../helpers/until';

const MiB = 1024 * 1024;

/** Sends a JSON-RPC header declaring `declared` bytes, then `sent` bytes of body. */
function sendPartialJson(c: RawClient, declared: number, sent: number): void {
  c.sendRaw(`Content-Length: ${declared}\r\n\r\n`);
  c.sendRaw(Buffer.alloc(sent, 0x20));
}

/** Sends a Python frame head declaring `declared` bytes, then `sent` bytes of payload. */
function sendPartialPickle(c: RawClient, declared: number, sent: number): void {
  const head = Buffer.alloc(4);
  head.writeInt32BE(declared, 0);
  c.sendRaw(Buffer.concat([head, Buffer.alloc(sent, 0x4e)]));
}

test('bytes of incomplete messages are capped across connections, and given back when their connection closes', async () => {
  await using manager = await startManager({ maxPendingBytes: 4 * MiB }, (m) => m.register('jobs', { shared: 'Queue' }));
  const json = await RawClient.open(manager.address);
  const pickle = await RawClient.open(manager.address, { initialize: false });
  sendPartialJson(json, 3 * MiB, 2 * MiB);
  sendPartialPickle(pickle, 3 * MiB, 1.5 * MiB);
  await until('both partial bodies buffered', () => manager.bufferedBytes >= 3.5 * MiB);

  const third = await RawClient.open(manager.address);
  sendPartialJson(third, 3 * MiB, 1 * MiB);
  const refusal = await third.next();
  assert.equal(refusal.error?.code, ErrorCodes.MessageTooLarge);
  assert.match(refusal.error.message, /incomplete messages.*limit of 4194304 bytes/);
  await third.closed;
  assert.ok(manager.bufferedBytes <= 4 * MiB, `still within the limit: ${manager.bufferedBytes}`);

  json.close();
  pickle.close();
  await until('the closed connections to give their bytes back', () => manager.bufferedBytes === 0);

  const client = await connect<{ jobs: QueueProxy<number> }>({ address: manager.address, authkey: 'test-key' });
  const jobs = await client.jobs();
  await jobs.put(1);
  assert.equal(await jobs.get(), 1);
  await client.close();
});
