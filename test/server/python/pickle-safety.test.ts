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
