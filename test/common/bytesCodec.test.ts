import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue, encodeValue } from '../../src/common/valueCodec';

const bytesOf = (text: string) => Buffer.from(decodeValue({ $bytes: text }) as Uint8Array);

test('$bytes: canonical base64 of every length decodes to its bytes, and encodes back to the same text', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
    const text = bytes.toString('base64');
    assert.deepEqual(bytesOf(text), bytes);
    assert.deepEqual(encodeValue(new Uint8Array(bytes)), { $bytes: text });
  }
});

test('$bytes: base64 whose padding bits are not zero is still read (as before), to the same bytes Buffer reads', () => {
  assert.deepEqual(bytesOf('QR=='), Buffer.from('QR==', 'base64'));
  assert.deepEqual(bytesOf('QUJ='), Buffer.from('QUJ=', 'base64'));
});

test('$bytes: text that is not base64 is refused, however Buffer would read it', () => {
  for (const bad of ['QUJD-_==', 'QU JD', 'QUJ', 'Q=JD', 'QUJD\n', '====', 'QUJD=']) {
    assert.throws(() => decodeValue({ $bytes: bad }), /\$bytes .*must be a base64 string/, bad);
  }
});
