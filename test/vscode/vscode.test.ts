/**
 * The extension inside a real VS Code: test/vscode/runTests.js runs the extension-host suites (test/vscode/suite)
 * in the VS Code server + web workbench that scripts/vscode-test/setup.sh installs, and exits with their result.
 * Checked here, on the real extension (the repository root, built first):
 *   - the smoke and integration suites pass against the development folder;
 *   - a failing extension-host test makes the run exit non-zero (so this cannot pass vacuously);
 *   - scripts/package-vsix.mjs makes the linux-x64 .vsix, which installs into VS Code, activates, and starts a manager from the installed
 *     copy (test/vscode/suite/vsix).
 *
 * Set SYNCMANAGER_SKIP_VSCODE=1 to skip these knowingly; otherwise a missing install is a failure.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from './build';
import { testFolder } from '../helpers/tempFolder';
import { zipEntries, zipText } from '../helpers/zip';

const root = join(__dirname, '..', '..');
const runTests = join(__dirname, 'runTests.js');
const extensionPath = process.env.SYNCMANAGER_EXTENSION_PATH ?? root;
const failingSuite = join(__dirname, 'fixtures', 'failing-suite', 'index.js');
const vsixSuite = join(__dirname, 'suite', 'vsix', 'index.js');

const RUN_TIMEOUT_MS = 200_000; // one VS Code run takes 10 to 20 s here; this bounds a hang
const TEST_TIMEOUT_MS = 240_000;
const skip = process.env.SYNCMANAGER_SKIP_VSCODE === '1' ? 'SYNCMANAGER_SKIP_VSCODE=1' : false;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  seconds: number;
}

before(async () => {
  if (!skip) await ensureBuilt();
});

/** Runs runTests.js with `env` in its own process group; kills the group if it outlives RUN_TIMEOUT_MS. */
function runVSCode(env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SYNCMANAGER_EXTENSION_PATH: extensionPath, ...env };
  for (const name of ['SYNCMANAGER_VSCODE_VSIX', 'SYNCMANAGER_VSCODE_TESTS_PATH', 'SYNCMANAGER_SKIP_VSCODE']) {
    if (!(name in env)) delete childEnv[name];
  }
  const child = spawn(process.execPath, [runTests], { cwd: root, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal); // runTests.js and the shim; the shim stops the VS Code server and Chromium
    } catch {
      /* already gone */
    }
  };
  const timers = [
    setTimeout(() => {
      output += `\n[vscode.test.ts] no result after ${RUN_TIMEOUT_MS} ms: SIGTERM\n`;
      kill('SIGTERM');
    }, RUN_TIMEOUT_MS),
    setTimeout(() => kill('SIGKILL'), RUN_TIMEOUT_MS + 20_000),
  ];
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      resolve({ code, signal, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function report(run: Run): string {
  return `runTests.js exited with ${run.code ?? run.signal} after ${run.seconds.toFixed(1)} s; its output:\n${run.output}`;
}

test('the extension passes its smoke and integration suites inside VS Code', { skip, timeout: TEST_TIMEOUT_MS }, async (t) => {
  const run = await runVSCode({});
  assert.equal(run.code, 0, report(run));
  assert.match(run.output, /vscode suite: [1-9]\d* passed, 0 failed \(debug\.suite\.js, extension\.suite\.js, firstRun\.suite\.js, group\.suite\.js, smoke\.suite\.js\)/, report(run));
  t.diagnostic(`development folder: ${/vscode suite: .*/.exec(run.output)![0]} in ${run.seconds.toFixed(1)} s`);
});

test('a failing extension-host test fails the run', { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const run = await runVSCode({ SYNCMANAGER_VSCODE_TESTS_PATH: failingSuite });
  assert.notEqual(run.code, 0, report(run));
  // It failed for the planted reason, after the real smoke suite ran, not because something was missing.
  assert.match(run.output, /vscode suite: [1-9]\d* passed, 1 failed/, report(run));
  assert.match(run.output, /this failure is expected/, report(run));
});

test('the linux-x64 .vsix installs into VS Code, activates, and its manager compiles a TypeScript config module', { skip, timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = testFolder(t, 'vsix');
  const vsix = join(dir, 'syncmanager.vsix');
  // The linux-x64 .vsix, as `npm run package -- --target linux-x64` makes it (this machine is linux-x64).
  const pack = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--target', 'linux-x64', '--out', vsix], {
    cwd: extensionPath,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(pack.status, 0, `scripts/package-vsix.mjs failed:\n${pack.stdout}\n${pack.stderr}`);
  assert.match(zipText(vsix, 'extension.vsixmanifest'), /TargetPlatform="linux-x64"/);

  // What the staging lets in: the bundles, the manifest, media, and esbuild for config modules; no sources.
  const files = zipEntries(vsix).filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
  for (const f of ['package.json', 'dist/extension.js', 'dist/cli.js', 'dist/client.js', 'media/icon.png', 'node_modules/esbuild/lib/main.js']) {
    assert.ok(files.includes(f), `${f} is missing from the .vsix:\n${files.join('\n')}`);
  }
  assert.deepEqual(files.filter((f) => f.startsWith('node_modules/@esbuild/')).sort(), ['node_modules/@esbuild/linux-x64/bin/esbuild', 'node_modules/@esbuild/linux-x64/package.json'], 'the linux-x64 esbuild binary, and no other');
  const unwanted = files.filter((f) => /^(src|test|scripts|bench|\.cache|\.git|dist\/types)\/|\.map$|\.vsix$/.test(f) || (f.startsWith('node_modules/') && !/^node_modules\/(@esbuild|esbuild)\//.test(f)));
  assert.deepEqual(unwanted, [], 'the .vsix holds files it should not');

  const run = await runVSCode({ SYNCMANAGER_VSCODE_VSIX: vsix, SYNCMANAGER_VSCODE_TESTS_PATH: vsixSuite });
  assert.equal(run.code, 0, report(run));
  // The suites ran against the installed copy, not the development folder.
  assert.match(run.output, /extension \S+ at \S*\/extensions\/syncmanager\.syncmanager-/, report(run));
  assert.match(run.output, /vscode suite: [1-9]\d* passed, 0 failed \(smoke\.suite\.js, installed\.suite\.js\)/, report(run));
  t.diagnostic(`.vsix: ${files.length} files; ${/vscode suite: .*/.exec(run.output)![0]} in ${run.seconds.toFixed(1)} s`);
});
