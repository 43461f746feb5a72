/**
 * The Redis store's connections hand each reply to ioredis's parser as it is read: ioredis reads
 * with a `prependListener('data')`, which a Node stream does not count as a 'data' listener, so
 * without `readAtOnce` every chunk waits a tick in the stream's buffer before the parser sees it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readAtOnce } from '../../src/server/store/redisReadAtOnce';

/** A flowing stream read the way ioredis reads its socket. */
function readAsIoredisDoes(): { stream: Readable; got: string[] } {
  const got: string[] = [];
  const stream = new Readable({ read() {} });
  stream.prependListener('data', (chunk: Buffer) => got.push(chunk.toString()));
  stream.resume();
  return { stream, got };
}

test('a chunk pushed reaches the prepended reader within the push', async () => {
  const { stream, got } = readAsIoredisDoes();
  readAtOnce(stream);
  // Past the resume's own tick: the stream is flowing and empty, as a connected socket is.
  await new Promise((done) => setImmediate(done));
  stream.push('first');
  assert.deepEqual(got, ['first']);
  stream.push('second');
  assert.deepEqual(got, ['first', 'second']);
});

test('applied twice to one stream, it still hands each chunk over once', async () => {
  const { stream, got } = readAsIoredisDoes();
  readAtOnce(stream);
  readAtOnce(stream);
  assert.equal(stream.listenerCount('data'), 2);
  await new Promise((done) => setImmediate(done));
  stream.push('only');
  assert.deepEqual(got, ['only']);
});
