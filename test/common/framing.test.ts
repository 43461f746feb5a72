import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentLengthDecoder, FramingError, frameMessage, frameWithAttachments } from '../../src/common/framing';

function decodeAll(chunks: Buffer[], max?: number): string[] {
  const out: string[] = [];
  const decoder = new ContentLengthDecoder((m) => out.push(m), max);
  for (const c of chunks) decoder.push(c);
  return out;
}

test('a frame split at every byte decodes to the same message', () => {
  const frame = Buffer.from(frameMessage('{"a":"héllo"}') + frameMessage('{"b":2}'));
  const chunks = [...frame].map((b) => Buffer.from([b]));
  assert.deepEqual(decodeAll(chunks), ['{"a":"héllo"}', '{"b":2}']);
});

test('many frames in one chunk all decode, in order', () => {
  const frames = Array.from({ length: 50 }, (_, i) => frameMessage(JSON.stringify({ i })));
  assert.deepEqual(decodeAll([Buffer.from(frames.join(''))]), frames.map((_, i) => JSON.stringify({ i })));
});

test('a Content-Type header with utf-8 is accepted, another charset is refused', () => {
  const ok = Buffer.from('Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}');
  assert.deepEqual(decodeAll([ok]), ['{}']);
  const bad = Buffer.from('Content-Length: 2\r\nContent-Type: application/json; charset=latin1\r\n\r\n{}');
  assert.throws(() => decodeAll([bad]), /unsupported charset/);
});

test('a body over the limit is refused from its header alone', () => {
  assert.throws(
    () => decodeAll([Buffer.from('Content-Length: 999999999\r\n\r\n')], 1024),
    (e: unknown) => e instanceof FramingError && e.kind === 'tooLarge' && /999999999 bytes exceeds the limit of 1024/.test(e.message),
  );
});

test('bytes that cannot start a header are refused at once', () => {
  assert.throws(() => decodeAll([Buffer.from([0x00, 0x01, 0x02])]), /expected a "Content-Length" header/);
});

test('a header with no Content-Length is refused', () => {
  assert.throws(() => decodeAll([Buffer.from('Content-Type: x\r\n\r\n')]), /no Content-Length/);
});

test('a header that never ends is refused once it passes the limit', () => {
  assert.throws(() => decodeAll([Buffer.from('X'.repeat(9000))]), /header longer than/);
});

test('an empty body is a message', () => {
  assert.deepEqual(decodeAll([Buffer.from('Content-Length: 0\r\n\r\n')]), ['']);
});

test('chunks read into one reused buffer (pushTransient) decode as if each were kept, attachments included', () => {
  const big = Buffer.alloc(3000, 7);
  const small = Buffer.from([1, 2, 3]);
  const stream = Buffer.concat([
    Buffer.from(frameMessage('{"a":"héllo"}')),
    ...frameWithAttachments('{"b":{"$attachment":0},"c":{"$attachment":1}}', [big, small]).map((part) => Buffer.from(part)),
    Buffer.from(frameMessage('{"d":2}')),
  ]);
  for (const size of [1, 5, 64, 1000, 4096, stream.length]) {
    const out: { body: string; attachments?: Buffer[] }[] = [];
    const decoder = new ContentLengthDecoder((body, attachments) => out.push({ body, attachments }));
    decoder.acceptAttachments = true;
    const reused = Buffer.alloc(size);
    for (let at = 0; at < stream.length; at += size) {
      const n = stream.copy(reused, 0, at, at + size);
      decoder.pushTransient(reused.subarray(0, n));
      // The next read overwrites the buffer: nothing handed on or kept may still point into it.
      reused.fill(0xff);
    }
    assert.deepEqual(
      out.map((m) => m.body),
      ['{"a":"héllo"}', '{"b":{"$attachment":0},"c":{"$attachment":1}}', '{"d":2}'],
      `read ${size} bytes at a time`,
    );
    assert.deepEqual(out[1].attachments, [big, small], `read ${size} bytes at a time`);
    assert.equal(decoder.pendingBytes, 0);
  }
});

/**
 * Feeds `stream` as a socket reading into `reused` would, asking the decoder before each read
 * where it goes ({@link ContentLengthDecoder.readPlace}): into the frame's own memory when the
 * decoder offers it, else into `reused`. Returns how many reads went into the frame's memory.
 */
function readAsASocket(decoder: ContentLengthDecoder, stream: Buffer, reused: Buffer): number {
  let inPlace = 0;
  for (let at = 0; at < stream.length; ) {
    const place = decoder.readPlace ?? reused;
    const n = stream.copy(place, 0, at, Math.min(stream.length, at + place.length));
    at += n;
    if (place !== reused) inPlace++;
    decoder.pushTransient(Buffer.from(place.buffer, place.byteOffset, n));
    reused.fill(0xff);
  }
  return inPlace;
}

test('the last part of a frame split over reads is read into its own memory: its attachment is a view of it, not a copy', () => {
  const big = Buffer.alloc(200 * 1024, 7);
  const stream = Buffer.concat([
    ...frameWithAttachments('{"b":{"$attachment":0}}', [big]).map((part) => Buffer.from(part)),
    Buffer.from(frameMessage('{"d":2}')),
  ]);
  for (const size of [1000, 64 * 1024, 128 * 1024]) {
    const out: { body: string; attachments?: Buffer[] }[] = [];
    const decoder = new ContentLengthDecoder((body, attachments) => out.push({ body, attachments }));
    decoder.acceptAttachments = true;
    const inPlace = readAsASocket(decoder, stream, Buffer.alloc(size));
    assert.ok(inPlace >= 1, `read ${size} bytes at a time: some reads went into the frame's memory`);
    assert.deepEqual(out.map((m) => m.body), ['{"b":{"$attachment":0}}', '{"d":2}']);
    assert.deepEqual(out[0].attachments, [big]);
    // A view of the body's own memory, which the attachment is nearly all of.
    assert.ok(out[0].attachments![0].buffer.byteLength < big.length + 100, `read ${size} bytes at a time`);
    assert.equal(decoder.pendingBytes, 0);
    assert.equal(decoder.readPlace, undefined);
  }
});

test('a frame is given memory of its own only for its last 128 KiB: a body declared large and sent slowly holds what arrived', () => {
  const decoder = new ContentLengthDecoder(() => {});
  decoder.pushTransient(Buffer.from(`Content-Length: ${4 * 1024 * 1024}\r\n\r\n{"a":"`));
  assert.equal(decoder.readPlace, undefined);
  assert.ok(decoder.pendingBytes < 100);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent + chunk.length <= 4 * 1024 * 1024 - 200 * 1024; sent += chunk.length) decoder.pushTransient(chunk);
  assert.equal(decoder.readPlace, undefined);
  decoder.pushTransient(chunk);
  decoder.pushTransient(chunk);
  // Within 128 KiB of its end: the body has its own memory, which is what the decoder holds.
  assert.ok(decoder.readPlace);
  assert.equal(decoder.pendingBytes, 4 * 1024 * 1024);
});
