/**
 * The same manager over a Unix domain socket and over IPv6 loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { connect, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { testFolder } from '../helpers/tempFolder';

test('a Unix domain socket path serves clients like TCP', async (t) => {
  const path = join(testFolder(t, 'socket'), 'manager.sock');
  await using manager = new Manager({ address: path, authkey: 'k' });
  await manager.listen();
  assert.equal(manager.address, path);
  await using client = await connect({ address: path, authkey: 'k' });
  const q = await client.create<QueueProxy<string>>('Queue');
  await q.put('over a socket file');
  assert.equal(await q.get(), 'over a socket file');
});

test('a stale socket file left by a dead manager is replaced; a live one or a regular file is not', async (t) => {
  const dir = testFolder(t, 'socket');
  const path = join(dir, 'manager.sock');
  const first = new Manager({ address: path, authkey: 'k' });
  await first.listen();
  const second = new Manager({ address: path, authkey: 'k' });
  await assert.rejects(second.listen(), /another manager is listening there/);
  await first.shutdown();
  // A manager killed with SIGKILL leaves its socket file behind.
  const stale = join(dir, 'stale.sock');
  const crashed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(crashed.signal, 'SIGKILL');
  assert.ok(statSync(stale).isSocket());
  await using third = new Manager({ address: stale, authkey: 'k' });
  await third.listen();
  await using client = await connect({ address: stale, authkey: 'k' });
  assert.ok(client.sessionId);
  const regular = join(dir, 'notes.txt');
  writeFileSync(regular, 'keep me');
  await assert.rejects(new Manager({ address: regular, authkey: 'k' }).listen(), /a file that is not a socket is there \(not removed\)/);
  assert.equal(readFileSync(regular, 'utf8'), 'keep me');
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.internal));

test('IPv6 loopback [::1]:port serves clients', { skip: !hasIpv6Loopback && 'no IPv6 loopback on this machine' }, async () => {
  await using manager = new Manager({ address: '[::1]:0', authkey: 'k' });
  await manager.listen();
  assert.match(manager.address, /^\[::1\]:\d+$/);
  await using client = await connect({ address: manager.address, authkey: 'k' });
  assert.ok(client.sessionId);
});
