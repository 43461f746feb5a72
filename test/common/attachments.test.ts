import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentLengthDecoder, FramingError, frameMessage, frameWithAttachments } from '../../src/common/framing';
import { resolveAttachments } from '../../src/common/attachments';
import { decodeValue, encodeValue } from '../../src/common/valueCodec';

interface Decoded {
  body: string;
  attachments?: Buffer[];
}

function decodeAll(chunks: Buffer[], options: { accept?: boolean; max?: number } = {}): Decoded[] {
  const out: Decoded[] = [];
  const decoder = new ContentLengthDecoder((body, attachments) => out.push(attachments ? { body, attachments } : { body }), options.max);
  decoder.acceptAttachments = options.accept ?? true;
  for (const c of chunks) decoder.push(c);
  return out;
}

const frameBytes = (json: string, attachments: Buffer[]) => Buffer.concat(frameWithAttachments(json, attachments).map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));

test('a frame with attachments: Content-Length counts the JSON text and the attachments, Content-Attachments their lengths', () => {
  const json = '{"a":{"$attachment":0},"b":{"$attachment":1}}';
  const frame = frameBytes(json, [Buffer.from('hello'), Buffer.alloc(0)]);
  assert.equal(frame.toString('latin1', 0, frame.indexOf('\r\n\r\n')), `Content-Length: ${json.length + 5}\r\nContent-Attachments: 5,0`);
  assert.deepEqual(decodeAll([frame]), [{ body: json, attachments: [Buffer.from('hello'), Buffer.alloc(0)] }]);
});

test('frames with and without attachments split at every byte decode to the same messages', () => {
  const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
  const all = Buffer.concat([frameBytes('{"x":{"$attachment":0}}', [binary]), Buffer.from(frameMessage('{"plain":1}')), frameBytes('[{"$attachment":0},{"$attachment":1}]', [Buffer.from([1]), Buffer.from('\r\n\r\n')])]);
  const expected = [{ body: '{"x":{"$attachment":0}}', attachments: [binary] }, { body: '{"plain":1}' }, { body: '[{"$attachment":0},{"$attachment":1}]', attachments: [Buffer.from([1]), Buffer.from('\r\n\r\n')] }];
  assert.deepEqual(decodeAll([...all].map((b) => Buffer.from([b]))), expected);
  assert.deepEqual(decodeAll([all]), expected);
});

test('a small attachment is copied out of the chunk it arrived in, so keeping it keeps no more of the stream', () => {
  const chunk = Buffer.concat([frameBytes('{"$attachment":0}', [Buffer.from('small')]), Buffer.from(frameMessage(JSON.stringify({ filler: 'x'.repeat(100_000) })))]);
  const [message] = decodeAll([chunk]);
  assert.deepEqual(message.attachments, [Buffer.from('small')]);
  assert.notEqual(message.attachments![0].buffer, chunk.buffer);
  assert.ok(message.attachments![0].buffer.byteLength < 100_000);
});

test('malformed Content-Attachments headers are framing errors naming what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['Content-Length: 10\r\nContent-Attachments: 5,x\r\n\r\n', /Content-Attachments "5,x" is not a list of byte counts/],
    ['Content-Length: 10\r\nContent-Attachments: \r\n\r\n', /Content-Attachments "" is not a list of byte counts/],
    ['Content-Length: 10\r\nContent-Attachments: 5,,1\r\n\r\n', /Content-Attachments "5,,1" is not a list of byte counts/],
    ['Content-Length: 10\r\nContent-Attachments: 1\r\nContent-Attachments: 1\r\n\r\n', /header has Content-Attachments twice/],
    ['Content-Length: 10\r\nContent-Attachments: 8,3\r\n\r\n', /Content-Attachments announce 11 bytes of attachments, more than the Content-Length of 10/],
  ];
  for (const [header, why] of cases) {
    assert.throws(() => decodeAll([Buffer.from(header)]), (e: unknown) => e instanceof FramingError && e.kind === 'header' && why.test(e.message), header);
  }
});

test('a frame with attachments is refused where they were not agreed', () => {
  assert.throws(
    () => decodeAll([frameBytes('{"$attachment":0}', [Buffer.from('a')])], { accept: false }),
    (e: unknown) => e instanceof FramingError && e.kind === 'header' && /Content-Attachments sent before binaryAttachments was granted in initialize/.test(e.message),
  );
});

test('the message limit counts the attachments', () => {
  const frame = frameBytes('{"$attachment":0}', [Buffer.alloc(2000)]);
  assert.throws(() => decodeAll([frame], { max: 1024 }), (e: unknown) => e instanceof FramingError && e.kind === 'tooLarge' && /of 2017 bytes exceeds the limit of 1024 bytes/.test(e.message));
});

test('encoding with an attachment list puts bytes beside the value, decoding after resolving gives them back', () => {
  const attachments: Buffer[] = [];
  const value = [Buffer.from('a'), { k: new Uint8Array([1, 2]), m: new Map([[Buffer.from('key'), 'v']]) }, 'text'];
  const wire = encodeValue(value, undefined, attachments);
  assert.deepEqual(wire, [{ $attachment: 0 }, { k: { $attachment: 1 }, m: { $dict: [[{ $attachment: 2 }, 'v']] } }, 'text']);
  assert.deepEqual(attachments, [Buffer.from('a'), Buffer.from([1, 2]), Buffer.from('key')]);
  const message = JSON.parse(JSON.stringify({ params: { args: wire } }));
  resolveAttachments(message, attachments);
  assert.deepEqual(decodeValue(message.params.args), [Buffer.from('a'), { k: Buffer.from([1, 2]), m: new Map([[Buffer.from('key'), 'v']]) }, 'text']);
  assert.deepEqual(encodeValue(value), [{ $bytes: 'YQ==' }, { k: { $bytes: 'AQI=' }, m: { $dict: [[{ $bytes: 'a2V5' }, 'v']] } }, 'text']);
});

test('an attachment index out of range, one referred to twice, one never referred to, or a malformed one, is an error naming it', () => {
  const two = [Buffer.from('a'), Buffer.from('b')];
  assert.throws(() => resolveAttachments({ a: [{ $attachment: 0 }, { $attachment: 2 }] }, two), /\$attachment 2 is out of range: the frame carries 2 attachments/);
  assert.throws(() => resolveAttachments({ a: { $attachment: 0 }, b: { $attachment: 0 } }, two), /attachment 0 is referred to twice/);
  assert.throws(() => resolveAttachments({ a: { $attachment: 0 } }, two), /attachment 1 is not referred to/);
  assert.throws(() => resolveAttachments({ a: { $attachment: '0' }, b: { $attachment: 1 } }, two), /\$attachment must be the index of an attachment, a whole number/);
  assert.throws(() => decodeValue({ $attachment: 0 }), /\$attachment 0 at \$ is out of range: the frame carries 0 attachments/);
});
