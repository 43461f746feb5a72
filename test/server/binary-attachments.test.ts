/**
 * Bytes carried raw beside the JSON body (SPEC 5.1, capability `binaryAttachments`): over raw
 * frames and through the TypeScript client, against an in-process manager on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { connect } from '../../src/client';
import { AUTHKEY, createOver, RawClient, startManager } from '../helpers/manager';

async function binaryClient(address: string): Promise<RawClient> {
  const c = await RawClient.open(address, { initialize: false });
  const reply = await c.request('initialize', { protocolVersion: '1.3', clientInfo: { name: 'raw-binary' }, capabilities: { binaryAttachments: true } });
  assert.equal(reply.result.capabilities.binaryAttachments, true);
  return c;
}

const pattern = (n: number, seed = 7) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

test('binaryAttachments is granted only to a 1.3 client that asks for it', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const plain = await RawClient.open(m.address, { initialize: false });
  t.after(() => plain.close());
  assert.equal((await plain.request('initialize', { protocolVersion: '1.3', clientInfo: { name: 'raw' } })).result.capabilities.binaryAttachments, undefined);
  const old = await RawClient.open(m.address, { initialize: false });
  t.after(() => old.close());
  assert.equal((await old.request('initialize', { protocolVersion: '1.2', capabilities: { binaryAttachments: true } })).result.capabilities.binaryAttachments, undefined);
});

test('bytes of 0, 1, 64 KiB and 1 MiB, several in one message, nested in lists and dicts, go out and come back as attachments', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const c = await binaryClient(m.address);
  t.after(() => c.close());
  const q = await createOver(c, 'Queue');
  for (const size of [0, 1, 64 * 1024, 1024 * 1024]) {
    const bytes = pattern(size, size & 0xff);
    c.sendAttached({ jsonrpc: '2.0', id: `put-${size}`, method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [bytes]);
    assert.deepEqual((await c.next()).result, null);
    const got = await c.request('object/call', { id: q.id, method: 'get' });
    assert.deepEqual(got.result, { $attachment: 0 }, `size ${size}`);
    assert.equal(got.attachments.length, 1);
    assert.ok(got.attachments[0].equals(bytes), `size ${size}`);
  }
  const [a, b, d] = [pattern(3), pattern(70000, 1), pattern(5, 2)];
  const item = [{ $attachment: 0 }, { k: { $attachment: 1 }, list: [{ $tuple: [{ $attachment: 2 }] }] }];
  c.sendAttached({ jsonrpc: '2.0', id: 'several', method: 'object/call', params: { id: q.id, method: 'put', args: [item] } }, [a, b, d]);
  assert.deepEqual((await c.next()).result, null);
  const got = await c.request('object/call', { id: q.id, method: 'get' });
  assert.deepEqual(got.result, item);
  assert.deepEqual(got.attachments, [a, b, d]);
});

test('a bytes value stored by a binary client reaches a client without the capability as $bytes, and the other way round', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const c = await binaryClient(m.address);
  t.after(() => c.close());
  const plain = await RawClient.open(m.address);
  t.after(() => plain.close());
  const q = await createOver(c, 'Queue');
  c.sendAttached({ jsonrpc: '2.0', id: 1, method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [Buffer.from('hello')]);
  assert.equal((await c.next()).result, null);
  const got = await plain.request('object/call', { id: q.id, method: 'get' });
  assert.deepEqual(got.result, { $bytes: Buffer.from('hello').toString('base64') });
  assert.equal(got.attachments, undefined);
  assert.equal((await plain.request('object/call', { id: q.id, method: 'put', args: [{ $bytes: 'AAE=' }] })).result, null);
  const back = await c.request('object/call', { id: q.id, method: 'get' });
  assert.deepEqual(back.result, { $attachment: 0 });
  assert.deepEqual(back.attachments, [Buffer.from([0, 1])]);
});

test('an attachment index out of range or an attachment not referred to is refused naming it; the session goes on', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const c = await binaryClient(m.address);
  t.after(() => c.close());
  const q = await createOver(c, 'Queue');
  c.sendAttached({ jsonrpc: '2.0', id: 'far', method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 1 }] } }, [Buffer.from('x')]);
  const far = await c.next();
  assert.equal(far.id, 'far');
  assert.equal(far.error.code, ErrorCodes.InvalidParams);
  assert.match(far.error.message, /\$attachment 1 is out of range: the frame carries 1 attachment\b/);
  c.sendAttached({ jsonrpc: '2.0', id: 'spare', method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [Buffer.from('x'), Buffer.from('y')]);
  const spare = await c.next();
  assert.equal(spare.error.code, ErrorCodes.InvalidParams);
  assert.match(spare.error.message, /attachment 1 is not referred to/);
  // Nothing of either was put.
  assert.equal((await c.request('object/call', { id: q.id, method: 'qsize' })).result, 0);
});

test('a frame with a malformed Content-Attachments is refused with a framing error; other sessions keep being served', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const other = await binaryClient(m.address);
  t.after(() => other.close());
  const q = await createOver(other, 'Queue');
  for (const [header, why] of [
    ['Content-Length: 20\r\nContent-Attachments: 4,zz\r\n\r\n', /Content-Attachments "4,zz" is not a list of byte counts/],
    ['Content-Length: 20\r\nContent-Attachments: 30\r\n\r\n', /announce 30 bytes of attachments, more than the Content-Length of 20/],
  ] as const) {
    const c = await binaryClient(m.address);
    c.sendRaw(header);
    const reply = await c.next();
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, ErrorCodes.ParseError);
    assert.match(reply.error.message, why);
    await c.closed;
  }
  // Without the capability, attachments are a framing error too.
  const plain = await RawClient.open(m.address);
  plain.sendAttached({ jsonrpc: '2.0', id: 1, method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [Buffer.from('x')]);
  const refused = await plain.next();
  assert.equal(refused.error.code, ErrorCodes.ParseError);
  assert.match(refused.error.message, /Content-Attachments sent before binaryAttachments was granted in initialize/);
  await plain.closed;
  assert.equal((await other.request('object/call', { id: q.id, method: 'qsize' })).result, 0);
});

test('the message limit counts attachments, both ways', async (t) => {
  const m = await startManager({ maxMessageBytes: 100_000 });
  t.after(() => m.shutdown());
  const c = await binaryClient(m.address);
  t.after(() => c.close());
  const q = await createOver(c, 'Queue');
  // 99,000 raw bytes fit (they would not as base64: 132,000 characters).
  c.sendAttached({ jsonrpc: '2.0', id: 1, method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [pattern(99_000)]);
  assert.equal((await c.next()).result, null);
  const got = await c.request('object/call', { id: q.id, method: 'get' });
  assert.equal(got.attachments[0].length, 99_000);
  // A result whose attachments together pass the limit is not sent, and the session goes on.
  const d = await createOver(c, 'dict');
  for (const key of ['a', 'b']) {
    c.sendAttached({ jsonrpc: '2.0', id: `set-${key}`, method: 'object/call', params: { id: d.id, method: '__setitem__', args: [key, { $attachment: 0 }] } }, [pattern(60_000)]);
    assert.equal((await c.next()).result, null);
  }
  const copy = await c.request('object/call', { id: d.id, method: 'copy' });
  assert.equal(copy.error.code, ErrorCodes.MessageTooLarge);
  assert.match(copy.error.message, /120\d{3} bytes.*limit of 100000 bytes|limit of 100000 bytes.*120\d{3}/);
  assert.equal((await c.request('object/call', { id: d.id, method: '__len__' })).result, 2);
  // A frame over the limit is refused from its header, and the connection closed (SPEC 5).
  c.sendAttached({ jsonrpc: '2.0', id: 2, method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }, { $attachment: 1 }] } }, [pattern(60_000), pattern(60_000)]);
  const tooLarge = await c.next();
  assert.equal(tooLarge.error.code, ErrorCodes.MessageTooLarge);
  assert.match(tooLarge.error.message, /exceeds the limit of 100000 bytes/);
});

test('the TypeScript client asks for binaryAttachments and carries bytes raw; round trips keep every byte', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const client = await connect({ address: m.address, authkey: AUTHKEY });
  t.after(() => client.close());
  assert.equal(client.serverInfo.capabilities.binaryAttachments, true);
  const q = await client.create('Queue');
  for (const size of [0, 1, 64 * 1024, 1024 * 1024]) {
    const bytes = pattern(size, 3);
    await q.put(bytes);
    const back = (await q.get()) as Buffer;
    assert.ok(Buffer.isBuffer(back));
    assert.ok(back.equals(bytes), `size ${size}`);
  }
  const nested = [Buffer.from('a'), { k: Buffer.from([0, 255]), m: new Map([[Buffer.from('key'), Buffer.alloc(0)]]) }];
  await q.put(nested);
  assert.deepEqual(await q.get(), nested);
  // What the client stored reaches a client without the capability as $bytes.
  const plain = await RawClient.open(m.address);
  t.after(() => plain.close());
  await q.put(Buffer.from('seen by all'));
  assert.deepEqual((await plain.request('object/call', { id: q.token.id, method: 'get' })).result, { $bytes: Buffer.from('seen by all').toString('base64') });
});

test('a resumed session keeps binaryAttachments: kept answers are sent again with their attachments, and the new connection may send attachments', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const a = await RawClient.open(m.address, { initialize: false });
  const init = await a.request('initialize', { protocolVersion: '1.3', capabilities: { binaryAttachments: true, resume: { withinMs: 30_000 } } });
  assert.equal(init.result.capabilities.binaryAttachments, true);
  const q = await createOver(a, 'Queue');
  a.sendAttached({ jsonrpc: '2.0', id: 'put', method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [pattern(70_000)]);
  assert.equal((await a.next()).result, null);
  const got = await a.request('object/call', { id: q.id, method: 'get' });
  assert.ok(got.attachments[0].equals(pattern(70_000)));
  a.send('object/call', { id: q.id, method: 'get' }, 'waiting');
  a.close();
  await a.closed;
  const b = await RawClient.open(m.address, { initialize: false });
  t.after(() => b.close());
  // Counted: the create and the put; the get's answer counts as lost.
  const resumed = await b.request('initialize', { protocolVersion: '1.3', capabilities: { binaryAttachments: true, resume: { withinMs: 30_000, token: init.result.resumeToken, answersSeen: 2 } } });
  assert.equal(resumed.result.resumed, true);
  assert.equal(resumed.result.capabilities.binaryAttachments, true);
  b.send('object/call', { id: q.id, method: 'get' }, got.id);
  const kept = await b.next();
  assert.equal(kept.id, got.id);
  assert.deepEqual(kept.result, { $attachment: 0 });
  assert.ok(kept.attachments[0].equals(pattern(70_000)));
  // The get still waiting since the first connection takes what this one puts, answered here with its attachment.
  b.sendAttached({ jsonrpc: '2.0', id: 'late', method: 'object/call', params: { id: q.id, method: 'put', args: [{ $attachment: 0 }] } }, [Buffer.from('late')]);
  const answers = [await b.next(), await b.next()];
  assert.deepEqual(answers.find((x) => x.id === 'waiting')?.attachments, [Buffer.from('late')]);
  assert.equal(answers.find((x) => x.id === 'late')?.result, null);
});

test('large messages in flight back to back, each split over reads and its last part read in place, keep every byte and their order', async (t) => {
  const m = await startManager();
  t.after(() => m.shutdown());
  const client = await connect({ address: m.address, authkey: AUTHKEY });
  t.after(() => client.close());
  const q = await client.create('Queue');
  // Sizes around the reads' 128 KiB, all sent before any is answered: frames follow each other within reads.
  const sizes = [200 * 1024, 100 * 1024, 129 * 1024, 1, 300 * 1024 + 5, 64 * 1024, 127 * 1024];
  const values = sizes.map((size, i) => pattern(size, i));
  await Promise.all(values.map((v) => q.put(v)));
  const back = (await Promise.all(values.map(() => q.get()))) as Buffer[];
  back.forEach((b, i) => assert.ok(b.equals(values[i]), `value ${i} of ${sizes[i]} bytes`));
});
