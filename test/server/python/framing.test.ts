import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PythonFrameDecoder, PythonFramingError, pythonFrame } from '../../../src/server/python/framing';

test('frames split anywhere, several in one chunk, and the 8-byte long form all decode', () => {
  const payloads = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
  const stream = Buffer.concat(payloads.map(pythonFrame));
  for (const step of [1, 3, 4, 5, 1000, stream.length]) {
    const decoder = new PythonFrameDecoder(1 << 20);
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length; at += step) got.push(...decoder.push(stream.subarray(at, at + step)));
    assert.deepEqual(got, payloads, `chunks of ${step}`);
  }
  const long = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('hi')]);
  assert.deepEqual(new PythonFrameDecoder(100).push(long), [Buffer.from('hi')]);
});

test('a negative length or one beyond the limit is refused before anything is buffered', () => {
  assert.throws(() => new PythonFrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xfe])), PythonFramingError);
  assert.throws(() => new PythonFrameDecoder(100).push(Buffer.from([0, 0, 0, 101])), /101 bytes exceeds the limit of 100/);
  const huge = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0])]);
  assert.throws(() => new PythonFrameDecoder(100).push(huge), /exceeds the limit/);
});

test('a head sent alone, as CPython sends a large message (head, then payload), and its payload in the next chunk: the payload is that chunk, not a copy', () => {
  for (const frame of [pythonFrame(Buffer.alloc(70_000, 7)), Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('abc')])]) {
    const headSize = frame[0] === 0xff ? 12 : 4;
    const decoder = new PythonFrameDecoder(1 << 20);
    assert.deepEqual(decoder.push(Buffer.from(frame.subarray(0, headSize))), []);
    const payload = Buffer.concat([frame.subarray(headSize), pythonFrame(Buffer.from('next'))]);
    const got = decoder.push(payload);
    assert.deepEqual(got, [frame.subarray(headSize), Buffer.from('next')]);
    assert.equal(got[0].buffer, payload.buffer, 'a view of the chunk it arrived in');
    assert.equal(decoder.pendingBytes, 0);
  }
});
