import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox, type OutboxSink } from '../../src/common/outbox';

/**
 * A sink that behaves as a Node socket does when the system takes a write whole: the write
 * returns false when it was at least the stream's high-water mark (a 'drain' follows), yet nothing
 * is left buffered after it.
 */
function sinkTakingWholeWrites(): OutboxSink & { written: number } {
  return {
    written: 0,
    destroyed: false,
    writableEnded: false,
    writableLength: 0,
    write(data: string | Uint8Array): boolean {
      this.written += data.length;
      return data.length < 16 * 1024;
    },
    cork() {},
    uncork() {},
  };
}

const flushed = (): Promise<void> => new Promise((done) => setImmediate(done));

test('a large write the system took whole is heard as accepted: nothing is left to wait for', async () => {
  const sink = sinkTakingWholeWrites();
  const heard: boolean[] = [];
  const outbox = new Outbox(sink, (accepted) => heard.push(accepted));
  outbox.push({ json: '{"jsonrpc":"2.0","id":1,"result":{"$attachment":0}}', attachments: [Buffer.alloc(64 * 1024)] });
  await flushed();
  outbox.push('x'.repeat(20_000));
  await flushed();
  assert.deepEqual(heard, [true, true]);
  assert.ok(sink.written > 64 * 1024 + 20_000);
});

test('a write the sink keeps part of is heard as not accepted', async () => {
  const sink = sinkTakingWholeWrites();
  sink.write = function (data: string | Uint8Array): boolean {
    this.written += data.length;
    (this as { writableLength: number }).writableLength += data.length;
    return false;
  };
  const heard: boolean[] = [];
  const outbox = new Outbox(sink, (accepted) => heard.push(accepted));
  outbox.push('{"jsonrpc":"2.0","id":1,"result":1}');
  await flushed();
  assert.deepEqual(heard, [false]);
});
