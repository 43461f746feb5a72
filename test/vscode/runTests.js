#!/usr/bin/env node
// Runs the extension-host test suite (test/vscode/suite) inside a real VS Code with @vscode/test-electron. VS Code
// cannot be downloaded on these machines, so the "VS Code executable" is scripts/vscode-test/vscode-shim.js: the
// VS Code server from code-server's npm package plus its web workbench in headless Chromium, installed into
// .cache/vscode-test by scripts/vscode-test/setup.sh.
//
// Environment:
//   SYNCMANAGER_EXTENSION_PATH     folder of the extension under test (default: the repository root)
//   SYNCMANAGER_VSCODE_TESTS_PATH  extensionTestsPath, a module exporting run() (default: test/vscode/suite/index.js)
//   SYNCMANAGER_VSCODE_WORKSPACE   folder whose copy is opened in the window (default: test/vscode/fixtures/workspace)
//   SYNCMANAGER_VSCODE_VSIX        test this .vsix, installed first, instead of the development folder
//   SYNCMANAGER_SKIP_VSCODE=1      skip the run (exit 0) with a message; nothing else skips it
// and those of scripts/vscode-test/vscode-shim.js (timeout, verbosity).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const shim = path.join(root, 'scripts', 'vscode-test', 'vscode-shim.js');

/** @param {string} message */
function fail(message) {
  console.error(`test/vscode/runTests.js: ${message}`);
  process.exit(1);
}

/** Checks the extension folder has a manifest whose `main` exists (VS Code would only log a failed activation). */
function checkExtension(folder) {
  const manifestPath = path.join(folder, 'package.json');
  if (!fs.existsSync(manifestPath)) fail(`${manifestPath} not found (SYNCMANAGER_EXTENSION_PATH=${folder})`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  if (!manifest.engines || !manifest.engines.vscode) fail(`${manifestPath} has no engines.vscode: not an extension`);
  if (manifest.main) {
    const main = path.resolve(folder, manifest.main);
    if (![main, `${main}.js`].some((f) => fs.existsSync(f))) {
      fail(`the extension's main ${manifest.main} does not exist in ${folder}${folder === root ? ': run npm run build' : ''}`);
    }
  }
  return manifest;
}

async function main() {
  if (process.env.SYNCMANAGER_SKIP_VSCODE === '1') {
    console.log('test/vscode/runTests.js: SKIPPED because SYNCMANAGER_SKIP_VSCODE=1 (the extension was NOT tested in VS Code)');
    return 0;
  }
  let install;
  try {
    install = require(path.join(root, 'scripts', 'vscode-test', 'lib.js')).locateInstall();
  } catch (error) {
    fail(`${error.message}\n  (or set SYNCMANAGER_SKIP_VSCODE=1 to skip the VS Code tests knowingly)`);
  }
  let runTests;
  try {
    ({ runTests } = require('@vscode/test-electron'));
    require.resolve('mocha');
  } catch {
    fail('@vscode/test-electron or mocha is missing: run npm install (both are devDependencies)');
  }

  const extensionDevelopmentPath = path.resolve(process.env.SYNCMANAGER_EXTENSION_PATH || root);
  const extensionTestsPath = path.resolve(process.env.SYNCMANAGER_VSCODE_TESTS_PATH || path.join(__dirname, 'suite', 'index.js'));
  const workspace = path.resolve(process.env.SYNCMANAGER_VSCODE_WORKSPACE || path.join(__dirname, 'fixtures', 'workspace'));
  const vsix = process.env.SYNCMANAGER_VSCODE_VSIX;
  const manifest = vsix ? undefined : checkExtension(extensionDevelopmentPath);
  if (!fs.existsSync(extensionTestsPath)) fail(`${extensionTestsPath} not found`);
  try {
    fs.accessSync(shim, fs.constants.X_OK);
  } catch {
    fs.chmodSync(shim, 0o755); // runTests spawns it directly; a checkout may have lost the executable bit
  }

  // A fresh profile and extensions folder per run: nothing leaks between runs (an extensions.json left behind
  // by an installed .vsix would otherwise be loaded next time too).
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-vscode-profile-'));
  // The window opens a copy of the workspace: suites change its settings (syncmanager.register, ...), and a run
  // that is killed before it puts them back must not leave the repository's fixture changed.
  const workspaceCopy = path.join(profile, path.basename(workspace));
  fs.cpSync(workspace, workspaceCopy, { recursive: true });
  // SIGTERM/SIGHUP reach the shim too (same process group), which stops VS Code and exits 1; runTests then
  // rejects and the finally below removes the profile. Exit anyway if that takes too long.
  for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      console.error(`test/vscode/runTests.js: ${signal}, waiting for VS Code to stop`);
      setTimeout(() => {
        fs.rmSync(profile, { recursive: true, force: true });
        process.exit(1);
      }, 25_000).unref();
    });
  }
  const started = Date.now();
  const what = vsix ? path.basename(vsix) : `${manifest.publisher}.${manifest.name} from ${path.relative(root, extensionDevelopmentPath) || '.'}`;
  console.log(`VS Code ${install.vscodeVersion}: testing ${what} with ${path.relative(root, extensionTestsPath)}`);
  try {
    await runTests({
      vscodeExecutablePath: shim,
      extensionDevelopmentPath,
      extensionTestsPath,
      launchArgs: [workspaceCopy, `--user-data-dir=${path.join(profile, 'user-data')}`, `--extensions-dir=${path.join(profile, 'extensions')}`],
    });
    console.log(`VS Code tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    console.error(`VS Code tests FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error && error.message}`);
    return 1;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().then((code) => process.exit(code), (error) => fail(error && error.stack ? error.stack : String(error)));
