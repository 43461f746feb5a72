/**
 * Manager leases in a Redis store (src/server/store/redisLeases.ts): every manager on a prefix
 * keeps a lease; a manager SIGKILLed stops renewing it and a survivor removes it from the group;
 * a manager that finds its own lease gone ends its sessions; the lease option is checked.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Manager } from '../../src/server';
import { startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { eventually, until } from '../helpers/until';
import { connect } from '../../src/client';
import { AUTHKEY } from '../helpers/manager';

const redis = redisForTests('lease');
const { skip } = redis;

before(() => {
  if (!skip) buildCli();
});

test('a manager SIGKILLed stops renewing its lease, and a survivor removes it from the group', { skip, timeout: 60_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  const a = await serveProcess(['--address', '127.0.0.1:0', '--store', redis.url, '--store-prefix', prefix, '--store-lease', '0.5'], { SYNCMANAGER_AUTHKEY: AUTHKEY });
  try {
    await using b = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 500 });
    const both = await plain.smembers(`${prefix}:managers`);
    assert.equal(both.length, 2, 'each manager is in the group');
    for (const id of both) assert.ok((await plain.pttl(`${prefix}:m:${id}`)) > 0, `manager ${id} has a lease that runs out unless renewed`);
    await killServer(a);
    const left = await eventually('the dead manager removed from the group', () => plain.smembers(`${prefix}:managers`), (ids) => ids.length === 1);
    assert.ok(both.includes(left[0]!));
    assert.ok(b.address);
  } finally {
    await killServer(a);
    plain.disconnect();
  }
});

test('a manager that finds its lease gone (cut off longer than the lease) ends its sessions, and serves new ones', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  try {
    await using m = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 300 });
    const client = await connect({ address: m.address, authkey: AUTHKEY, reconnect: false });
    await until('the client seen by the manager', () => [...m.connectedSessions].length === 1);
    const [id] = await plain.smembers(`${prefix}:managers`);
    // As if the manager had been cut off from Redis for longer than its lease: the lease is gone.
    await plain.del(`${prefix}:m:${id}`);
    await until('the session ended', () => [...m.connectedSessions].length === 0, 10_000);
    await client.close().catch(() => {});
    assert.ok((await plain.pttl(`${prefix}:m:${id}`)) > 0, 'the manager took a fresh lease');
    const again = await connect({ address: m.address, authkey: AUTHKEY, reconnect: false });
    await again.close();
  } finally {
    plain.disconnect();
  }
});

test('a manager taken out of the group while its lease had lapsed is back in it with its next renewal', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  try {
    await using _manager = await startManager({ store: redis.url, storePrefix: prefix, storeLeaseMs: 300 });
    const [id] = await plain.smembers(`${prefix}:managers`);
    await plain.del(`${prefix}:m:${id}`);
    await eventually('a fresh lease', () => plain.pttl(`${prefix}:m:${id}`), (ttl) => ttl > 0);
    // What a survivor reaping the lapsed lease does last, had it finished only now.
    await plain.srem(`${prefix}:managers`, id!);
    await eventually('the manager back in the group', () => plain.smembers(`${prefix}:managers`), (ids) => ids.includes(id!));
  } finally {
    plain.disconnect();
  }
});

test('a manager stopped in order leaves the group at once', { skip, timeout: 30_000 }, async () => {
  const prefix = redis.prefix();
  const plain = new Redis(redis.url);
  try {
    const m = await startManager({ store: redis.url, storePrefix: prefix });
    assert.equal((await plain.smembers(`${prefix}:managers`)).length, 1);
    await m.shutdown();
    assert.deepEqual(await plain.smembers(`${prefix}:managers`), []);
    assert.deepEqual(await plain.keys(`${prefix}:m:*`), []);
  } finally {
    plain.disconnect();
  }
});

test('the lease option is checked: too short, or without a Redis store', { skip, timeout: 10_000 }, async () => {
  assert.throws(() => new Manager({ store: redis.url, storeLeaseMs: 100 }), /store lease .* at least 300; got 100/);
  assert.throws(() => new Manager({ storeLeaseMs: 1000 }), /a store lease is for a Redis store/);
});

test('serve --store-lease: too short a lease is a usage error naming the shortest', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../src/server/cli.ts'), 'serve', '--address', '127.0.0.1:0', '--no-config', '--store', 'redis://127.0.0.1:1/0', '--store-lease', '0.1'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /store lease must be a whole number of milliseconds, at least 300; got 100/);
});
