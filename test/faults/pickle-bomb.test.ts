/**
 * A pickle that costs far more to read than it weighs: 32 MiB of EMPTY_DICT opcodes, under the
 * 64 MiB message limit, each opcode one new object. The reader must refuse it once it passes the
 * per-message object limit, with an error saying so, and the server must go on serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { PythonFrameDecoder, pythonFrame } from '../../src/server/python/framing';
import { packPickledArguments } from '../../src/server/python/pickle/picklePacking';
import { unpickle } from '../../src/server/python/pickle/pickleReader';
import { DEFAULT_MAX_MESSAGE_VALUES, maxPickleOpcodes } from '../../src/server/limits';
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

/** The opcodes that make nothing, each repeated: PROTO, BINPUT 0 over one dict, MARK with POP_MARK, an empty FRAME. */
const IDLE_OPCODES: readonly (readonly [string, string])[] = [
  ['PROTO', '\x80\x04'],
  ['BINPUT 0', 'q\x00'],
  ['MARK and POP_MARK', '(1'],
  ['an empty FRAME', `\x95${'\x00'.repeat(8)}`],
];

const latin1 = (text: string) => Buffer.from(text, 'latin1');

test('a pickle repeating an opcode that makes nothing is refused once it has run as many opcodes as the value limit allows, naming that limit', () => {
  const limit = maxPickleOpcodes(DEFAULT_MAX_MESSAGE_VALUES);
  for (const [name, opcode] of IDLE_OPCODES) {
    const count = Math.ceil(limit / (opcode === '(1' ? 2 : 1));
    // Each of these would read as `{}`: what bounds them is the number of opcodes run, not what they make.
    const pickle = latin1(`\x80\x04}q\x00${opcode.repeat(count)}.`);
    assert.throws(() => unpickle(pickle), (error: Error) => {
      assert.match(error.message, /runs more than \d+ opcodes, the limit for one message/, name);
      return true;
    });
    assert.deepEqual(unpickle(latin1(`\x80\x04}q\x00${opcode.repeat(1000)}.`)), {}, `${name}: a few are read as ever`);
  }
});

test("the packing pass stops at the same number of opcodes: a dense argument behind many that make nothing is read whole, and refused there", () => {
  const limit = maxPickleOpcodes(DEFAULT_MAX_MESSAGE_VALUES);
  // `(None, 'put', ([{}, {}, …],), {})` with 99,000 dicts (kept encoded when alone), then BINPUT 0s of the list.
  const dense = `\x80\x04(NX\x03\x00\x00\x00put](${'}'.repeat(99_000)}e`;
  const tail = '\x85}t.';
  assert.notEqual(packPickledArguments(latin1(dense + 'q\x00'.repeat(1000) + tail), DEFAULT_MAX_MESSAGE_VALUES), undefined, 'the dense argument is kept encoded');
  const padded = latin1(dense + 'q\x00'.repeat(limit) + tail);
  assert.equal(packPickledArguments(padded, DEFAULT_MAX_MESSAGE_VALUES), undefined, 'the pass gave up at the opcode limit');
  assert.throws(() => unpickle(padded), /runs more than \d+ opcodes/);
});
