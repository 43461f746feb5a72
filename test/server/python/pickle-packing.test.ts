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
import { packPickledArguments, type PackedRequest } from '../../../src/server/python/pickle/picklePacking';
import { unpickle } from '../../../src/server/python/pickle/pickleReader';
import type { PythonRequest } from '../../../src/server/python/requestReader';

/** A protocol 2 pickle of `(None, 'put', (arg,), {})`, the argument given as its opcodes. */
function pickledPut(arg: string): Buffer {
  return Buffer.concat([Buffer.from('\x80\x02(NX\x03\x00\x00\x00put', 'latin1'), Buffer.from(arg, 'latin1'), Buffer.from('\x85}t.', 'latin1')]);
}

/** The arguments `packPickledArguments` kept as pickles, if it cut any. */
const packedOf = (result: ReturnType<typeof packPickledArguments>): PackedRequest['packed'] | undefined => (result && 'packed' in result ? result.packed : undefined);

const read = (frame: Buffer, opaquePickles = true) => readAnyRequest(frame, { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles }, () => assert.fail('no proxies here'), 'py3');

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
  const withGlobal = pickledPut(`](${'}'.repeat(2000)}c__builtin__\nobject\n)Re`);
  assert.equal(packPickledArguments(withGlobal, DEFAULT_MAX_MESSAGE_VALUES, false), undefined, 'a global under --no-opaque-pickles: read whole, for the opaque check');
  assert.ok(packedOf(packPickledArguments(withGlobal, DEFAULT_MAX_MESSAGE_VALUES, true))?.get(0), 'a global: cut when opaque pickles are allowed');
  const proxy = pickledPut(`](${'}'.repeat(2000)}cmultiprocessing.managers\nRebuildProxy\ne`);
  assert.equal(packedOf(packPickledArguments(proxy, DEFAULT_MAX_MESSAGE_VALUES, true))?.get(0), undefined, 'a proxy: left to the reader');
});

for (const [name, arg] of [
  ['objects made by REDUCE and NEWOBJ, with states (BUILD)', `](${'}'.repeat(2000)}cdatetime\ndatetime\nq\x00${'h\x00C\x02ab\x85R'.repeat(500)}cm\nC\n)\x81}X\x01\x00\x00\x00aK\x01sbe`],
  ['Python 2 sets and frozensets of str', `](${'}'.repeat(2000)}${'c__builtin__\nset\n]U\x01aa\x85Rc__builtin__\nfrozenset\n(U\x01bt\x85R'.repeat(300)}e`],
  ['a bare global shared through the memo', `](${'}'.repeat(2000)}cm\nC\nq\x00${'h\x00'.repeat(500)}e`],
  ['protocol 4 globals (STACK_GLOBAL) with memoized names', `](${'}'.repeat(2000)}\x8c\x01m\x94\x8c\x01C\x94\x93\x94${'h\x02)\x81'.repeat(500)}e`],
] as const) {
  test(`a dense argument holding ${name} is kept as a pickle whose value is the one the reader makes`, () => {
    const frame = pickledPut(arg);
    const packed = (read(frame) as PythonRequest).args[0];
    assert.ok(packed instanceof PackedPickle, 'kept as a pickle');
    assert.deepEqual(packed.materialise(), (unpickle(frame) as unknown[][])[2][0]);
  });
}

/**
 * Empty dicts before each fault: enough for the packing passes to read the request (past some 130),
 * few enough that what the reader builds before it meets the fault stays within what reading one
 * message may hold (else that refusal comes first). A fault the value builder leaves to the tree
 * path is met by a tree, whose nodes count too (some 160 bytes an EMPTY_DICT).
 */
const FEW_DICTS = 200;

for (const [name, arg, message] of [
  ['a list inside itself', `]q\x00(${'}'.repeat(FEW_DICTS)}h\x00e`, /contains itself/],
  ['an unhashable key', `](${'}'.repeat(FEW_DICTS)}}(]K\x01ue`, /unhashable/],
  ['an item appended to a dict', `](${'}'.repeat(FEW_DICTS)}e}K\x01a`, /cannot append/],
  ['bad UTF-8', `](${'}'.repeat(FEW_DICTS)}\x8c\x02\xff\xfee`, /UTF-8/],
  // A thousand nested lists hold more than the rule allows this message, as values or as a tree: that refusal may come first.
  ['nesting beyond the limit', `${'('.repeat(1000)}${'}'.repeat(FEW_DICTS)}${'l'.repeat(1000)}`, /deeper|nesting too deep|more than 4 times its \d+ bytes/],
  // So do 100,000 empty dicts: whichever limit the reader meets first refuses them.
  ['more values than the limit', `](${'}'.repeat(DEFAULT_MAX_MESSAGE_VALUES + 10)}e`, /more than \d+ objects|more than 4 times its \d+ bytes/],
  ['a state given to a list (BUILD)', `](${'}'.repeat(FEW_DICTS)}]}be`, /cannot apply BUILD/],
  ['a set of a list (REDUCE)', `](${'}'.repeat(FEW_DICTS)}c__builtin__\nset\n]]a\x85Re`, /unhashable/],
  ['an object inside itself', `](${'}'.repeat(FEW_DICTS)}cm\nC\n)\x81q\x00h\x00be`, /contains itself/],
  ['a global named by an int (STACK_GLOBAL)', `](${'}'.repeat(FEW_DICTS)}K\x01K\x02\x93e`, /must be str/],
  ['a global whose name holds a newline', `](${'}'.repeat(FEW_DICTS)}\x8c\x01m\x8c\x03a\nb\x93e`, /newline/],
  // Each copy of the str counts towards what reading the message holds too, whose limit comes first.
  ['objects that spell out a shared str beyond the opaque values\' limit', `](${'}'.repeat(FEW_DICTS)}X\x40\x42\x0f\x00${'s'.repeat(1_000_000)}q\x00${'cm\nC\nh\x00\x85R'.repeat(20)}e`, /larger than|more than 4 times its \d+ bytes/],
] as const) {
  test(`a dense argument holding ${name} is refused when the request is read, as before`, () => {
    const reply = read(pickledPut(arg));
    assert.ok(Array.isArray(reply), `refused, not read: ${JSON.stringify(reply).slice(0, 200)}`);
    assert.equal(reply[0], '#TRACEBACK');
    assert.match(String(reply[1]), message);
  });
}

test('a call of 50,000 one-byte arguments is refused for its count, not for what building them would hold', () => {
  for (const [name, opcode] of [['None', 'N'], ['True', '\x88']]) {
    // `(None, 'put', (x, x, ...), {})`: the arguments' tuple with a MARK of its own.
    const frame = Buffer.from(`\x80\x02(NX\x03\x00\x00\x00put(${opcode.repeat(50_000)}t}t.`, 'latin1');
    const reply = read(frame);
    assert.ok(Array.isArray(reply) && reply[0] === '#ERROR', `${name}: ${JSON.stringify(reply).slice(0, 300)}`);
    assert.match(JSON.stringify(reply[1]), /TypeError.*a call with 50000 arguments.*the limit is 128/, name);
  }
});

test('under --no-opaque-pickles a dense argument holding a class outside the allow-list is refused when the request is read, as before', () => {
  const reply = read(pickledPut(`](${'}'.repeat(FEW_DICTS)}cfractions\nFraction\nC\x02ab\x85Re`), false);
  assert.ok(Array.isArray(reply) && reply[0] === '#TRACEBACK', 'refused');
  assert.match(String(reply[1]), /fractions\.Fraction object.*refused/);
});
