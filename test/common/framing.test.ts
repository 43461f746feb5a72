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
