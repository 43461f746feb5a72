/**
 * What a manager without opaque pickles (`--no-opaque-pickles`) lets a pickle hold
 * (src/server/python/pickle/pickleSafety.ts): the harmless standard library classes, kept opaque,
 * with all they hold checked; a proxy is still read as a reference, but not kept inside an object
 * kept opaque, where the reading client would call RebuildProxy itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpaqueValue } from '../../../src/common/valueTypes';
import { unpickle } from '../../../src/server/python/pickle/pickleReader';
import { refuseOpaquePickle } from '../../../src/server/opaquePickles';
import { DEFAULT_MAX_MESSAGE_VALUES } from '../../../src/server/limits';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
/** `collections.OrderedDict([('x', item)])` as protocol 2 writes it, `item` given as its opcodes. */
const orderedDictOf = (item: string) => latin1(`\x80\x02ccollections\nOrderedDict\n)RX\x01\x00\x00\x00x${item}s.`);
const refused = (data: Buffer) => unpickle(data, { refuseOpaque: true });

test('under --no-opaque-pickles a harmless class is kept opaque, with what it holds checked', () => {
  const plain = refused(orderedDictOf('K\x01'));
  assert.ok(plain instanceof OpaqueValue);
  assert.equal(plain.type, 'collections.OrderedDict');
  assert.ok(refused(orderedDictOf('cdecimal\nDecimal\nX\x03\x00\x00\x001.5\x85R')) instanceof OpaqueValue);
  assert.throws(() => refused(orderedDictOf('cfractions\nFraction\nK\x01K\x03\x86R')), /fractions\.Fraction object is refused/);
  assert.throws(() => refused(orderedDictOf('cposix\nsystem\n')), /posix\.system object is refused/);
  // RebuildProxy(set, None, None, {}): every other global in it is harmless.
  const proxy = 'cmultiprocessing.managers\nRebuildProxy\n(c__builtin__\nset\nNN}tR';
  assert.throws(() => refused(orderedDictOf(proxy)), /multiprocessing\.managers\.RebuildProxy object is refused/);
  assert.ok(unpickle(orderedDictOf(proxy)) instanceof OpaqueValue, 'with opaque pickles allowed, kept as it came');
});

/**
 * Unpickling runs every call a pickle makes, whether or not the value it ends with holds the
 * result: a call popped from the stack, left under the result or only memoized runs all the same.
 */
const unreachableCalls: Record<string, Buffer> = {
  popped: latin1(`\x80\x04cposix\nsystem\nX\x04\x00\x00\x00true\x85R0ccollections\nOrderedDict\n)R.`),
  'left on the stack': latin1(`\x80\x04cposix\nsystem\nX\x04\x00\x00\x00true\x85RN.`),
  'only memoized': latin1(`\x80\x04cposix\nsystem\nX\x04\x00\x00\x00true\x85R\x940N.`),
};

test("under --no-opaque-pickles a JSON client's $opaque is refused for a call it makes that its value does not hold", () => {
  for (const [how, data] of Object.entries(unreachableCalls)) {
    const value = new OpaqueValue('python', 'collections.OrderedDict', data);
    assert.throws(() => refuseOpaquePickle(value, DEFAULT_MAX_MESSAGE_VALUES), /posix\.system object/, how);
  }
});

test("under --no-opaque-pickles a Python client's pickle is refused for a call it makes that its value does not hold", () => {
  for (const [how, data] of Object.entries(unreachableCalls)) assert.throws(() => refused(data), /posix\.system/, how);
});

test("a JSON client's $opaque of an allowed class is checked within the manager's value limit, and a pickle it cannot read is refused saying why", () => {
  // OrderedDict of 60,000 pairs: past the default limit of values, within a manager's raised one.
  const pairs = Buffer.concat(Array.from({ length: 60_000 }, (_, i) => latin1(`J${latin1String(i)}K\x01\x86`)));
  const big = Buffer.concat([latin1('\x80\x02ccollections\nOrderedDict\n]('), pairs, latin1('e\x85R.')]);
  const value = new OpaqueValue('python', 'collections.OrderedDict', big);
  assert.doesNotThrow(() => refuseOpaquePickle(value, 1_000_000));
  assert.throws(() => refuseOpaquePickle(value, DEFAULT_MAX_MESSAGE_VALUES), (error: Error) => /cannot be read/.test(error.message) && /100,?000|100000/.test(error.message));
  const broken = new OpaqueValue('python', 'collections.OrderedDict', latin1('\x80\x02ccollections\nOrderedDict\n'));
  assert.throws(() => refuseOpaquePickle(broken, DEFAULT_MAX_MESSAGE_VALUES), /collections\.OrderedDict.*cannot be read/);
});

/** A little-endian 4-byte int's bytes as Latin-1 text (BININT's argument). */
function latin1String(n: number): string {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b.toString('latin1');
}
