/**
 * Proxies inside values (capability nestedProxies, protocol 1.2): a `$proxy` argument is a
 * reference to the live object, stored as such; reading it back gives the reader a reference of
 * its own to the same object. Plus the fallbacks every object answers (`__repr__`, `__str__`,
 * `#GETVALUE`) and the `$slice` tag's checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { RawClient, createOver, startManager } from '../helpers/manager';

async function call(c: RawClient, id: string, method: string, args?: unknown[]): Promise<any> {
  return c.request('object/call', { id, method, ...(args ? { args } : {}) });
}

test('initialize grants nestedProxies to 1.2 clients and not to 1.1 ones', async () => {
  await using manager = await startManager();
  const modern = await RawClient.open(manager.address, { initialize: false });
  assert.equal((await modern.request('initialize', { protocolVersion: '1.2' })).result.capabilities.nestedProxies, true);
  const older = await RawClient.open(manager.address, { initialize: false });
  const reply = await older.request('initialize', { protocolVersion: '1.1' });
  assert.equal(reply.result.protocolVersion, '1.1');
  assert.equal(reply.result.capabilities.nestedProxies, undefined);
  modern.close();
  older.close();
});

test('a queue stored in a dict comes back as a proxy to the same queue, with a reference for the reader', async () => {
  await using manager = await startManager();
  const a = await RawClient.open(manager.address);
  const b = await RawClient.open(manager.address);
  const q = await createOver(a, 'Queue');
  const d = await createOver(a, 'dict');
  assert.equal((await call(a, d.id, '__setitem__', ['jobs', { $proxy: q }])).result, null);
  const read = await call(b, d.id, '__getitem__', ['jobs']);
  assert.deepEqual(read.result.$proxy.id, q.id, 'the same object');
  assert.equal(read.result.$proxy.builtin, 'Queue');
  const entry = manager.table.get(q.id)!;
  assert.equal(entry.holders.get(manager.snapshot().sessions.find((s) => s.sessionId !== entry.holders.keys().next().value)!.sessionId), 1, 'b now holds one reference');
  await call(b, q.id, 'put', ['through b']);
  assert.equal((await call(a, q.id, 'get_nowait')).result, 'through b');
  // A copy of the dict carries the proxy too, as Python's does.
  const copy = await call(b, d.id, 'copy');
  assert.equal(copy.result.jobs.$proxy.id, q.id);
  a.close();
  b.close();
});

test('an object released by every client lives on inside the dict and comes back with its id', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const q = await createOver(c, 'Queue');
  const d = await createOver(c, 'dict');
  await call(c, q.id, 'put', ['kept']);
  await call(c, d.id, '__setitem__', ['q', { $proxy: q }]);
  await c.request('object/decref', { id: q.id });
  assert.equal(manager.table.get(q.id), undefined, 'no client holds it: it left the table');
  const back = await call(c, d.id, '__getitem__', ['q']);
  assert.equal(back.result.$proxy.id, q.id);
  assert.equal((await call(c, q.id, 'get_nowait')).result, 'kept', 'the very same queue, contents and all');
  c.close();
});

test('a proxy inside a list, a tuple and a queue item stays a reference', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const lock = await createOver(c, 'dict');
  const l = await createOver(c, 'list');
  const q = await createOver(c, 'Queue');
  await call(c, l.id, 'append', [{ $tuple: [1, { $proxy: lock }] }]);
  const item = await call(c, l.id, '__getitem__', [0]);
  assert.equal(item.result.$tuple[1].$proxy.id, lock.id);
  await call(c, q.id, 'put', [{ $proxy: l }]);
  assert.equal((await call(c, q.id, 'get_nowait')).result.$proxy.id, l.id);
  c.close();
});

test('a $proxy naming no live object, or the wrong typeid, is InvalidValue naming where', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const d = await createOver(c, 'dict');
  const missing = await call(c, d.id, '__setitem__', ['x', { $proxy: { id: 'ffff', typeid: 'Queue', exposed: [] } }]);
  assert.equal(missing.error.code, ErrorCodes.InvalidValue);
  assert.match(missing.error.message, /\$proxy at \$\[1\] names object "ffff", which does not exist/);
  const wrong = await call(c, d.id, '__setitem__', ['x', { $proxy: { id: d.id, typeid: 'Queue', exposed: [] } }]);
  assert.equal(wrong.error.code, ErrorCodes.InvalidValue);
  assert.match(wrong.error.message, /as a "Queue", but it is a "dict"/);
  assert.equal((await call(c, d.id, '__len__')).result, 0, 'nothing was stored');
  c.close();
});

test('inspection shows a stored proxy as its token and gives nobody a reference', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  await c.request('initialize', { protocolVersion: '1.2', capabilities: { inspection: true } });
  const q = await createOver(c, 'Queue');
  const d = await createOver(c, 'dict');
  await call(c, d.id, '__setitem__', ['q', { $proxy: q }]);
  const before = manager.table.get(q.id)!.refcount;
  const page = await c.request('inspect/peek', { id: d.id });
  assert.deepEqual(page.result.items, [['q', { $proxy: { id: q.id, typeid: 'Queue', exposed: q.exposed, builtin: 'Queue' } }]]);
  assert.equal(manager.table.get(q.id)!.refcount, before);
  c.close();
});

test('__repr__, __str__ and #GETVALUE answer for every object, exposed or not', async () => {
  class Point {
    constructor(
      public x = 1,
      public y = 2,
    ) {}
    norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }
  await using manager = await startManager({}, (m) => m.register('Point', { callable: Point, exposed: ['norm'] }));
  const c = await RawClient.open(manager.address);
  const d = await createOver(c, 'dict', [{ a: 1 }]);
  assert.equal((await call(c, d.id, '__repr__')).result, "{'a': 1}");
  assert.equal((await call(c, d.id, '__str__')).result, "{'a': 1}");
  assert.deepEqual((await call(c, d.id, '#GETVALUE')).result, { a: 1 });
  const q = await createOver(c, 'Queue');
  const value = await call(c, q.id, '#GETVALUE');
  assert.equal(value.error.data.type, 'TypeError');
  assert.match(value.error.message, /cannot pickle 'Queue' object/);
  const p = await createOver(c, 'Point');
  assert.match((await call(c, p.id, '__repr__')).result, /^<Point object at 0x[0-9a-f]+>$/);
  assert.deepEqual((await call(c, p.id, '#GETVALUE')).result, { x: 1, y: 2 });
  // Only the fallbacks: other unexposed names stay refused, and fallbacks take no arguments.
  assert.equal((await call(c, p.id, 'toString')).error.code, ErrorCodes.MethodNotExposed);
  assert.equal((await call(c, d.id, '__repr__', [1])).error.code, ErrorCodes.MethodNotExposed);
  c.close();
});

test('a malformed $slice is InvalidValue', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const l = await createOver(c, 'list', [[1, 2, 3]]);
  for (const body of [[1, 2], 'x', null, [1, 2, 3, 4]]) {
    const reply = await call(c, l.id, '__getitem__', [{ $slice: body }]);
    assert.equal(reply.error.code, ErrorCodes.InvalidValue, JSON.stringify(body));
    assert.match(reply.error.message, /\$slice at \$\[0\] must be an array \[start, stop, step\]/);
  }
  c.close();
});
