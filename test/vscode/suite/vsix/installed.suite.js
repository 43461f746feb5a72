// Runs inside the extension host with the extension installed from a .vsix (test/vscode/vscode.test.ts packages
// it with vsce and the shim installs it): the installed copy, not the development folder, activates, and Start
// Manager works from it, down to the esbuild it ships (the manager compiles a TypeScript config module with it).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'syncmanager.syncmanager';
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

describe('syncmanager installed from a .vsix', function () {
  this.timeout(30_000);
  /** @type {vscode.Extension<import('../../../../src/extension/extension').SyncmanagerApi>} */
  let extension;
  let api;
  let m;

  before(async function () {
    extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    api = await extension.activate();
  });

  after(async function () {
    if (m) await m.close().catch(() => {});
    if (api && api.controller.state !== 'stopped') await api.controller.stop();
    await vscode.workspace.getConfiguration('syncmanager').update('configFile', undefined, vscode.ConfigurationTarget.Global);
  });

  it('is the installed copy, with only what the .vsix ships', function () {
    const where = path.resolve(extension.extensionPath);
    assert.notEqual(where, ROOT);
    assert.match(path.basename(where), /^syncmanager\.syncmanager-\d+\.\d+\.\d+$/);
    for (const file of ['dist/extension.js', 'dist/cli.js', 'dist/client.js', 'node_modules/esbuild/lib/main.js']) {
      assert.ok(fs.existsSync(path.join(where, file)), `${file} is installed`);
    }
    for (const file of ['src', 'test', 'node_modules/typescript', 'dist/extension.js.map']) {
      assert.ok(!fs.existsSync(path.join(where, file)), `${file} is not installed`);
    }
  });

  it('starts a manager from the installed copy, which compiles a TypeScript config module with the shipped esbuild', async function () {
    // Workspace-relative; user settings of this run's throwaway profile.
    await vscode.workspace.getConfiguration('syncmanager').update('configFile', 'config/counter.config.ts', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('syncmanager.start');
    assert.equal(api.controller.state, 'running');

    const snapshot = await api.controller.client.inspection.snapshot();
    const typeids = snapshot.typeids.map((t) => t.typeid);
    for (const t of ['get_task_queue', 'get_result_queue', 'Counter']) assert.ok(typeids.includes(t), `${t} among ${typeids.join(', ')}`);
    const pid = snapshot.server.processId;
    if (fs.existsSync(`/proc/${pid}/cmdline`)) {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(path.join(extension.extensionPath, 'dist', 'cli.js')), `the installed cli.js runs the manager: ${argv.join(' ')}`);
    }

    // The client the .vsix ships, against that manager; its objects show in the installed extension's tree.
    const { connect } = require(path.join(extension.extensionPath, 'dist', 'client.js'));
    m = await connect({ address: api.controller.address, authkey: api.controller.authkey, name: 'vsix-test' });
    const counter = await m.Counter();
    assert.equal(await counter.increment(2), 2);
    await (await m.get_task_queue()).put('from the vsix test');
    const deadline = Date.now() + 10_000;
    let rows = [];
    for (;;) { // a bounded poll on the tree the Objects view reads
      const roots = await api.views.objects.getChildren();
      const typeidRow = roots.find((r) => r.id === 'typeid:get_task_queue');
      const objects = typeidRow ? await api.views.objects.getChildren(typeidRow) : [];
      rows = objects.length ? await api.views.objects.getChildren(objects[0]) : [];
      if (rows.length === 1 && rows[0].label === "'from the vsix test'") break;
      assert.ok(Date.now() < deadline, `the queue row did not show the item within 10 s: ${JSON.stringify(rows.map((r) => r.label))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Stop Manager asks first while a client is connected or an item queued (a dialog this test cannot answer
    // from outside the installed copy): take the item, close the client, and wait until the manager has seen it go.
    assert.equal(await (await m.get_task_queue()).get(), 'from the vsix test');
    await m.close();
    m = undefined;
    for (const until = Date.now() + 10_000; (await api.controller.client.inspection.snapshot()).sessions.length > 1;) { // bounded
      assert.ok(Date.now() < until, 'the manager still lists the closed client after 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await vscode.commands.executeCommand('syncmanager.stop');
    assert.equal(api.controller.state, 'stopped');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `manager process ${pid} is gone`);
  });
});
