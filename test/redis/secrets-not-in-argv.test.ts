/**
 * No secret on a command line: every user of the machine reads any process's argv (`ps`,
 * /proc/PID/cmdline). The manager processes this package starts (the VS Code extension's
 * `syncmanager serve`, and start()'s child) get the authkey and the store's password some other way;
 * each test reads the real child's command line and checks the store was still reached with them.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startServerProcess } from '../../src/extension/serverProcess';
import { startChildManager } from '../../src/server/childProcess';
import { STORE_CREDENTIALS_IN_ARGV_WARNING } from '../../src/server/secretsInArgv';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redisServer';
import { buildCli, serveProcess, stopServer } from '../helpers/serverProcess';

const skip = redisMissing();
const AUTHKEY = 'authkey-4e1f0c';
const PASSWORD = 'redis-password-9b27d3';

before(() => {
  if (!skip) buildCli();
});

/** A redis-server that requires PASSWORD, and the store URL that carries it. */
async function redisWithPassword(t: { after(fn: () => Promise<void>): void }): Promise<{ redis: RedisServer; store: string }> {
  const redis = await startRedis({ extra: ['--requirepass', PASSWORD] });
  t.after(() => redis.stop());
  return { redis, store: `redis://:${PASSWORD}@127.0.0.1:${redis.port}/0` };
}

/** The command line of a running process, one argument each. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function assertNoSecret(pid: number): void {
  const argv = commandLine(pid);
  assert.ok(argv.length > 0, `read the command line of ${pid}`);
  for (const secret of [AUTHKEY, PASSWORD]) assert.ok(!argv.some((a) => a.includes(secret)), `${JSON.stringify(secret)} is not in ${JSON.stringify(argv)}`);
}

/** The managers that joined `prefix` on the store: proof the manager reached Redis with the password. */
async function managersOn(store: string, prefix: string): Promise<string[]> {
  const plain = new Redis(store);
  try {
    return await plain.smembers(`${prefix}:managers`);
  } finally {
    plain.disconnect();
  }
}

test("the extension's manager process has neither the authkey nor the store's password in its command line", { skip, timeout: 60_000 }, async (t) => {
  const { store } = await redisWithPassword(t);
  const server = await startServerProcess({ address: '127.0.0.1:0', authkey: AUTHKEY, register: [], store, storePrefix: 'argv-extension', log: () => {} });
  t.after(() => server.stop());
  assertNoSecret(server.pid);
  assert.equal((await managersOn(store, 'argv-extension')).length, 1);
});

test("start()'s child process has neither the authkey nor the store's password in its command line", { skip, timeout: 60_000 }, async (t) => {
  const { store } = await redisWithPassword(t);
  const child = await startChildManager({
    address: '127.0.0.1:0',
    authkey: Buffer.from(AUTHKEY),
    shared: [],
    builtins: true,
    inspection: true,
    allowRemoteShutdown: true,
    store,
    storePrefix: 'argv-start',
  });
  t.after(() => child.stop());
  assertNoSecret(child.pid);
  assert.equal((await managersOn(store, 'argv-start')).length, 1);
});

test('syncmanager serve takes the store from SYNCMANAGER_STORE, so its password stays off the command line', { skip, timeout: 60_000 }, async (t) => {
  const { store } = await redisWithPassword(t);
  const server = await serveProcess(['--address', '127.0.0.1:0', '--store-prefix', 'argv-cli'], { SYNCMANAGER_AUTHKEY: AUTHKEY, SYNCMANAGER_STORE: store });
  t.after(() => stopServer(server));
  assertNoSecret(server.child.pid!);
  assert.equal((await managersOn(store, 'argv-cli')).length, 1);
  assert.doesNotMatch(server.stderr(), /warning/);
});

test('--store wins over SYNCMANAGER_STORE, and a password in it is warned about', { skip, timeout: 60_000 }, async (t) => {
  const { store } = await redisWithPassword(t);
  const server = await serveProcess(['--address', '127.0.0.1:0', '--store', store, '--store-prefix', 'argv-flag'], { SYNCMANAGER_AUTHKEY: AUTHKEY, SYNCMANAGER_STORE: 'redis://127.0.0.1:1/0' });
  t.after(() => stopServer(server));
  assert.equal((await managersOn(store, 'argv-flag')).length, 1);
  assert.ok(server.stderr().includes(STORE_CREDENTIALS_IN_ARGV_WARNING), server.stderr());
});
