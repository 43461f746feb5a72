/**
 * The extension's store URL merged with a password from VS Code's secret storage (mergeStorePassword), given to the
 * extension's real manager process and a real redis-server that requires the password: Redis takes it (even one
 * with `@`, `:`, `/` and `%` in it), it is on no command line, and Redis's refusals (a wrong password, none) come back
 * in words storeAuthRefusal tells apart and that never quote the password. The VS Code side (the commands, the
 * secret storage) is test/vscode/suite/group.suite.js's.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { mergeStorePassword, storeAuthRefusal } from '../../src/extension/model/storeCredentials';
import { startServerProcess } from '../../src/extension/serverProcess';
import { redisMissing, startRedis } from '../helpers/redisServer';
import { buildCli } from '../helpers/serverProcess';

const skip = redisMissing();
const PASSWORD = 'p@ss:w/rd%41-7c2e';

before(() => {
  if (!skip) buildCli();
});

async function securedRedis(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const redis = await startRedis({ extra: ['--requirepass', PASSWORD] });
  t.after(() => redis.stop());
  return `redis://127.0.0.1:${redis.port}/0`;
}

/** Starts the extension's manager process on `store`; resolves with what it logged, and its error if it did not start. */
async function start(t: { after(fn: () => Promise<void>): void }, store: string, prefix: string) {
  const log: string[] = [];
  try {
    const server = await startServerProcess({ address: '127.0.0.1:0', authkey: 'authkey-3d', register: [], store, storePrefix: prefix, log: (line) => log.push(line) });
    t.after(() => server.stop());
    return { server, log };
  } catch (error) {
    return { error: error as Error, log };
  }
}

test("a setting without a password, merged with the stored one, reaches a Redis that requires it, and the password is on no command line", { skip, timeout: 60_000 }, async (t) => {
  const setting = await securedRedis(t);
  const merged = mergeStorePassword(setting, PASSWORD);
  const { server, error } = await start(t, merged, 'merged');
  assert.ifError(error);
  const argv = readFileSync(`/proc/${server!.pid}/cmdline`, 'utf8').split('\0');
  assert.ok(argv.includes('serve'), argv.join(' '));
  assert.ok(!argv.some((a) => a.includes(PASSWORD) || a.includes(encodeURIComponent(PASSWORD))), argv.join(' '));
  const plain = new Redis(merged);
  try {
    assert.equal((await plain.smembers('merged:managers')).length, 1, 'the manager joined the group on that Redis');
  } finally {
    plain.disconnect();
  }
});

test("Redis's refusal of a wrong password, or of none, is told apart, and neither the error nor the log quotes the password", { skip, timeout: 60_000 }, async (t) => {
  const setting = await securedRedis(t);
  const wrong = 'wrong-password-5e';
  const refused = await start(t, mergeStorePassword(setting, wrong), 'wrong');
  assert.ok(refused.error, 'the manager did not start');
  assert.equal(storeAuthRefusal(refused.error.message), 'wrong', refused.error.message);
  for (const text of [refused.error.message, ...refused.log]) assert.ok(!text.includes(wrong), text);
  const none = await start(t, setting, 'none');
  assert.ok(none.error, 'the manager did not start');
  assert.equal(storeAuthRefusal(none.error.message), 'none given', none.error.message);
});
