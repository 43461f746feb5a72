import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { redisMissing, startRedis } from '../helpers/redisServer';

const skip = redisMissing();

test('a Redis restart that fails after kill() still removes the helper\'s folder', { skip, timeout: 30_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  await redis.kill();
  // Another listener takes the port, so the restart (one attempt, on that port) cannot start.
  const squatter = createServer();
  await new Promise<void>((resolve, reject) => squatter.listen(redis.port, '127.0.0.1', resolve).once('error', reject));
  t.after(() => new Promise((resolve) => squatter.close(resolve)));
  await assert.rejects(redis.restart(), /did not start/);
  assert.equal(existsSync(redis.dir), false, `${redis.dir} is left behind`);
});
