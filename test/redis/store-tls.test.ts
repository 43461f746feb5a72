/**
 * A Redis store over TLS (`rediss://HOST:PORT/DB`), against a real redis-server serving TLS only:
 * its certificate is verified (a private CA given with `storeTls.ca` / `--store-tls-ca`; the wrong
 * CA refuses the start, naming the store), a Redis requiring client certificates
 * (`tls-auth-clients yes`) takes the manager's (`--store-tls-cert`/`--store-tls-key`), two managers
 * share objects through it, and TLS settings without a `rediss://` store are refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { makeCertificates, type TestCertificates } from '../faults/certificates';
import { fileFolder } from '../helpers/tempFolder';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redisServer';
import { buildCli, serveProcess, spawnServe, stopServer } from '../helpers/serverProcess';

const skip = redisMissing();
let certs: TestCertificates;
/** Serves TLS only; clients need no certificate. */
let redis: RedisServer;
/** Serves TLS only and requires a client certificate signed by the CA. */
let strict: RedisServer;
let prefixes = 0;
const prefix = () => `tls${process.pid}-${prefixes++}`;

const certsFolder = fileFolder('tls');

before(async () => {
  if (skip) return;
  certs = makeCertificates(certsFolder);
  const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile };
  redis = await startRedis({ tls: { ...tls, authClients: false } });
  strict = await startRedis({ tls: { ...tls, authClients: true } });
  buildCli();
});
after(async () => {
  await redis?.stop();
  await strict?.stop();
});

type Queues = { get_task_queue: QueueProxy<unknown> };

/** Puts `item` into the manager's get_task_queue and gets it back, through a client of its own. */
async function roundTrip(address: string, item: unknown): Promise<void> {
  const client = await connect<Queues>({ address, authkey: AUTHKEY });
  try {
    const q = await client.get_task_queue();
    await q.put(item);
    assert.deepEqual(await q.get(), item);
  } finally {
    await client.close();
  }
}

test('two managers on a rediss:// store with a private CA share a queue through TLS', { skip, timeout: 30_000 }, async () => {
  const storePrefix = prefix();
  const options = { store: redis.url, storePrefix, storeTls: { ca: certs.pem(certs.caFile) } };
  assert.match(redis.url, /^rediss:\/\//);
  await using a = await startManager(options, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  await using b = await startManager({ ...options, storeTls: { ca: Buffer.from(certs.pem(certs.caFile)) } }, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const ca = await connect<Queues>({ address: a.address, authkey: AUTHKEY });
  const cb = await connect<Queues>({ address: b.address, authkey: AUTHKEY });
  try {
    const getter = (await cb.get_task_queue()).get({ timeout: 10 });
    await (await ca.get_task_queue()).put({ through: 'tls' });
    assert.deepEqual(await getter, { through: 'tls' });
  } finally {
    await ca.close();
    await cb.close();
  }
});

test("a rediss:// store whose certificate the given CA did not sign is refused at start, naming the store; so is one Node's CAs do not trust", { skip, timeout: 30_000 }, async () => {
  for (const storeTls of [{ ca: certs.pem(certs.wrongCaFile) }, undefined]) {
    const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: redis.url, storePrefix: prefix(), storeTls });
    await assert.rejects(manager.listen(), (error: Error) => {
      assert.match(error.message, new RegExp(`cannot reach the Redis store at rediss://127\\.0\\.0\\.1:${redis.port}/0`));
      assert.match(error.message, /certificate/i);
      return true;
    });
    await manager.shutdown();
  }
});

test('a plain redis:// store on a TLS-only Redis is refused at start, naming the store', { skip, timeout: 30_000 }, async () => {
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: redis.url.replace('rediss:', 'redis:'), storePrefix: prefix() });
  await assert.rejects(manager.listen(), new RegExp(`cannot reach the Redis store at redis://127\\.0\\.0\\.1:${redis.port}/0`));
  await manager.shutdown();
});

test('a Redis requiring client certificates takes the manager\'s, and refuses a manager without one', { skip, timeout: 30_000 }, async () => {
  const ca = certs.pem(certs.caFile);
  const without = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: strict.url, storePrefix: prefix(), storeTls: { ca } });
  await assert.rejects(without.listen(), /cannot reach the Redis store at rediss:/);
  await without.shutdown();
  const storeTls = { ca, cert: certs.pem(certs.clientCertFile), key: certs.pem(certs.clientKeyFile) };
  await using manager = await startManager({ store: strict.url, storePrefix: prefix(), storeTls }, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  await roundTrip(manager.address, 7);
});

test('a manager started in a child process (start()) gets the store\'s TLS settings', { skip, timeout: 30_000 }, async () => {
  const storeTls = { ca: Buffer.from(certs.pem(certs.caFile)), cert: certs.pem(certs.clientCertFile), key: Buffer.from(certs.pem(certs.clientKeyFile)) };
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: strict.url, storePrefix: prefix(), storeTls });
  manager.register('get_task_queue', { shared: 'Queue' });
  try {
    await roundTrip(await manager.start(), 'child');
  } finally {
    await manager.shutdown();
  }
});

test('a manager started in a child process takes the same store TLS settings as one in this process: a setting given as undefined is not given', { skip, timeout: 30_000 }, async () => {
  const storeTls = { ca: certs.pem(certs.caFile), cert: undefined, key: undefined };
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store: redis.url, storePrefix: prefix(), storeTls });
  manager.register('get_task_queue', { shared: 'Queue' });
  try {
    await roundTrip(await manager.start(), 'undefined left out');
  } finally {
    await manager.shutdown();
  }
});

test('syncmanager serve --store rediss://… with --store-tls-ca, --store-tls-cert and --store-tls-key serves from the TLS Redis', { skip, timeout: 30_000 }, async () => {
  const server = await serveProcess(
    ['--address', '127.0.0.1:0', '--store', strict.url, '--store-prefix', prefix(), '--store-tls-ca', certs.caFile, '--store-tls-cert', certs.clientCertFile, '--store-tls-key', certs.clientKeyFile, '--register', 'get_task_queue=Queue'],
    { SYNCMANAGER_AUTHKEY: AUTHKEY },
  );
  try {
    await roundTrip(server.address, 'cli');
  } finally {
    assert.equal(await stopServer(server), 0);
  }
});

test('the store\'s TLS flags are refused without a rediss:// store, with a certificate but no key, and with a file that cannot be read', { skip, timeout: 30_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['--store-tls-ca', certs.caFile], /are for a rediss:\/\/HOST:PORT\/DB store/],
    [['--store', redis.url.replace('rediss:', 'redis:'), '--store-tls-ca', certs.caFile], /are for a rediss:\/\/HOST:PORT\/DB store/],
    [['--store', strict.url, '--store-tls-cert', certs.clientCertFile], /needs both --store-tls-cert and --store-tls-key/],
    [['--store', strict.url, '--store-tls-ca', `${certs.dir}/missing.pem`], /--store-tls-ca .*missing\.pem: ENOENT/],
  ];
  for (const [args, expected] of cases) {
    const run = await spawnServe(['--address', '127.0.0.1:0', '--no-config', ...args], { env: { SYNCMANAGER_AUTHKEY: AUTHKEY }, ready: /serving on/ }).then(
      () => assert.fail(`serve ${args.join(' ')} started`),
      (error: Error) => error,
    );
    assert.match(run.message, expected, args.join(' '));
  }
});
