/**
 * The store password's rules, without VS Code (src/extension/model/storeCredentials.ts): which secret holds a store's
 * password, a URL with and without its password, the setting merged with a stored password, text cleared of it, and
 * Redis's refusals told apart. test/redis/store-password.test.ts gives the merged URL to a real Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hidePassword,
  passwordHidingLines,
  mergeStorePassword,
  passwordOf,
  storeAuthRefusal,
  storeSecretName,
  storeServerShown,
  withoutPassword,
  withPassword,
} from '../../src/extension/model/storeCredentials';

test('a store password is named by scheme, user, host and port: the same for every database and with or without the password', () => {
  const name = storeSecretName('redis://127.0.0.1:6379/0');
  assert.equal(name, 'syncmanager.storePassword:redis://127.0.0.1:6379');
  assert.equal(storeSecretName('redis://:pw@127.0.0.1:6379/3'), name);
  assert.equal(storeSecretName('redis://127.0.0.1/0'), name, 'the default port');
  assert.equal(storeSecretName('redis://alice:pw@127.0.0.1:6379/0'), 'syncmanager.storePassword:redis://alice@127.0.0.1:6379');
  assert.notEqual(storeSecretName('rediss://127.0.0.1:6379/0'), name, 'a password given for TLS is not sent in the clear');
  assert.notEqual(storeSecretName('redis://127.0.0.2:6379/0'), name, 'nor to another host');
  assert.equal(storeSecretName('redis://[::1]:6380/0'), 'syncmanager.storePassword:redis://[::1]:6380');
  for (const none of ['', 'memory', 'http://h:1/0', 'not a url', undefined]) assert.equal(storeSecretName(none), undefined, String(none));
  assert.equal(storeServerShown('redis://alice:pw@127.0.0.1:6379/0'), 'redis://alice@127.0.0.1:6379');
});

test('a URL loses its password, keeping its user, host, port and database, and gets one back encoded', () => {
  assert.equal(withoutPassword('redis://:s3cret@127.0.0.1:6379/2'), 'redis://127.0.0.1:6379/2');
  assert.equal(withoutPassword('redis://alice:s3cret@redis.internal:6380/0'), 'redis://alice@redis.internal:6380/0');
  assert.equal(withoutPassword('rediss://127.0.0.1:6379/0'), 'rediss://127.0.0.1:6379/0', 'none to lose');
  assert.equal(passwordOf('redis://:s3cret@127.0.0.1:6379/0'), 's3cret');
  assert.equal(passwordOf('redis://alice@127.0.0.1:6379/0'), undefined);
  assert.equal(passwordOf('memory'), undefined);
  const odd = 'p@ss:w/rd%25 #?';
  const url = withPassword('redis://alice@127.0.0.1:6379/1', odd);
  assert.equal(passwordOf(url), odd, 'read back as typed');
  assert.equal(withoutPassword(url), 'redis://alice@127.0.0.1:6379/1');
  assert.throws(() => withPassword('memory', 'x'), /redis/);
});

test('the setting is merged with the stored password only when it carries none', () => {
  assert.equal(mergeStorePassword('redis://127.0.0.1:6379/0', 'stored'), 'redis://:stored@127.0.0.1:6379/0');
  assert.equal(mergeStorePassword('redis://alice@127.0.0.1:6379/0', 'stored'), 'redis://alice:stored@127.0.0.1:6379/0');
  assert.equal(mergeStorePassword('redis://:own@127.0.0.1:6379/0', 'stored'), 'redis://:own@127.0.0.1:6379/0', "the setting's own wins");
  assert.equal(mergeStorePassword('redis://127.0.0.1:6379/0', undefined), 'redis://127.0.0.1:6379/0');
  assert.equal(mergeStorePassword('memory', 'stored'), 'memory');
});

test('text is cleared of the password, as typed and as a URL carries it', () => {
  const password = 'p@ss word';
  const url = withPassword('redis://127.0.0.1:6379/0', password);
  const hidden = hidePassword(`cannot reach ${url}: AUTH ${password} refused`, password);
  assert.ok(!hidden.includes(password) && !hidden.includes(encodeURIComponent(password)), hidden);
  assert.equal(hidden, 'cannot reach redis://:***@127.0.0.1:6379/0: AUTH *** refused');
  assert.equal(hidePassword('nothing secret', undefined), 'nothing secret');
});

test('a child\'s output is cleared of the password line by line, even where a chunk ends inside it', () => {
  const password = 'correct horse';
  const url = withPassword('redis://127.0.0.1:6379/0', password);
  const output = `starting\ncannot reach ${url}: AUTH ${password} refused\r\nlast words`;
  // Every place a chunk can end, and the output in one-character chunks.
  const splits = [...Array.from({ length: output.length - 1 }, (_, at) => [output.slice(0, at + 1), output.slice(at + 1)]), [...output]];
  for (const chunks of splits) {
    const lines: string[] = [];
    const reader = passwordHidingLines(password, (line) => lines.push(line));
    for (const chunk of chunks) reader.push(chunk);
    reader.end();
    assert.deepEqual(lines, ['starting', 'cannot reach redis://:***@127.0.0.1:6379/0: AUTH *** refused', 'last words'], JSON.stringify(chunks));
  }
  const lines: string[] = [];
  const reader = passwordHidingLines(undefined, (line) => lines.push(line));
  reader.push('no pass');
  reader.push('word here\n\nnext\n');
  reader.end();
  assert.deepEqual(lines, ['no password here', 'next'], 'blank lines are left out, as the log always did');
});

test("Redis's refusals are told apart from other failures", () => {
  assert.equal(storeAuthRefusal('cannot reach the Redis store at redis://h:1/0: NOAUTH Authentication required.'), 'none given');
  assert.equal(storeAuthRefusal('WRONGPASS invalid username-password pair or user is disabled.'), 'wrong');
  assert.equal(storeAuthRefusal('ERR invalid password'), 'wrong', 'Redis before 6');
  assert.equal(storeAuthRefusal('cannot reach the Redis store at redis://h:1/0: connect ECONNREFUSED'), undefined);
});
