/**
 * Keys: an empty authkey lets anyone in, so it is refused where other machines can reach the
 * manager; a key on the command line shows in the process list, so `--authkey` warns and points
 * to SYNCMANAGER_AUTHKEY and --authkey-file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manager } from '../../src/server';
import { buildDist, root, start } from '../python/helpers';
import { testFolder } from '../helpers/tempFolder';

const cli = join(root, 'dist', 'cli.js');

test('a manager refuses an empty authkey on an address other machines can reach, and allows it on loopback', async () => {
  await assert.rejects(new Manager({ address: '0.0.0.0:0', authkey: '' }).listen(), /0\.0\.0\.0:0 with an empty authkey/);
  const local = new Manager({ address: '127.0.0.1:0', authkey: '' });
  await local.listen();
  await local.shutdown();
});

test('syncmanager serve refuses --authkey "" and an empty --authkey-file on 0.0.0.0', (t) => {
  buildDist();
  const empty = join(testFolder(t, 'key'), 'key');
  writeFileSync(empty, '\n');
  for (const keyArgs of [['--authkey', ''], ['--authkey-file', empty]]) {
    const run = spawnSync(process.execPath, [cli, 'serve', '--address', '0.0.0.0:0', ...keyArgs, '--no-config'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, SYNCMANAGER_AUTHKEY: '' } });
    assert.notEqual(run.status, 0, `${keyArgs.join(' ')} was accepted:\n${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /empty authkey/);
  }
});

test('syncmanager serve --authkey warns that the key shows in the process list, naming the alternatives', async () => {
  buildDist();
  const served = start(process.execPath, [cli, 'serve', '--address', '127.0.0.1:0', '--authkey', 'visible', '--no-config', '--json'], { env: { ...process.env, SYNCMANAGER_AUTHKEY: '' } });
  try {
    await served.waitForLine(/^\{.*\}$/);
    assert.match(served.stderr(), /--authkey.*process list.*SYNCMANAGER_AUTHKEY.*--authkey-file/s);
  } finally {
    served.kill('SIGKILL');
    await served.finished();
  }
});
