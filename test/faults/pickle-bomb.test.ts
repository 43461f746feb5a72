/**
 * A pickle that costs far more to read than it weighs: 32 MiB of EMPTY_DICT opcodes, under the
 * 64 MiB message limit, each opcode one new object. The reader must refuse it once it passes the
 * per-message object limit, with an error saying so, and the server must go on serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { PythonFrameDecoder, pythonFrame } from '../../src/server/python/framing';
import { RawClient } from '../helpers/manager';
import { until } from '../helpers/until';
import { serveBounded } from './boundedServer';

const KEY = 'pickle-bomb-key';

/** PROTO 4, then `count` times one opcode, then STOP. */
function repeatedOpcode(opcode: string, count: number): Buffer {
  const body = Buffer.alloc(count + 3, opcode.charCodeAt(0));
  body[0] = 0x80;
  body[1] = 4;
  body[body.length - 1] = 0x2e;
  return body;
}

test('a 32 MiB pickle of EMPTY_DICT opcodes is refused with an UnpicklingError naming the object limit, and the server goes on', async () => {
  await using server = await serveBounded(KEY, ['--register', 'jobs=Queue'], 768);
  for (const opcode of ['}', ']', ')']) {
    const raw = await RawClient.open(server.address, { initialize: false, authkey: KEY });
    const received: Buffer[] = [];
    raw.socket.removeAllListeners('data');
    raw.socket.on('data', (chunk: Buffer) => received.push(chunk));
    raw.sendRaw(pythonFrame(repeatedOpcode(opcode, 32 * 1024 * 1024)));
    const frames = () => new PythonFrameDecoder(1 << 20).push(Buffer.concat(received));
    await until(`the reply to the ${opcode} bomb (or the server's death)`, () => frames().length > 0 || !server.alive(), 60_000);
    assert.ok(server.alive(), `the server died reading the bomb:\n${server.process.output().slice(-2000)}`);
    const reply = frames()[0].toString('latin1');
    assert.match(reply, /#TRACEBACK/);
    assert.match(reply, /UnpicklingError/);
    assert.match(reply, /more than \d+ objects/);
    raw.close();
  }
  const client = await connect<{ jobs: QueueProxy<number> }>({ address: server.address, authkey: KEY });
  const jobs = await client.jobs();
  await jobs.put(7);
  assert.equal(await jobs.get(), 7);
  await client.close();
});
