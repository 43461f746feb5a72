#!/usr/bin/env node
// Runs every test file under test/ with node's test runner, TypeScript loaded by tsx.
// Node 20's `--test` takes no globs, so the files are listed here. Pass paths or substrings to run a subset:
//   npm test -- queue        (files whose path contains "queue")
// The tests under test/vscode run the extension in a real VS Code: before them, scripts/vscode-test/setup.sh installs
// it the first time (and does nothing once it is in place), so `npm install` then `npm test` is the whole set-up.
// SYNCMANAGER_SKIP_VSCODE=1 skips those tests knowingly, and the install with them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
if (files.some((f) => f.startsWith('test/vscode/')) && process.env.SYNCMANAGER_SKIP_VSCODE !== '1') {
  const setup = spawnSync('bash', [join(root, 'scripts', 'vscode-test', 'setup.sh')], { cwd: root, stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error('npm test: installing VS Code for the tests under test/vscode failed (above); SYNCMANAGER_SKIP_VSCODE=1 skips those tests');
    process.exit(setup.status ?? 1);
  }
}
// --test-force-exit: a test file's process ends once its tests have, even if a failed test left a
// handle open (a client still reconnecting to a Redis that is gone): one failure must not hang the run.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', ...passthrough, ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
