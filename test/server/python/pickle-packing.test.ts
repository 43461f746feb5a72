/**
 * Dense pickled arguments kept as pickles of their own (SPEC §19): which are, that the value is
 * the one the reader makes, and that every pickle the reader refuses is still refused when the
 * request is read (never kept, to fail when someone reads it later).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_MESSAGE_VALUES } from '../../../src/server/limits';
import { readAnyRequest } from '../../../src/server/python/generalRequestReader';
import { PackedPickle } from '../../../src/server/python/pickle/packedPickle';
import { packPickledArguments } from '../../../src/server/python/pickle/picklePacking';
import { unpickle } from '../../../src/server/python/pickle/pickleReader';
import type { PythonRequest } from '../../../src/server/python/requestReader';

/** A protocol 2 pickle of `(None, 'put', (arg,), {})`, the argument given as its opcodes. */
function pickledPut(arg: string): Buffer {
  return Buffer.concat([Buffer.from('\x80\x02(NX\x03\x00\x00\x00put', 'latin1'), Buffer.from(arg, 'latin1'), Buffer.from('\x85}t.', 'latin1')]);
}

const read = (frame: Buffer) => readAnyRequest(frame, { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3');

test('a dense argument is kept as a pickle whose value is the one the reader makes; a small one and ordinary ones are read as before', () => {
  const shared = `]q\x01(}q\x02${'h\x02'.repeat(2000)}e`;
  const request = read(pickledPut(shared)) as PythonRequest;
  const packed = request.args[0];
  assert.ok(packed instanceof PackedPickle);
  const value = packed.materialise() as object[];
  assert.deepEqual(value, (unpickle(pickledPut(shared)) as unknown[][])[2][0]);
  assert.equal(value[0], value[1999], 'a shared dict stays shared');
  assert.equal(packPickledArguments(pickledPut(`](${'}'.repeat(20)}e`), DEFAULT_MAX_MESSAGE_VALUES), undefined, 'small');
  assert.equal(packPickledArguments(pickledPut(`X\x10\x27\x00\x00${'x'.repeat(10_000)}`), DEFAULT_MAX_MESSAGE_VALUES), undefined, 'one long str');
  assert.equal(packPickledArguments(pickledPut(`](${'}'.repeat(2000)}c__builtin__\nobject\n)Re`), DEFAULT_MAX_MESSAGE_VALUES), undefined, 'a global: read whole, for the opaque check');
});

for (const [name, arg, message] of [
  ['a list inside itself', `]q\x00(${'}'.repeat(2000)}h\x00e`, /contains itself/],
  ['an unhashable key', `](${'}'.repeat(2000)}}(]K\x01ue`, /unhashable/],
  ['an item appended to a dict', `](${'}'.repeat(2000)}e}K\x01a`, /cannot append/],
  ['bad UTF-8', `](${'}'.repeat(2000)}\x8c\x02\xff\xfee`, /UTF-8/],
  ['nesting beyond the limit', `${'('.repeat(1000)}${'}'.repeat(2000)}${'l'.repeat(1000)}`, /deeper|nesting too deep/],
  ['more values than the limit', `](${'}'.repeat(DEFAULT_MAX_MESSAGE_VALUES + 10)}e`, /more than \d+ objects/],
] as const) {
  test(`a dense argument holding ${name} is refused when the request is read, as before`, () => {
    const reply = read(pickledPut(arg));
    assert.ok(Array.isArray(reply), `refused, not read: ${JSON.stringify(reply).slice(0, 200)}`);
    assert.equal(reply[0], '#TRACEBACK');
    assert.match(String(reply[1]), message);
  });
}
