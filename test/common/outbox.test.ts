import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox, type OutboxSink } from '../../src/common/outbox';
import { frameMessage } from '../../src/common/framing';

function recordingSink(): OutboxSink & { writes: string[] } {
  const writes: string[] = [];
  return { writes, destroyed: false, writableEnded: false, write: (data) => (writes.push(data), true) };
}

test('messages queued in one turn go out in one write, after the turn', async () => {
  const sink = recordingSink();
  const outbox = new Outbox(sink);
  outbox.push('{"a":1}');
  outbox.push('{"b":2}');
  assert.deepEqual(sink.writes, []);
  await Promise.resolve();
  assert.deepEqual(sink.writes, [frameMessage('{"a":1}') + frameMessage('{"b":2}')]);
});

test('while held, messages wait; releasing writes them at once, in one write, without waiting for a microtask', () => {
  const sink = recordingSink();
  const outbox = new Outbox(sink);
  outbox.hold();
  outbox.push('{"a":1}');
  outbox.push('{"b":2}');
  assert.deepEqual(sink.writes, []);
  outbox.release();
  assert.deepEqual(sink.writes, [frameMessage('{"a":1}') + frameMessage('{"b":2}')]);
  assert.equal(outbox.size, 0);
});

test('a message queued after the release goes out in a later write of its own', async () => {
  const sink = recordingSink();
  const outbox = new Outbox(sink);
  outbox.hold();
  outbox.push('{"a":1}');
  outbox.release();
  outbox.push('{"b":2}');
  assert.equal(sink.writes.length, 1);
  await Promise.resolve();
  assert.deepEqual(sink.writes, [frameMessage('{"a":1}'), frameMessage('{"b":2}')]);
});

test('releasing with nothing queued writes nothing', () => {
  const sink = recordingSink();
  const outbox = new Outbox(sink);
  outbox.hold();
  outbox.release();
  assert.deepEqual(sink.writes, []);
});
