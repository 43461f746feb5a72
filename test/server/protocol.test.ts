/**
 * The protocol as a raw client sees it: lifecycle, objects, references, errors. Each test speaks
 * frames by hand over a real socket to an in-process manager on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { PROTOCOL_VERSION } from '../../src/common/protocol';
import { createOver, RawClient, sendBlocking, startManager } from '../helpers/manager';
import { frameMessage } from '../../src/common/framing';
import { until } from '../helpers/until';
import { PythonFrameDecoder, pythonFrame } from '../../src/server/python/framing';
import { MAX_CALL_ARGUMENTS } from '../../src/server/limits';

class Counter {
  n = 0;
  increment(by = 1) {
    return (this.n += by);
  }
  value() {
    return this.n;
  }
  secret() {
    return 'hidden';
  }
  _private() {
    return 'never';
  }
  fail() {
    throw new RangeError('counter exploded');
  }
  child() {
    return new Counter();
  }
}

function withCounter(m: import('../../src/server').Manager) {
  m.register('Counter', { callable: Counter, exposed: ['increment', 'value', 'fail', 'child'], methodToTypeid: { child: 'Counter' } });
  m.register('Open', { callable: Counter });
  m.register('get_jobs', { shared: 'Queue' });
}

test('initialize answers the agreed version, server info, capabilities and a session id', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  const reply = await c.request('initialize', { protocolVersion: '1.7', clientInfo: { name: 't', version: '9' }, processId: 42, capabilities: {} });
  assert.equal(reply.result.protocolVersion, PROTOCOL_VERSION, 'a newer minor agrees on ours');
  assert.equal(reply.result.serverInfo.name, 'syncmanager');
  assert.equal(reply.result.capabilities.cancellation, true);
  assert.match(reply.result.sessionId, /^s\d+$/);
  c.close();
});

test('a different major version is refused with the versions supported', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  const reply = await c.request('initialize', { protocolVersion: '2.0' });
  assert.equal(reply.error.code, ErrorCodes.UnsupportedProtocolVersion);
  assert.deepEqual(reply.error.data.supported, [PROTOCOL_VERSION]);
  assert.equal(reply.error.data.type, 'UnsupportedProtocolVersion');
  c.close();
});

test('a request before initialize is refused, and initialize twice is refused', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  const early = await c.request('manager/describe', {});
  assert.equal(early.error.code, ErrorCodes.ServerNotInitialized);
  assert.match(early.error.message, /initialize first/);
  assert.ok((await c.request('initialize', { protocolVersion: '1.0' })).result);
  const again = await c.request('initialize', { protocolVersion: '1.0' });
  assert.equal(again.error.code, ErrorCodes.InvalidRequest);
  c.close();
});

test('describe lists the built-in typeids and registered ones with their options', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { result } = await c.request('manager/describe', {});
  const byId = new Map(result.typeids.map((t: { typeid: string }) => [t.typeid, t]));
  for (const builtin of ['Queue', 'dict', 'list', 'Namespace', 'Value']) assert.ok(byId.has(builtin), builtin);
  assert.deepEqual(byId.get('Counter'), { typeid: 'Counter', exposed: ['increment', 'value', 'fail', 'child'], methodToTypeid: { child: 'Counter' }, createMethod: true, creatable: true });
  assert.equal((byId.get('Queue') as { builtin?: string }).builtin, 'Queue');
  c.close();
});

test('create returns a token; a shared typeid returns the same id every time', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const a = (await c.request('object/create', { typeid: 'get_jobs' })).result;
  const b = (await c.request('object/create', { typeid: 'get_jobs' })).result;
  assert.equal(a.id, b.id);
  assert.equal(a.builtin, 'Queue');
  assert.ok(a.exposed.includes('get'));
  const x = (await c.request('object/create', { typeid: 'Counter' })).result;
  const y = (await c.request('object/create', { typeid: 'Counter' })).result;
  assert.notEqual(x.id, y.id, 'a factory makes a new object per create');
  c.close();
});

test('exposed is enforced: a method not in the list is an AttributeError, not a call', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Counter' })).result;
  const reply = await c.request('object/call', { id, method: 'secret' });
  assert.equal(reply.error.code, ErrorCodes.MethodNotExposed);
  assert.equal(reply.error.data.type, 'AttributeError');
  assert.match(reply.error.message, /'secret'.*not exposed/);
  c.close();
});

test('with no exposed list every public method is exposed and underscored ones are not', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const token = (await c.request('object/create', { typeid: 'Open' })).result;
  assert.deepEqual(token.exposed, ['child', 'fail', 'increment', 'secret', 'value']);
  assert.equal((await c.request('object/call', { id: token.id, method: 'secret' })).result, 'hidden');
  assert.equal((await c.request('object/call', { id: token.id, method: '_private' })).error.code, ErrorCodes.MethodNotExposed);
  c.close();
});

test('a custom method runs with positional arguments and its exceptions keep their type and stack', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Counter' })).result;
  assert.equal((await c.request('object/call', { id, method: 'increment', args: [5] })).result, 5);
  const kw = await c.request('object/call', { id, method: 'increment', kwargs: { by: 1 } });
  assert.equal(kw.error.data.type, 'TypeError');
  assert.match(kw.error.data.message, /keyword/);
  const failed = await c.request('object/call', { id, method: 'fail' });
  assert.equal(failed.error.code, ErrorCodes.RemoteException);
  assert.equal(failed.error.data.type, 'ValueError');
  assert.match(failed.error.data.stack, /counter exploded/);
  c.close();
});

test('method_to_typeid returns a $proxy token that holds a reference of its own', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Counter' })).result;
  const reply = await c.request('object/call', { id, method: 'child' });
  const token = reply.result.$proxy;
  assert.equal(token.typeid, 'Counter');
  assert.notEqual(token.id, id);
  assert.equal((await c.request('object/call', { id: token.id, method: 'increment', args: [2] })).result, 2);
  assert.equal((await c.request('object/decref', { id: token.id })).result, null);
  assert.equal((await c.request('object/call', { id: token.id, method: 'value' })).error.code, ErrorCodes.UnknownObject);
  c.close();
});

test('incref and decref count references; one decref too many is refused', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Counter' })).result;
  assert.equal((await c.request('object/incref', { id })).result, null);
  assert.equal((await c.request('object/decref', { id })).result, null);
  assert.equal((await c.request('object/call', { id, method: 'value' })).result, 0, 'one reference is left');
  assert.equal((await c.request('object/decref', { id })).result, null);
  assert.equal((await c.request('object/decref', { id })).error.code, ErrorCodes.UnknownObject);
  c.close();
});

test('a session cannot release a reference another session holds', async () => {
  await using manager = await startManager({}, withCounter);
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const { id } = (await a.request('object/create', { typeid: 'Counter' })).result;
  const reply = await b.request('object/decref', { id });
  assert.equal(reply.error.code, ErrorCodes.NoReference);
  assert.equal((await a.request('object/call', { id, method: 'value' })).result, 0);
  a.close();
  b.close();
});

test('a closed connection releases every reference it held', async () => {
  await using manager = await startManager({}, withCounter);
  const a = await RawClient.open(manager.address);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await a.request('object/create', { typeid: 'Counter' })).result.id);
  await a.request('object/incref', { id: ids[0] });
  assert.equal(manager.table.size, 5);
  a.close();
  await a.closed;
  const b = await RawClient.open(manager.address);
  // The server handles the close before it answers b (one connection's events are ordered, and b's
  // first request is read after a's close was delivered): check until it is, boundedly.
  for (let i = 0; i < 100 && manager.table.size > 0; i++) await b.request('manager/describe', {});
  assert.equal(manager.table.size, 0);
  for (const id of ids) assert.equal((await b.request('object/call', { id, method: 'value' })).error.code, ErrorCodes.UnknownObject);
  b.close();
});

test('unknown typeid, unknown object id and unknown method each name what was wrong', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const t = await c.request('object/create', { typeid: 'Nope' });
  assert.equal(t.error.code, ErrorCodes.UnknownTypeid);
  assert.match(t.error.message, /"Nope"/);
  const o = await c.request('object/call', { id: 'ffff', method: 'get' });
  assert.equal(o.error.code, ErrorCodes.UnknownObject);
  assert.match(o.error.message, /"ffff"/);
  const m = await c.request('object/frobnicate', {});
  assert.equal(m.error.code, ErrorCodes.MethodNotFound);
  assert.match(m.error.message, /object\/frobnicate/);
  c.close();
});

test('params of the wrong shape are InvalidParams naming the field', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const cases: [string, unknown, RegExp][] = [
    ['object/create', {}, /missing field typeid/],
    ['object/create', { typeid: 5 }, /typeid must be a string/],
    ['object/create', { typeid: 'Queue', args: 'x' }, /args must be an array/],
    ['object/call', { id: 'x' }, /missing field method/],
    ['object/call', { id: 'x', method: 'get', extra: 1 }, /unknown field extra/],
    ['object/call', { id: 'x', method: 'get', kwargs: [] }, /kwargs must be an object/],
    ['object/incref', { id: 7 }, /id must be a string/],
    ['object/create', [1, 2], /params must be an object/],
  ];
  for (const [method, params, pattern] of cases) {
    const reply = await c.request(method, params);
    assert.equal(reply.error?.code, ErrorCodes.InvalidParams, `${method} ${JSON.stringify(params)}`);
    assert.match(reply.error.message, pattern);
  }
  c.close();
});

test('a call or create passing more arguments than the limit, positional and keyword together, is InvalidParams naming the count and the limit', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Queue' })).result;
  const over = MAX_CALL_ARGUMENTS + 1;
  const keywords = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, {}]));
  const refusal = new RegExp(`a call with ${over} arguments .* the limit is ${MAX_CALL_ARGUMENTS}`);
  for (const [method, params] of [
    ['object/call', { id, method: 'put', args: Array(over).fill({}) }],
    ['object/call', { id, method: 'put', args: [{}], kwargs: keywords(over - 1) }],
    ['object/call', { id, method: 'put', args: Array(40_000).fill({}) }],
    ['object/create', { typeid: 'Queue', args: Array(over - 2).fill(0), kwargs: keywords(2) }],
  ] as const) {
    const reply = await c.request(method, params);
    assert.equal(reply.error?.code, ErrorCodes.InvalidParams, `${method} refused`);
    assert.match(reply.error.message, method === 'object/call' && params.args.length === 40_000 ? /a call with 40000 arguments/ : refusal);
  }
  // At the limit the call is made (a Queue's put takes three at most: Python's TypeError).
  const atLimit = await c.request('object/call', { id, method: 'put', args: Array(MAX_CALL_ARGUMENTS).fill({}) });
  assert.doesNotMatch(atLimit.error?.message ?? '', /the limit is/);
  assert.equal((await c.request('object/call', { id, method: 'qsize' })).result, 0, 'nothing was put');
  c.close();
});

test('wrong argument types for a built-in method are a TypeError in Python words', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Queue' })).result;
  const missing = await c.request('object/call', { id, method: 'put' });
  assert.equal(missing.error.data.type, 'TypeError');
  assert.match(missing.error.data.message, /put\(\) missing 1 required positional argument: 'item'/);
  const extra = await c.request('object/call', { id, method: 'get', kwargs: { wait: true } });
  assert.match(extra.error.data.message, /unexpected keyword argument 'wait'/);
  const negative = await c.request('object/call', { id, method: 'get', kwargs: { timeout: -1 } });
  assert.equal(negative.error.data.type, 'ValueError');
  c.close();
});

test('invalid JSON is a ParseError and the connection keeps serving', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  c.sendRaw('Content-Length: 9\r\n\r\n{"jsonrpc');
  const reply = await c.next();
  assert.equal(reply.id, null);
  assert.equal(reply.error.code, ErrorCodes.ParseError);
  assert.ok((await c.request('manager/describe', {})).result);
  c.close();
});

test('a batch, a non-object and a bad jsonrpc member are InvalidRequest', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  c.sendJson([{ jsonrpc: '2.0', id: 1, method: 'manager/describe' }]);
  assert.match((await c.next()).error.message, /batch requests are not supported/);
  c.sendJson(42);
  assert.equal((await c.next()).error.code, ErrorCodes.InvalidRequest);
  c.sendJson({ jsonrpc: '1.0', id: 3, method: 'manager/describe' });
  const r = await c.next();
  assert.equal(r.id, 3);
  assert.equal(r.error.code, ErrorCodes.InvalidRequest);
  c.sendJson({ jsonrpc: '2.0', id: { x: 1 }, method: 'manager/describe' });
  assert.match((await c.next()).error.message, /id must be a number or a string/);
  assert.ok((await c.request('manager/describe', {})).result, 'still serving');
  c.close();
});

test('an unknown value tag is InvalidValue naming the tag and where it was', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'list' })).result;
  const reply = await c.request('object/call', { id, method: 'append', args: [{ a: [{ $complex: [1, 2] }] }] });
  assert.equal(reply.error.code, ErrorCodes.InvalidValue);
  assert.match(reply.error.message, /unknown value tag "\$complex" at \$\[0\]\.a\[0\]/);
  const proxy = await c.request('object/call', { id, method: 'append', args: [{ $proxy: { id: 'fff', typeid: 'list', exposed: [] } }] });
  assert.equal(proxy.error.code, ErrorCodes.InvalidValue);
  assert.match(proxy.error.message, /\$proxy at \$\[0\] names object "fff", which does not exist/);
  assert.equal((await c.request('object/call', { id, method: '__len__' })).result, 0, 'nothing was appended');
  c.close();
});

test('tagged values round-trip through a shared list unchanged', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'list' })).result;
  const values = [
    { $bytes: 'AAEC/w==' },
    { $int: '123456789012345678901234567890' },
    { $float: 2 },
    { $float: 'nan' },
    { $tuple: [1, 'a'] },
    { $set: [1, 2] },
    { $frozenset: ['x'] },
    { $dict: [[{ $tuple: [1, 2] }, 'pair'], [3, 'three']] },
    { $dict: [['$bytes', 'not a tag']] },
    { $opaque: { lang: 'python', type: 'fractions.Fraction', data: 'gAQ=' } },
    { plain: [1, 2.5, 'x', null, true] },
  ];
  for (const v of values) assert.equal((await c.request('object/call', { id, method: 'append', args: [v] })).result, null);
  for (let i = 0; i < values.length; i++) {
    const got = (await c.request('object/call', { id, method: '__getitem__', args: [i] })).result;
    assert.deepEqual(got, values[i]);
  }
  c.close();
});

test('a huge Content-Length is refused with MessageTooLarge and the connection is closed', async () => {
  await using manager = await startManager({ maxMessageBytes: 4096 });
  const c = await RawClient.open(manager.address);
  c.sendRaw('Content-Length: 999999999999\r\n\r\n');
  const reply = await c.next();
  assert.equal(reply.error.code, ErrorCodes.MessageTooLarge);
  await c.closed;
  const other = await RawClient.open(manager.address);
  assert.ok((await other.request('manager/describe', {})).result, 'the server still serves others');
  other.close();
});

test('a malformed header is a ParseError, then the connection is closed', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  c.sendRaw('Content-Length: banana\r\n\r\n{}');
  const reply = await c.next();
  assert.equal(reply.error.code, ErrorCodes.ParseError);
  assert.match(reply.error.message, /Content-Length "banana"/);
  await c.closed;
});

test('a broken pickle after the handshake is answered as Python\'s server answers it, and the server goes on', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  const received: Buffer[] = [];
  let frameArrived: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (frameArrived = resolve));
  c.socket.removeAllListeners('data');
  c.socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    const reply = Buffer.concat(received);
    if (reply.length >= 4 && reply.length >= 4 + reply.readInt32BE(0)) frameArrived();
  });
  // A frame of 5 bytes whose pickle (protocol 4, a FRAME opcode cut short) cannot be read.
  c.sendRaw(Buffer.from([0x00, 0x00, 0x00, 0x05, 0x80, 0x04, 0x95, 0x01, 0x02]));
  await arrived;
  const reply = Buffer.concat(received);
  assert.equal(reply.readInt32BE(0), reply.length - 4, 'one length-prefixed frame');
  assert.match(reply.toString('latin1'), /#TRACEBACK.*UnpicklingError/s);
  c.close();
  const other = await RawClient.open(manager.address);
  assert.ok((await other.request('manager/describe', {})).result);
  other.close();
});

/** Collects a raw socket's bytes from now on; `frames()` splits them into Python frames. */
function pythonFrames(c: RawClient): { bytes(): Buffer; frames(): Buffer[]; ended: Promise<void> } {
  const received: Buffer[] = [];
  c.socket.removeAllListeners('data');
  c.socket.on('data', (chunk: Buffer) => received.push(chunk));
  const ended = new Promise<void>((resolve) => c.socket.once('end', () => resolve()));
  const bytes = () => Buffer.concat(received);
  const frames = () => new PythonFrameDecoder(1 << 20).push(bytes());
  return { bytes, frames, ended };
}

/** A request as Python 3.8+ pickles it, framed. */
const pythonRequest = (hex: string): Buffer => pythonFrame(Buffer.from(hex, 'hex'));
// (None, 'dummy', (), {}), (None, 'accept_connection', ('MainProcess',), {}), (None, 'number_of_objects', (), {}), protocol 4.
const PY_DUMMY = '8004951000000000000000284e8c0564756d6d7994297d9474942e';
const PY_ACCEPT = '8004952b00000000000000284e8c116163636570745f636f6e6e656374696f6e948c0b4d61696e50726f636573739485947d9474942e';
const PY_NUMBER_OF_OBJECTS = '8004951c00000000000000284e8c116e756d6265725f6f665f6f626a6563747394297d9474942e';

test("a Python control connection is closed by the server after its one reply, as CPython's server does; a channel stays open", async () => {
  await using manager = await startManager();
  const control = await RawClient.open(manager.address, { initialize: false });
  const controlBytes = pythonFrames(control);
  let controlEnded = false;
  void controlBytes.ended.then(() => (controlEnded = true));
  control.sendRaw(pythonRequest(PY_DUMMY));
  await until('the server to end the control connection', () => controlEnded);
  assert.deepEqual(controlBytes.frames().map((f) => f.toString('latin1')), ['\x80\x02X\x07\x00\x00\x00#RETURNN\x86.'], "one reply, ('#RETURN', None), then the end");

  const channel = await RawClient.open(manager.address, { initialize: false });
  const channelBytes = pythonFrames(channel);
  let ended = false;
  void channelBytes.ended.then(() => (ended = true));
  channel.sendRaw(pythonRequest(PY_ACCEPT));
  channel.sendRaw(pythonRequest(PY_NUMBER_OF_OBJECTS));
  await until('both requests of the channel answered', () => channelBytes.frames().length === 2);
  assert.match(channelBytes.frames()[1].toString('latin1'), /#TRACEBACK/, 'on a channel, a control name is a method call of object None, which does not exist');
  assert.equal(ended, false, 'the channel is still open');
  channel.close();
});

test('a notification gets no answer and an unknown one is ignored', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  c.sendJson({ jsonrpc: '2.0', method: 'something/unknown', params: {} });
  c.sendJson({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 999 } });
  const reply = await c.request('manager/describe', {});
  assert.ok(reply.result, 'the first message back answers the request');
  c.close();
});

test('shutdown ends the session: references released, then the connection closes', async () => {
  await using manager = await startManager({}, withCounter);
  const c = await RawClient.open(manager.address);
  await c.request('object/create', { typeid: 'Counter' });
  assert.equal(manager.table.size, 1);
  assert.equal((await c.request('shutdown', {})).result, null);
  await c.closed;
  assert.equal(manager.table.size, 0);
});

test('a waiting call woken in the very turn its session shuts down: the answer goes out before the close', async () => {
  await using manager = await startManager();
  const owner = await RawClient.open(manager.address);
  const q = await createOver(owner, 'Queue');
  const c = await RawClient.open(manager.address);
  const getId = await sendBlocking(c, q.id, 'get');
  // One write, so the server reads the put that wakes the get and the shutdown in one turn.
  const put = { jsonrpc: '2.0', id: 'put', method: 'object/call', params: { id: q.id, method: 'put', args: ['item'] } };
  const shutdown = { jsonrpc: '2.0', id: 'bye', method: 'shutdown', params: {} };
  c.sendRaw(frameMessage(JSON.stringify(put)) + frameMessage(JSON.stringify(shutdown)));
  await c.closed;
  // Everything the server wrote before it closed has been read by now.
  const received: any[] = [];
  for (let i = 0; i < 10; i++) received.push(await c.next(1).catch(() => null));
  const answer = received.find((m) => m?.id === getId);
  assert.deepEqual(answer?.result, 'item', `the get's answer before the close; received ${JSON.stringify(received)}`);
  assert.equal((await owner.request('object/call', { id: q.id, method: 'qsize' })).result, 0);
  owner.close();
});

test('shutdown with server: true stops the manager unless remote shutdown is forbidden', async () => {
  await using strict = await startManager({ allowRemoteShutdown: false });
  const s = await RawClient.open(strict.address);
  const refused = await s.request('shutdown', { server: true });
  assert.equal(refused.error.data.type, 'PermissionError');
  s.close();

  const manager = await startManager();
  const c = await RawClient.open(manager.address);
  const served = manager.serveForever();
  assert.equal((await c.request('shutdown', { server: true })).result, null);
  await served;
  await c.closed;
});

test('protocol results are not value-encoded: a method named like a tag stays as it is in describe', async () => {
  await using manager = await startManager({}, (m) => m.register('Odd', { callable: Counter, exposed: ['$x'], methodToTypeid: { $x: 'Odd' } }));
  const c = await RawClient.open(manager.address);
  const { result } = await c.request('manager/describe', {});
  const odd = result.typeids.find((t: { typeid: string }) => t.typeid === 'Odd');
  assert.deepEqual(odd.methodToTypeid, { $x: 'Odd' });
  c.close();
});

test('a shared built-in registration is described as its built-in type', async () => {
  await using manager = await startManager({}, (m) => m.register('get_jobs', { shared: 'Queue' }));
  const c = await RawClient.open(manager.address);
  const { result } = await c.request('manager/describe', {});
  assert.equal(result.typeids.find((t: { typeid: string }) => t.typeid === 'get_jobs').builtin, 'Queue');
  c.close();
});
