/**
 * A JSON message that costs far more to read than it weighs: 60 MiB of `[{}, {}, …]` as a put's
 * argument, under the 64 MiB message limit. It is refused before it is parsed, with an error
 * naming the value limit, and the server goes on serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import { frameMessage } from '../../src/common/framing';
import { RawClient, createOver } from '../helpers/manager';
import { serveBounded } from './boundedServer';

const KEY = 'json-bomb-key';

test('a 60 MiB JSON put of [{}, {}, …] is refused as MessageTooLarge naming the value limit, and the server goes on', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue'], 768);
  const raw = await RawClient.open(server.address, { authkey: KEY });
  const queue = await createOver(raw, 'Queue');
  const items = '{},'.repeat(20 * 1024 * 1024).slice(0, -1);
  raw.sendRaw(frameMessage(`{"jsonrpc":"2.0","id":99,"method":"object/call","params":{"id":${JSON.stringify(queue.id)},"method":"put","args":[[${items}]]}}`));
  const reply = await raw.next(60_000).catch((error: Error) => ({ lost: error.message }));
  assert.ok(server.alive(), `the server died reading the message:\n${server.process.output().slice(-2000)}`);
  assert.equal(reply.error?.code, ErrorCodes.MessageTooLarge, JSON.stringify(reply).slice(0, 500));
  assert.match(reply.error.message, /more than \d+ JSON values/);
  raw.close();

  const client = await connect<{ jobs: QueueProxy<number> }>({ address: server.address, authkey: KEY });
  const jobs = await client.jobs();
  await jobs.put(3);
  assert.equal(await jobs.get(), 3);
  await client.close();
});
