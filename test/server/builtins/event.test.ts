import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallCancelled } from '../../../src/server/exceptions';
import { Float } from '../../../src/common/valueTypes';
import { Event, createEvent } from '../../../src/server/builtins/event';
import { ErrorCodes } from '../../../src/common/errorCodes';
import { RawClient, startManager } from '../../helpers/manager';
import { call, pyError, settled } from './helpers';

test('a new event is unset; set, clear and is_set work as Python', () => {
  const e = createEvent([], {});
  assert.equal(call(e, 'is_set'), false);
  assert.equal(call(e, 'set'), undefined);
  assert.equal(call(e, 'is_set'), true);
  assert.equal(call(e, 'clear'), undefined);
  assert.equal(call(e, 'is_set'), false);
});

test('wait on a set event returns True at once, whatever the timeout (Python does not look at it)', () => {
  const e = new Event();
  call(e, 'set');
  assert.equal(call(e, 'wait'), true);
  assert.equal(call(e, 'wait', [0.05]), true);
  assert.equal(call(e, 'wait', [-1]), true);
  assert.equal(call(e, 'wait', ['a']), true);
});

test('wait on an unset event with timeout 0, negative or NaN returns False at once', () => {
  const e = new Event();
  for (const timeout of [0, new Float(0), -1, -1e300, NaN, false]) assert.equal(call(e, 'wait', [timeout]), false, String(timeout));
  assert.equal(call(e, 'wait', [], { timeout: 0 }), false);
});

test('wait with a timeout returns False when it passes first', async () => {
  const e = new Event();
  const started = Date.now();
  const p = call(e, 'wait', [0.05]);
  assert.ok(p instanceof Promise);
  assert.equal(await p, false);
  assert.ok(Date.now() - started >= 40, 'waited about the timeout');
  assert.equal(e.describeState().details.waiting, 0, 'the timed-out waiter left');
});

test('set wakes every waiter with True, and later waits return at once', async () => {
  const e = new Event();
  const waits = [call(e, 'wait'), call(e, 'wait', [10]), call(e, 'wait', [], { timeout: 10 })];
  assert.equal(await settled(waits[0]), false);
  assert.deepEqual(e.describeState(), { details: { set: false, waiting: 3 } });
  call(e, 'set');
  assert.deepEqual(await Promise.all(waits), [true, true, true]);
  assert.deepEqual(e.describeState(), { details: { set: true, waiting: 0 } });
  assert.equal(call(e, 'wait'), true);
});

test('clear after set does not take back a wake-up already given', async () => {
  const e = new Event();
  const p = call(e, 'wait');
  call(e, 'set');
  call(e, 'clear');
  assert.equal(await p, true);
  assert.equal(await settled(call(e, 'wait', [10])), false, 'a new wait blocks again');
  call(e, 'set');
});

test('a withdrawn waiter is rejected with CallCancelled and leaves the others waiting', async () => {
  const e = new Event();
  const controller = new AbortController();
  const withdrawn = call(e, 'wait', [], {}, { signal: controller.signal }) as Promise<unknown>;
  const stays = call(e, 'wait', [10]);
  controller.abort();
  await assert.rejects(withdrawn, CallCancelled);
  assert.equal(e.describeState().details.waiting, 1);
  call(e, 'set');
  assert.equal(await stays, true);
});

test('a call already withdrawn when it runs is CallCancelled, even on a set event', () => {
  const e = new Event();
  call(e, 'set');
  const controller = new AbortController();
  controller.abort();
  assert.throws(() => call(e, 'wait', [], {}, { signal: controller.signal }), CallCancelled);
});

test('bad timeouts fail with Python\'s errors', () => {
  const e = new Event();
  assert.throws(() => call(e, 'wait', ['a']), pyError('TypeError', "'>' not supported between instances of 'str' and 'int'"));
  assert.throws(() => call(e, 'wait', [[]]), pyError('TypeError', "'>' not supported between instances of 'list' and 'int'"));
  assert.throws(() => call(e, 'wait', [9223372037]), pyError('OverflowError', 'timestamp too large to convert to C PyTime_t'));
  assert.throws(() => call(e, 'wait', [2n ** 70n]), pyError('OverflowError', 'timestamp too large to convert to C PyTime_t'));
  assert.throws(() => call(e, 'wait', [Infinity]), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  assert.throws(() => call(e, 'wait', [9223372036.9]), pyError('OverflowError', 'timestamp out of range for platform time_t'));
  assert.equal(e.describeState().details.waiting, 0, 'nothing was left waiting');
});

test('a long timeout that fits Python\'s clock waits, and set wakes it', async () => {
  const e = new Event();
  const waits = [call(e, 'wait', [9223372036]), call(e, 'wait', [new Float(9223372036)])];
  assert.equal(await settled(waits[0]), false);
  call(e, 'set');
  assert.deepEqual(await Promise.all(waits), [true, true]);
});

test('arguments are bound as Python binds them', () => {
  const e = new Event();
  assert.throws(() => call(e, 'set', [1]), pyError('TypeError', /takes 0 positional arguments but 1 was given/));
  assert.throws(() => call(e, 'wait', [1, 2]), pyError('TypeError', /takes from 0 to 1 positional arguments but 2 were given/));
  assert.throws(() => call(e, 'wait', [], { x: 1 }), pyError('TypeError', /got an unexpected keyword argument 'x'/));
  assert.throws(() => createEvent([1], {}), pyError('TypeError', /takes 0 positional arguments but 1 was given/));
});

test('repr is Python\'s, showing set or unset', () => {
  const e = new Event();
  assert.match(e.__repr__(), /^<threading\.Event at 0x[0-9a-f]+: unset>$/);
  e.set();
  assert.match(e.__repr__(), /^<threading\.Event at 0x[0-9a-f]+: set>$/);
});

test('exposed are EventProxy\'s methods', () => {
  assert.deepEqual([...Event.exposed].sort(), ['clear', 'is_set', 'set', 'wait']);
});

test('over sockets: a set by one client wakes another client\'s wait', async () => {
  await using manager = await startManager({}, (m) => m.register('get_event', { shared: 'Event' }));
  const waiter = await RawClient.open(manager.address);
  const setter = await RawClient.open(manager.address);
  const wid = (await waiter.request('object/create', { typeid: 'get_event' })).result.id;
  const sid = (await setter.request('object/create', { typeid: 'get_event' })).result.id;
  const waitId = waiter.send('object/call', { id: wid, method: 'wait', args: [5] });
  // Calls on one connection run in order: once this answers, the wait is registered.
  assert.equal((await waiter.request('object/call', { id: wid, method: 'is_set' })).result, false);
  await setter.request('object/call', { id: sid, method: 'set' });
  const reply = await waiter.next(2000);
  assert.equal(reply.id, waitId);
  assert.equal(reply.result, true);
  assert.equal((await waiter.request('object/call', { id: wid, method: 'is_set' })).result, true);
  waiter.close();
  setter.close();
});

test('over sockets: a wait with a timeout answers False, and a cancelled wait RequestCancelled', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'Event' })).result;
  assert.equal((await c.request('object/call', { id, method: 'wait', kwargs: { timeout: 0.05 } })).result, false);
  const waitId = c.send('object/call', { id, method: 'wait' });
  c.sendJson({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: waitId } });
  const cancelled = await c.next(2000);
  assert.equal(cancelled.id, waitId);
  assert.equal(cancelled.error.code, ErrorCodes.RequestCancelled);
  c.close();
});
