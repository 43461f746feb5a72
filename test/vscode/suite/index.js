// Entry point the VS Code extension host loads as `extensionTestsPath`: runs mocha on the suite files and
// rejects when any test fails (VS Code then ends the run with a non-zero code).
//
// Suite files are named `*.suite.js`, not `*.test.js`: scripts/run-tests.mjs hands every `*.test.*` file under
// test/ to `node --test`, where `require('vscode')` cannot resolve. They run only inside the extension host.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

/** Every `*.suite.js` file next to this one, in name order. */
function defaultFiles() {
  return fs.readdirSync(__dirname).filter((f) => f.endsWith('.suite.js')).sort().map((f) => path.join(__dirname, f));
}

/**
 * Runs the given mocha files inside the extension host.
 * @param {string[]} files absolute paths of suite files
 * @returns {Promise<void>} rejects when a test fails or no test ran
 */
async function runFiles(files) {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 30_000 });
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const failures = await new Promise((resolve) => mocha.run(resolve));
  const total = mocha.suite.total();
  console.log(`vscode suite: ${total - failures} passed, ${failures} failed (${files.map((f) => path.basename(f)).join(', ')})`);
  if (failures > 0) throw new Error(`${failures} of ${total} tests failed`);
  if (total === 0) throw new Error('no tests ran');
}

/** Called by VS Code's test runner. */
function run() {
  return runFiles(defaultFiles());
}

module.exports = { run, runFiles };
