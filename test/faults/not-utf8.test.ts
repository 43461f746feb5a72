/**
 * A JSON-RPC body that is not UTF-8 (RFC 8259 8.1, SPEC 5) is refused as a ParseError naming
 * that, not read with its bad bytes silently replaced by U+FFFD: a put of such a string stored
 * something other than what was sent. The framing was intact, so the connection stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { RawClient, createOver, startManager } from '../helpers/manager';

/** A framed body of the given bytes. */
function frame(body: Buffer, attachments?: Buffer[]): Buffer {
  const extra = attachments ? Buffer.concat(attachments) : Buffer.alloc(0);
  const head = `Content-Length: ${body.length + extra.length}\r\n${attachments ? `Content-Attachments: ${attachments.map((a) => a.length).join(',')}\r\n` : ''}\r\n`;
  return Buffer.concat([Buffer.from(head), body, extra]);
}

test('a body that is not UTF-8 is refused with a ParseError naming it; the connection stays open and nothing is stored', async () => {
  await using manager = await startManager({}, (m) => m.register('jobs', { shared: 'Queue' }));
  const raw = await RawClient.open(manager.address);
  const queue = await createOver(raw, 'Queue');
  const put = (text: Buffer) => Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":5,"method":"object/call","params":{"id":${JSON.stringify(queue.id)},"method":"put","args":["`), text, Buffer.from('"]}}')]);
  // A lone continuation byte, a truncated sequence, an overlong encoding, a surrogate half.
  for (const bad of [[0x80], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe]]) {
    raw.sendRaw(frame(put(Buffer.from(bad))));
    const reply = await raw.next();
    assert.equal(reply.id, null, JSON.stringify(reply));
    assert.equal(reply.error?.code, ErrorCodes.ParseError, JSON.stringify(reply));
    assert.match(reply.error.message, /not valid UTF-8/);
  }
  // The same connection goes on; a real U+FFFD (valid UTF-8) is stored as sent.
  raw.sendRaw(frame(put(Buffer.from('\uFFFD', 'utf8'))));
  assert.deepEqual((await raw.next()).result, null);
  raw.sendJson({ jsonrpc: '2.0', id: 6, method: 'object/call', params: { id: queue.id, method: 'qsize', args: [] } });
  assert.equal((await raw.next()).result, 1);
  raw.close();
});
