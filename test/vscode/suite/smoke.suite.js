// Runs inside the VS Code extension host (see index.js): the extension is present, activates, and every command
// its manifest contributes is registered. Works against the development folder and an installed .vsix alike.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const EXTENSION_ID = 'syncmanager.syncmanager';

describe('syncmanager extension in VS Code (smoke)', function () {
  /** @type {vscode.Extension<unknown> | undefined} */
  let extension;

  before(function () {
    extension = vscode.extensions.getExtension(EXTENSION_ID);
  });

  it(`is present as ${EXTENSION_ID}`, function () {
    assert.ok(extension, `${EXTENSION_ID} is not among ${vscode.extensions.all.map((e) => e.id).join(', ')}`);
    console.log(`  VS Code ${vscode.version} (${vscode.env.appName}, ${vscode.env.appHost}); extension ${extension.packageJSON.version} at ${extension.extensionPath}`);
  });

  it('activates', async function () {
    assert.ok(extension);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers every command its manifest contributes', async function () {
    assert.ok(extension);
    const contributed = (extension.packageJSON.contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'the manifest contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
  });
});
