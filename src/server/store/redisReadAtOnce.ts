/**
 * ioredis reads its socket with `prependListener('data', …)`, which a Node stream (20 and
 * later) does not count as a 'data' listener: a chunk read then goes into the stream's buffer and
 * reaches the parser a tick later, through `read()`, instead of being handed over as it is read.
 * That hop was paid by every reply of every store call. A 'data' listener added with `on`, which
 * does nothing, lets the stream hand each chunk straight to its listeners, ioredis's parser first.
 */

import type { Readable } from 'node:stream';

/** Does nothing: being there is its job. */
const countsAsReader = (): void => {};

/** Lets `stream` hand each chunk read to its 'data' listeners at once (see the module's comment). */
export function readAtOnce(stream: Readable): void {
  if (!stream.listeners('data').includes(countsAsReader)) stream.on('data', countsAsReader);
}
