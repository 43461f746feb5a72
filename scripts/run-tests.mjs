#!/usr/bin/env node
// Runs every test file under test/ with node's test runner, TypeScript loaded by tsx.
// Node 20's `--test` takes no globs, so the files are listed here. Pass paths or substrings to run a subset:
//   npm test -- queue        (files whose path contains "queue")
// The tests under test/vscode run the extension in a real VS Code: before them, scripts/vscode-test/setup.sh installs
// it the first time (and does nothing once it is in place), so `npm install` then `npm test` is the whole set-up.
// SYNCMANAGER_SKIP_VSCODE=1 skips those tests knowingly, and the install with them. Likewise the tests under
// test/redis start Debian's redis-server: scripts/redis-test/setup.sh installs it the first time.
// After the usual reporter's output, the failed tests are listed again, last (scripts/failed-tests-reporter.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (/\.test\.(ts|mjs|js)$/.test(name)) out.push(path);
  }
  return out;
}

const files = collect(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  // SYNCMANAGER_SKIP_REDIS=1 leaves out the Redis store's test files, and says so.
  .filter((f) => !(process.env.SYNCMANAGER_SKIP_REDIS === '1' && f.startsWith('test/redis/')))
  .sort();
if (process.env.SYNCMANAGER_SKIP_REDIS === '1') console.error('npm test: SYNCMANAGER_SKIP_REDIS=1: the tests under test/redis are left out');
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
/** Runs a first-use install before the tests under `folder`; a failed install ends the run, naming how to skip them. */
function installFor(folder, script, what, skipVariable) {
  if (!files.some((f) => f.startsWith(folder)) || process.env[skipVariable] === '1') return;
  const setup = spawnSync('bash', [join(root, 'scripts', script)], { cwd: root, stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error(`npm test: installing ${what} for the tests under ${folder} failed (above); ${skipVariable}=1 skips those tests`);
    process.exit(setup.status ?? 1);
  }
}
installFor('test/vscode/', 'vscode-test/setup.sh', 'VS Code', 'SYNCMANAGER_SKIP_VSCODE');
installFor('test/redis/', 'redis-test/setup.sh', 'redis-server', 'SYNCMANAGER_SKIP_REDIS');
// The usual reporter (spec on a terminal, TAP otherwise, as node picks), then the list of failures, unless
// the caller chose reporters.
const reporters = passthrough.some((a) => a.startsWith('--test-reporter'))
  ? []
  : [
      `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts', 'failed-tests-reporter.mjs')}`,
      '--test-reporter-destination=stderr',
    ];
// --test-force-exit: a test file's process ends once its tests have, even if a failed test left a
// handle open (a client still reconnecting to a Redis that is gone): one failure must not hang the run.
const failuresDir = mkdtempSync(join(tmpdir(), 'syncmanager-failed-tests-'));
const failuresFile = join(failuresDir, 'failed.txt');
const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', ...reporters, ...passthrough, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SYNCMANAGER_FAILED_TESTS: failuresFile },
});
// Stopped (Ctrl-C, which reaches the runner too, or a SIGTERM): the runner is told, and this script waits for
// it to end, so that the failures file is still removed and the exit code is still the runner's.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));
const status = await new Promise((resolve) => runner.on('close', resolve));
let failures = '';
try {
  failures = readFileSync(failuresFile, 'utf8');
} catch {
  // No test failed.
}
rmSync(failuresDir, { recursive: true, force: true });
if (failures) {
  const count = failures.split('\n# ✖ ').length - 1;
  console.log(`\n# ${count} failed test${count === 1 ? '' : 's'} (the output above has each one in full):\n${failures}`);
}
process.exit(status ?? 1);
