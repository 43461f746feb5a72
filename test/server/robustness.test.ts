/**
 * One client cannot hurt the server or the others: bounded output, bounded work per value, ids in
 * flight, references of sessions that left, inherited names, and capabilities nobody asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { ErrorCodes } from '../../src/common/errorCodes';
import { frameMessage } from '../../src/common/framing';
import { frameHandshake, makeChallenge } from '../../src/common/handshake';
import { connect, TimeoutError } from '../../src/client';
import { AUTHKEY, RawClient, startManager } from '../helpers/manager';

class Slow {
  async work() {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return 'done';
  }
  async make() {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return new Slow();
  }
  toString() {
    return 'a Slow';
  }
}

test('a request id may not be reused while a request with it is in flight: the refusal carries id null', async () => {
  await using manager = await startManager({}, (m) => m.register('Slow', { callable: Slow }));
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Slow' })).result;
  // One write: the second is read while the first surely waits, however loaded the machine.
  const work = frameMessage(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'object/call', params: { id, method: 'work' } }));
  c.sendRaw(work + work);
  const first = await c.next();
  // Id null, not 5: request 5 is still owed its one answer (SPEC 6, since 1.3).
  assert.equal(first.id, null);
  assert.equal(first.error.code, ErrorCodes.InvalidRequest);
  assert.match(first.error.message, /already in use by a request in flight/);
  assert.equal((await c.next()).result, 'done');
  c.close();
});

test('a method named like an Object.prototype member is not taken for a methodToTypeid entry', async () => {
  await using manager = await startManager({}, (m) => m.register('Slow', { callable: Slow, exposed: ['toString'] }));
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Slow' })).result;
  assert.equal((await c.request('object/call', { id, method: 'toString' })).result, 'a Slow');
  c.close();
});

test('a proxy result that arrives after its session left holds no reference', async () => {
  await using manager = await startManager({}, (m) => m.register('Slow', { callable: Slow, methodToTypeid: { make: 'Slow' } }));
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Slow' })).result;
  c.send('object/call', { id, method: 'make' });
  await c.request('manager/describe', {});
  c.close();
  await c.closed;
  const other = await RawClient.open(manager.address);
  // The slow call ends 50 ms after it started: wait for it through the table, boundedly.
  for (let i = 0; i < 200 && manager.table.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(manager.table.size, 0);
  other.close();
});

test('keyword arguments are decoded one by one, and a $-named one is refused', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Queue' })).result;
  const tagged = await c.request('object/call', { id, method: 'get', kwargs: { block: false, timeout: { $float: 1 } } });
  assert.equal(tagged.error.data.type, 'Empty', 'block=false took effect');
  const dollar = await c.request('object/call', { id, method: 'get', kwargs: { $dict: [['block', false]] } });
  assert.equal(dollar.error.code, ErrorCodes.InvalidParams);
  assert.match(dollar.error.message, /may not start with \$/);
  c.close();
});

test('inherited names are unknown fields', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  for (const field of ['constructor', 'toString', 'hasOwnProperty']) {
    const reply = await c.request('object/create', { typeid: 'Queue', [field]: 1 });
    assert.equal(reply.error?.code, ErrorCodes.InvalidParams, field);
  }
  c.close();
});

test('an int of more than 4300 digits is refused before it costs any time', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'list' })).result;
  const reply = await c.request('object/call', { id, method: 'append', args: [{ $int: '9'.repeat(1_000_000) }] });
  assert.equal(reply.error.code, ErrorCodes.InvalidValue);
  assert.match(reply.error.message, /more than 4300 digits/);
  assert.equal((await c.request('object/call', { id, method: 'append', args: [{ $int: '9'.repeat(4300) }] })).result, null);
  c.close();
});

test('a result larger than the message limit is refused, and the connection stays usable', async () => {
  await using manager = await startManager({ maxMessageBytes: 64 * 1024 });
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'list', args: [Array.from({ length: 10_000 }, (_, i) => i)] })).result;
  await c.request('object/call', { id, method: '__imul__', args: [3] });
  const reply = await c.request('object/call', { id, method: '__add__', args: [[]] });
  assert.equal(reply.error?.code, ErrorCodes.MessageTooLarge);
  assert.match(reply.error.message, /exceeds the message limit/);
  assert.equal((await c.request('object/call', { id, method: '__len__' })).result, 30_000);
  c.close();
});

test('a get whose result is too large to send leaves the item in the queue, and the error says so', async () => {
  await using manager = await startManager({ maxMessageBytes: 64 * 1024 });
  const c = await RawClient.open(manager.address);
  for (const typeid of ['Queue', 'LifoQueue', 'PriorityQueue']) {
    const { id } = (await c.request('object/create', { typeid })).result;
    // 1e300 comes back written 1e+300: an item that fits in a request but not in its answer.
    const numbers = Array(10_000).fill('1e300').join(',');
    c.sendRaw(frameMessage(`{"jsonrpc":"2.0","id":"put-big","method":"object/call","params":{"id":${JSON.stringify(id)},"method":"put","args":[[${numbers}]]}}`));
    assert.equal((await c.next()).result, null, `${typeid}: the put fits`);
    for (const method of ['get', 'get_nowait']) {
      const reply = await c.request('object/call', { id, method });
      assert.equal(reply.error?.code, ErrorCodes.MessageTooLarge, `${typeid}.${method}`);
      assert.match(reply.error.message, /exceeds the message limit .* and was not sent; what the call took was given back/);
      assert.equal((await c.request('object/call', { id, method: 'qsize' })).result, 1, `${typeid}.${method}: the item is still there`);
    }
  }
  c.close();
});

test('a pop (or next) whose result is too large to send leaves the list, dict, set (or iterator) as it was, and the error says so', async () => {
  await using manager = await startManager({ maxMessageBytes: 64 * 1024 });
  const c = await RawClient.open(manager.address);
  // 1e300 comes back written 1e+300: an item that fits in a request but not in its answer.
  const big = `[${Array(10_000).fill('1e300').join(',')}]`;
  const create = async (typeid: string, args: string): Promise<string> => {
    c.sendRaw(frameMessage(`{"jsonrpc":"2.0","id":"make","method":"object/create","params":{"typeid":"${typeid}","args":[${args}]}}`));
    const reply = await c.next();
    assert.ok(reply.result, `${typeid} made: ${JSON.stringify(reply.error)}`);
    return reply.result.id;
  };
  const call = (id: string, method: string, args: unknown[] = []) => c.request('object/call', { id, method, args });
  const refused = (reply: any, what: string) => {
    assert.equal(reply.error?.code, ErrorCodes.MessageTooLarge, what);
    assert.match(reply.error.message, /exceeds the message limit .* and was not sent; what the call took was given back/, what);
  };

  const list = await create('list', `["a",${big},"c"]`);
  refused(await call(list, 'pop', [1]), 'list.pop(1)');
  refused(await call(list, 'pop', [-2]), 'list.pop(-2)');
  assert.equal((await call(list, '__len__')).result, 3, 'the list still holds 3 items');
  assert.equal((await call(list, '__getitem__', [0])).result, 'a');
  assert.equal((await call(list, '__getitem__', [2])).result, 'c', 'the big item is back in its place');
  const last = await create('list', `["a",${big}]`);
  refused(await call(last, 'pop'), 'list.pop()');
  assert.equal((await call(last, '__len__')).result, 2);

  const dict = await create('dict', `{"$dict":[["a",1],["big",${big}],["c",3]]}`);
  refused(await call(dict, 'pop', ['big']), 'dict.pop(key)');
  refused(await call(dict, 'pop', ['big', null]), 'dict.pop(key, default)');
  assert.deepEqual((await call(dict, 'keys')).result, ['a', 'big', 'c'], 'the key is back, in its place');
  const lastItem = await create('dict', `{"$dict":[["a",1],["big",${big}]]}`);
  refused(await call(lastItem, 'popitem'), 'dict.popitem()');
  assert.deepEqual((await call(lastItem, 'keys')).result, ['a', 'big']);
  assert.equal((await call(lastItem, 'popitem')).error?.code, ErrorCodes.MessageTooLarge, 'popitem takes the same item again');

  const set = await create('set', `{"$set":[{"$tuple":${big}},"b"]}`);
  refused(await call(set, 'pop'), 'set.pop()');
  assert.equal((await call(set, '__len__')).result, 2);
  assert.equal((await call(set, 'pop')).error?.code, ErrorCodes.MessageTooLarge, 'pop takes the same, oldest member again');

  const iterated = await create('list', `["a",${big},"c"]`);
  const iterator = (await call(iterated, '__iter__')).result.$proxy.id;
  assert.equal((await call(iterator, '__next__')).result, 'a');
  refused(await call(iterator, '__next__'), 'next(iterator)');
  refused(await call(iterator, '__next__'), 'next(iterator) is the same item again');
  c.close();
});

test('a client that does not read its answers makes its session stop reading, not the server buffer without end', async () => {
  await using manager = await startManager({ maxMessageValues: 250_000 });
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'list', args: [Array.from({ length: 200_000 }, (_, i) => i)] })).result;
  c.socket.pause();
  for (let i = 0; i < 100; i++) c.send('object/call', { id, method: '__add__', args: [[]] });
  const session = [...manager.connectedSessions][0];
  for (let i = 0; i < 400 && !session.isThrottled; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(session.isThrottled, 'the session paused');
  const other = await RawClient.open(manager.address);
  assert.ok((await other.request('manager/describe', {})).result, 'others are served meanwhile');
  other.close();
  c.socket.resume();
  let answered = 0;
  for (let i = 0; i < 100; i++) if ((await c.next(20_000)).result?.length === 200_000) answered++;
  assert.equal(answered, 100, 'every request was answered once the client read');
  c.close();
});

test('inspection is granted only to a 1.1 client that asks, by a manager that allows it', async () => {
  await using manager = await startManager();
  const plain = await RawClient.open(manager.address, { initialize: false });
  const init = await plain.request('initialize', { protocolVersion: '1.1', capabilities: {} });
  assert.deepEqual(init.result.capabilities, { cancellation: true });
  assert.equal((await plain.request('inspect/snapshot', {})).error.code, ErrorCodes.MethodNotFound);
  plain.close();
  const old = await RawClient.open(manager.address, { initialize: false });
  assert.deepEqual((await old.request('initialize', { protocolVersion: '1.0', capabilities: { inspection: true } })).result.capabilities, { cancellation: true });
  old.close();
  await using closed = await startManager({ inspection: false });
  const asked = await RawClient.open(closed.address, { initialize: false });
  await asked.request('initialize', { protocolVersion: '1.1', capabilities: { inspection: true } });
  assert.match((await asked.request('inspect/snapshot', {})).error.message, /turned off/);
  asked.close();
});

test('framing is strict: a duplicate Content-Length or a header not starting with a letter closes the connection', async () => {
  await using manager = await startManager();
  for (const bytes of ['Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}', ' Content-Length: 2\r\n\r\n{}']) {
    const c = await RawClient.open(manager.address);
    c.sendRaw(bytes);
    assert.equal((await c.next()).error.code, ErrorCodes.ParseError);
    await c.closed;
  }
});

test('connect() gives up at its timeout on a peer that authenticates but never answers', async () => {
  const mute = createServer((socket) => {
    socket.on('error', () => {});
    socket.write(frameHandshake(makeChallenge()));
    let frames = 0;
    socket.on('data', () => {
      frames++;
      if (frames === 1) socket.write(frameHandshake(Buffer.from('#WELCOME#')));
      // Never answers the client's challenge.
    });
  });
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  try {
    const address = `127.0.0.1:${(mute.address() as AddressInfo).port}`;
    await assert.rejects(connect({ address, authkey: AUTHKEY, timeout: 0.3 }), TimeoutError);
  } finally {
    mute.close();
  }
});

test('a typeid named then does not make connect() a thenable', async () => {
  await using manager = await startManager({}, (m) => m.register('then', { shared: 'Queue' }));
  await using client = await connect({ address: manager.address, authkey: AUTHKEY });
  assert.ok(client.typeids.has('then'));
  assert.equal(typeof (await client.create('then')).put, 'function');
});
