/**
 * A dense argument kept as its JSON text (SPEC §19) is stored in Redis as that text, which is the
 * stored form already, and comes back the same value: through a queue, a list and a dict kept in
 * the store, from a manager other than the one it was put through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, tuple, type DictProxy, type ListProxy, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { assertExitedCleanly, managerClientLines, pythonEnv, pythonOf, runPython } from '../python/helpers';

const redis = redisForTests('packed');

type Shared = { get_queue: QueueProxy<unknown>; get_list: ListProxy<unknown>; get_dict: DictProxy<unknown, unknown> };

test('a dense value put through one manager comes back the same through another, from Redis', { skip: redis.skip }, async (t) => {
  const prefix = redis.prefix();
  const start = () => startManager({ store: redis.url, storePrefix: prefix }, (m) => m.register('get_queue', { shared: 'Queue' }).register('get_list', { shared: 'list' }).register('get_dict', { shared: 'dict' }));
  const a = await start();
  t.after(() => a.shutdown());
  const b = await start();
  t.after(() => b.shutdown());
  const onA = await connect<Shared>({ address: a.address, authkey: AUTHKEY });
  t.after(() => onA.close());
  const onB = await connect<Shared>({ address: b.address, authkey: AUTHKEY });
  t.after(() => onB.close());
  const value = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? {} : tuple(i)));
  await (await onA.get_queue()).put(value);
  await (await onA.get_list()).append(value);
  await (await onA.get_dict()).set('k', value);
  assert.deepEqual(await (await onB.get_queue()).get(), value);
  assert.deepEqual(await (await onB.get_list()).at(0), value);
  assert.deepEqual(await (await onB.get_dict()).get('k'), value);
});

test("a Python client's dense argument, kept as a pickle, is stored in Redis as its value and read back the same", { skip: redis.skip }, async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const prefix = redis.prefix();
  const start = () => startManager({ store: redis.url, storePrefix: prefix }, (m) => m.register('get_queue', { shared: 'Queue' }));
  const a = await start();
  t.after(() => a.shutdown());
  const b = await start();
  t.after(() => b.shutdown());
  const put = [...managerClientLines('get_queue'), `m.get_queue().put([(i, {}) for i in range(20000)])`].join('\n');
  assertExitedCleanly(await runPython(python, ['-c', put], [], pythonEnv(a.address, AUTHKEY)), 'the Python producer');
  const onB = await connect<Shared>({ address: b.address, authkey: AUTHKEY });
  t.after(() => onB.close());
  assert.deepEqual(await (await onB.get_queue()).get(), Array.from({ length: 20_000 }, (_, i) => tuple<unknown>(i, {})));
});
