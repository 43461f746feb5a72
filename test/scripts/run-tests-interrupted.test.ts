/**
 * `npm test` (scripts/run-tests.mjs) stopped with Ctrl-C, which reaches its whole process group:
 * it still ends with a failing exit code and leaves nothing behind in the temporary folder (the
 * file its failures reporter writes). Run on a copy of the scripts with a test folder of its own,
 * whose one file has a failed test and one still running when Ctrl-C comes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testFolder } from '../helpers/tempFolder';

const root = join(__dirname, '..', '..');

test('npm test stopped with Ctrl-C exits non-zero and leaves no failures file behind', { skip: process.platform === 'win32', timeout: 60_000 }, async (t) => {
  const dir = testFolder(t, 'run-tests');
  const temp = join(dir, 'tmp');
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'test'));
  mkdirSync(temp);
  for (const name of ['run-tests.mjs', 'failed-tests-reporter.mjs']) copyFileSync(join(root, 'scripts', name), join(dir, 'scripts', name));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(
    join(dir, 'test', 'interrupted.test.mjs'),
    `import { test } from 'node:test';
test('fails', () => { throw new Error('a failure'); });
test('still running', () => new Promise((resolve) => { console.log('STILL-RUNNING'); setTimeout(resolve, 50_000); }));
`,
  );
  // Not as a test inside this one: node's test runner marks its children with NODE_TEST_CONTEXT.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawn(process.execPath, [join(dir, 'scripts', 'run-tests.mjs')], { cwd: dir, detached: true, env: { ...env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('STILL-RUNNING')) resolve();
    };
    run.stdout!.on('data', seen);
    run.stderr!.on('data', seen);
    void exited.then(() => reject(new Error(`the run ended before its second test started:\n${output}`)));
  });
  // Ctrl-C in a terminal: SIGINT to the whole process group.
  process.kill(-run.pid!, 'SIGINT');
  const code = await exited;
  assert.notEqual(code, 0, output);
  assert.deepEqual(readdirSync(temp), [], 'the failures file and its folder are removed');
});
