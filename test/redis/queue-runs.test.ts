/**
 * Queue calls joined into runs in Redis (src/server/store/redisScriptRuns.ts), through real
 * managers and clients: a run of gets answers its items joined by a control character, so items
 * that hold that character (a string, bytes, a pickled value, a JSON client's `$opaque`) must come
 * back whole, from a TypeScript client and from an unmodified CPython client alike. The gets of a
 * client that left before their answers were sent give their items back so that they come out
 * again in the order they were taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, OpaqueValue, tuple, type QueueProxy } from '../../src/client';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { redisForTests, startRedis } from '../helpers/redisServer';
import { eventually, until } from '../helpers/until';
import { assertExitedCleanly, managerClientLines, pythonEnv, pythonOf, runPython } from '../python/helpers';

const redis = redisForTests('runs');
const { skip } = redis;

type Queues = { get_queue: QueueProxy<unknown>; get_back: QueueProxy<unknown> };

/** The byte a run of gets separates its items with, and texts built around it. */
const SEPARATOR = '\x1f';

/** How many times Redis ran LRANGE, which only a run of gets calls on a queue: whether the gets went as runs. */
async function rangesRun(): Promise<number> {
  const plain = new Redis(redis.url);
  try {
    return Number(/cmdstat_lrange:calls=(\d+)/.exec(await plain.info('commandstats'))?.[1] ?? 0);
  } finally {
    plain.disconnect();
  }
}
/** Bytes as the TypeScript client reads them back (a Buffer). */
const BYTES = Buffer.from([0x1f, 0x23, 0x31, 0x20, 0x1f, 0x00, 0xff]);

test('items holding the separator of a run of gets come back whole from runs of puts and gets', { skip, timeout: 30_000 }, async () => {
  await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() }, (m) => {
    m.register('get_queue', { shared: 'Queue' });
    m.register('get_back', { shared: 'LifoQueue' });
  });
  const client = await connect<Queues>({ address: manager.address, authkey: AUTHKEY });
  try {
    const q = await client.get_queue();
    const values: unknown[] = [
      SEPARATOR,
      `${SEPARATOR}#3 x`,
      `a${SEPARATOR}#12 ${SEPARATOR}`,
      '#2 not a mark',
      BYTES,
      new OpaqueValue('python', 'app.Thing', BYTES),
      tuple<unknown>(SEPARATOR, BYTES, [`${SEPARATOR}#1 `]),
      { [`k${SEPARATOR}#1 `]: SEPARATOR },
    ];
    // All in flight at once: one run of puts, then one run of gets.
    const items = Array.from({ length: 5 }, () => values).flat();
    await Promise.all(items.map((item) => q.put(item)));
    const before = await rangesRun();
    const got = await Promise.all(items.map(() => q.get({ block: false })));
    assert.ok((await rangesRun()) > before, 'the gets went as runs');
    assert.deepEqual(got, items);
    // LIFO: gets in a run take from the right, reversed in the run.
    const back = await client.get_back();
    await Promise.all(items.map((item) => back.put(item)));
    assert.deepEqual(await Promise.all(items.map(() => back.get({ block: false }))), [...items].reverse());
  } finally {
    await client.close();
  }
});

test('a CPython client\'s pickled items holding the separator come back whole through runs', { skip, timeout: 60_000 }, async (t) => {
  const python = pythonOf('3.12') ?? pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 or 3.12 here');
  await using manager = await startManager({ store: redis.url, storePrefix: redis.prefix() }, (m) => {
    m.register('get_queue', { shared: 'Queue' });
    m.register('get_back', { shared: 'Queue' });
  });
  const env = pythonEnv(manager.address, AUTHKEY);
  const values = [
    "'\\x1f'",
    "'\\x1f#3 x'",
    "b'\\x1f#1 \\x1f\\x00'",
    "('\\x1f', b'\\x1f', ['\\x1f#1 '])",
    "{'\\x1f': b'\\x1f#2 '}",
    // A class of this script's own: kept as an opaque pickle, whose bytes hold the separator too.
    "Thing('\\x1f#4 y')",
    'collections.OrderedDict(a=b"\\x1f")',
  ];
  const preamble = [
    ...managerClientLines('get_queue'),
    "BaseManager.register('get_back')",
    'import collections',
    'class Thing:',
    '    def __init__(self, v): self.v = v',
    '    def __eq__(self, other): return type(other) is Thing and other.v == self.v',
    `VALUES = [${values.join(', ')}] * 4`,
  ];
  const put = await runPython(python, ['-c', [...preamble, 'q = m.get_queue()', 'for v in VALUES: q.put(v)'].join('\n')], [], env);
  assertExitedCleanly(put, 'the Python producer');
  // A JSON client moves them all at once: a run of gets from one queue, a run of puts on the other.
  const client = await connect<Queues>({ address: manager.address, authkey: AUTHKEY });
  try {
    const q = await client.get_queue();
    const back = await client.get_back();
    const count = values.length * 4;
    const before = await rangesRun();
    const moved = await Promise.all(Array.from({ length: count }, () => q.get({ block: false })));
    assert.ok((await rangesRun()) > before, 'the gets went as runs');
    await Promise.all(moved.map((item) => back.put(item)));
  } finally {
    await client.close();
  }
  const check = [
    ...preamble,
    'b = m.get_back()',
    'for i, want in enumerate(VALUES):',
    '    got = b.get(timeout=10)',
    '    assert got == want and type(got) is type(want), (i, repr(got), repr(want))',
    'assert b.empty()',
    "print('ok')",
  ];
  const checked = await runPython(python, ['-c', check.join('\n')], [], env);
  assertExitedCleanly(checked, 'the Python consumer');
  assert.match(checked.stdout, /ok/);
});

type Bounded = { get_bounded: QueueProxy<string> };

/** Runs `calls` calls made by `make`, at most `window` in flight at once; their results in call order. */
async function inFlight<T>(calls: number, window: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(calls);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < calls; i = next++) results[i] = await make(i);
  };
  await Promise.all(Array.from({ length: window }, lane));
  return results;
}

test('producers and consumers on two managers, many calls in flight on a bounded queue: each item is got exactly once', { skip, timeout: 120_000 }, async () => {
  const prefix = redis.prefix();
  const start = () => startManager({ store: redis.url, storePrefix: prefix }, (m) => m.register('get_bounded', { shared: 'Queue', args: [16] }));
  await using a = await start();
  await using b = await start();
  const clients = await Promise.all([a, b, a, b, a, b].map((m) => connect<Bounded>({ address: m.address, authkey: AUTHKEY })));
  try {
    const queues = await Promise.all(clients.map((c) => c.get_bounded()));
    const PER_PRODUCER = 300;
    const producers = queues.slice(0, 3);
    const consumers = queues.slice(3);
    const total = producers.length * PER_PRODUCER;
    const got: string[] = [];
    let emptyTries = 0;
    const produce = producers.map((q, p) =>
      inFlight(PER_PRODUCER, 12, async (i) => {
        const item = `p${p}-${i}`;
        // Every third a put_nowait, tried again while Full; the others wait for room.
        if (i % 3 === 0) {
          for (let tries = 0; tries < 10_000; tries++) {
            try {
              return await q.putNowait(item);
            } catch (error) {
              if ((error as Error).name !== 'FullError') throw error;
            }
          }
          throw new Error(`${item}: the queue stayed full`);
        }
        return q.put(item, { timeout: 30 });
      }),
    );
    const consume = consumers.map((q, c) =>
      inFlight(total, 10, async (i) => {
        while (got.length < total && emptyTries < 1_000_000) {
          try {
            if (c === 0) {
              const d = await q.get({ ack: true, timeout: 0.5 });
              got.push(d.value);
              await d.ack();
            } else if (c === 1 || i % 2 === 0) got.push(await q.get({ timeout: 0.5 }));
            else got.push(await q.getNowait());
            return;
          } catch (error) {
            if ((error as Error).name !== 'EmptyError') throw error;
            emptyTries++;
          }
        }
      }),
    );
    await Promise.all([...produce, ...consume]);
    assert.equal(got.length, total, 'every item was got');
    assert.equal(new Set(got).size, total, 'no item was got twice');
    assert.equal(await queues[0]!.qsize(), 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

for (const [typeid, order, block] of [
  ['Queue', ['a', 'b', 'c', 'd'], false],
  ['LifoQueue', ['d', 'c', 'b', 'a'], false],
  ['Queue', ['a', 'b', 'c', 'd'], true],
] as const) {
  test(`${block ? 'blocking gets' : 'gets'} of a ${typeid} whose client left before their answers: the items come out again in the order they were taken`, { skip, timeout: 30_000 }, async () => {
    const own = await startRedis();
    const plain = new Redis(own.url);
    try {
      await using manager = await startManager({ store: own.url, storePrefix: 'gone' }, (m) => m.register('get_queue', { shared: typeid }));
      const client = await connect<Queues>({ address: manager.address, authkey: AUTHKEY });
      const q = await client.get_queue();
      for (const item of ['a', 'b', 'c', 'd']) await q.put(item);
      const leaving = await RawClient.open(manager.address);
      const { id } = await createOver(leaving, 'get_queue');
      // Redis holds every command that may write: the three gets are sent (one run) and wait there...
      await plain.client('PAUSE', 60_000, 'WRITE');
      for (let i = 0; i < 3; i++) leaving.send('object/call', { id, method: 'get', args: [block] });
      await eventually('the gets reached Redis and wait there', async () => /blocked_clients:(\d+)/.exec(await plain.info('clients'))?.[1], (n) => Number(n) >= 1);
      // ...while their client leaves: their answers cannot reach it, so their items go back.
      const sessions = manager.connectedSessions.size;
      leaving.close();
      await until('the manager saw the client leave', () => manager.connectedSessions.size < sessions);
      await plain.client('UNPAUSE');
      await eventually('the three items came back', () => q.qsize(), (n) => n === 4);
      assert.deepEqual([await q.getNowait(), await q.getNowait(), await q.getNowait(), await q.getNowait()], order);
      await client.close();
    } finally {
      plain.disconnect();
      await own.stop();
    }
  });
}
