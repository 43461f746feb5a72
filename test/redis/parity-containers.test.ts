/**
 * The CPython-parity containers suite, unchanged, against a manager whose queues live in Redis (a real
 * redis-server on a free port): startManager reads SYNCMANAGER_TEST_STORE, set here before the
 * first test runs.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redisServer';
import '../e2e/cpython-parity/containers.test';

let redis: RedisServer | undefined;
before(async () => {
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  redis = await startRedis();
  process.env.SYNCMANAGER_TEST_STORE = redis.url;
});
after(async () => {
  if (!redis) return;
  try {
    // The suite ran against Redis: the queues' scripts ran there.
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    const stats = await raw.info('commandstats');
    raw.disconnect();
    const scripts = Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    assert.ok(scripts > 10, `the store's scripts ran in Redis (${scripts} script calls)`);
  } finally {
    await redis.stop();
  }
});
