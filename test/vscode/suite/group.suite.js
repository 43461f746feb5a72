// The sidebar attached to a manager of a group (two managers on one real Redis, started as a user would with
// `syncmanager serve --store`): an object made through the other manager, which no client of this one touched,
// opens under "Elsewhere in the group" onto its items (the same rows as a local queue's), refreshed by the view's
// poll of the group; Open as JSON and Remove Item work on it; and this manager takes no reference to it.
//
// Needs redis-server (Debian's package; `.ci/run` installs it): skipped without it, except under CI=true.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');

const { client, suiteHelpers, cleanupList, serveExternal } = require('./helpers');

/**
 * A redis-server on a free 127.0.0.1 port, its files in a temporary folder; `stop()` kills it by its PID.
 * With `password`, Redis requires it, and `url` carries it.
 */
async function startRedis(password) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-vscode-redis-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await new Promise((resolve, reject) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address();
        probe.close(() => resolve(free));
      }).once('error', reject);
    });
    const auth = password ? ['--requirepass', password] : [];
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...auth], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await new Promise((resolve) => {
      let out = '';
      const timer = setTimeout(() => resolve(false), 10_000);
      const read = (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    };
    if (ready) {
      return {
        url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}/0`,
        port,
        async stop() {
          await stop();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stop(); // another process took the port meanwhile: try another
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start on a free port in 5 attempts');
}

describe('the sidebar attached to a manager of a Redis group', function () {
  this.timeout(60_000);

  /** @type {import('../../../src/extension/extension').SyncmanagerApi} */
  let api;
  let redis;
  let a;
  let b;
  const { later, runCleanups } = cleanupList();
  const { eventually, rowsOf, replaceWindowFunction, answerInputBoxes } = suiteHelpers(() => api, later);

  before(async function () {
    const probe = spawnSync('redis-server', ['--version']);
    if (probe.error || probe.status !== 0) {
      if (process.env.CI === 'true') throw new Error('redis-server is not installed (.ci/run installs it)');
      console.log('  skipped: redis-server is not installed');
      this.skip();
    }
    api = await vscode.extensions.getExtension('syncmanager.syncmanager').activate();
    if (api.controller.state !== 'stopped') await api.controller.stop();
    redis = await startRedis();
    const serve = () => serveExternal(['--address', '127.0.0.1:0', '--authkey', 'k', '--store', redis.url, '--store-prefix', 'sidebar']);
    a = await serve();
    b = await serve();
  });

  afterEach(runCleanups);

  after(async function () {
    if (api && api.controller.state !== 'stopped') await api.controller.stop();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const m of [b, a]) if (m) await m.stop();
    if (redis) await redis.stop();
  });

  it("Start Manager with syncmanager.store on a Redis that requires a password: the manager joins it, and the password is not on its command line", async function () {
    const password = 'vscode-store-password-5c81';
    const secured = await startRedis(password);
    later(() => secured.stop());
    const config = vscode.workspace.getConfiguration('syncmanager');
    for (const [key, value] of [['store', secured.url], ['storePrefix', 'started']]) {
      await config.update(key, value, vscode.ConfigurationTarget.Workspace);
      later(() => config.update(key, undefined, vscode.ConfigurationTarget.Workspace));
    }
    await vscode.commands.executeCommand('syncmanager.start');
    later(() => api.controller.stop());
    assert.equal(api.controller.state, 'running');
    const pid = (await api.controller.client.inspection.snapshot()).server.processId;
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('serve'), argv.join(' '));
    assert.ok(!argv.some((a) => a.includes(password)), `the password is on the command line: ${argv.join(' ')}`);
    // It reached Redis with the password: it is one of the managers of the prefix.
    const members = spawnSync('redis-cli', ['-p', String(secured.port), 'SMEMBERS', 'started:managers'], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: password } });
    assert.equal(members.status, 0, members.stderr);
    assert.equal(members.stdout.trim().split('\n').filter(Boolean).length, 1, members.stdout);
  });

  /** Everything the syncmanager output channel wrote so far (its log file, in the extension's log folder). */
  function outputChannelText() {
    const folder = api.logUri.fsPath;
    if (!fs.existsSync(folder)) return '';
    return fs.readdirSync(folder).map((f) => fs.readFileSync(path.join(folder, f), 'utf8')).join('\n');
  }

  /** The settings syncmanager.store and storePrefix, in the workspace, put back after the test. */
  async function storeSettings(store, prefix) {
    const config = vscode.workspace.getConfiguration('syncmanager');
    for (const [key, value] of [['store', store], ['storePrefix', prefix]]) {
      await config.update(key, value, vscode.ConfigurationTarget.Workspace);
      later(() => config.update(key, undefined, vscode.ConfigurationTarget.Workspace));
    }
  }

  /** Redis's managers of `prefix`, asked with the password (REDISCLI_AUTH keeps it off redis-cli's command line). */
  function managersOf(secured, password, prefix) {
    const members = spawnSync('redis-cli', ['-p', String(secured.port), 'SMEMBERS', `${prefix}:managers`], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: password } });
    assert.equal(members.status, 0, members.stderr);
    return members.stdout.trim().split('\n').filter(Boolean);
  }

  it("Set Store Password… keeps the password in the secret storage: Start Manager adds it to a setting that has none, by environment, never on the command line nor in the log", async function () {
    const password = 'secret-storage-password-@:/%-91d4';
    const secured = await startRedis(password);
    later(() => secured.stop());
    const setting = `redis://127.0.0.1:${secured.port}/0`;
    await storeSettings(setting, 'secret');
    const boxes = answerInputBoxes(password);
    const told = replaceWindowFunction('showInformationMessage', async () => undefined);
    await vscode.commands.executeCommand('syncmanager.setStorePassword');
    assert.equal(boxes.length, 1, 'asked for the password');
    assert.equal(boxes[0][0].password, true, 'the input box hides what is typed');
    assert.match(told[0][0], new RegExp(`password of redis://127\\.0\\.0\\.1:${secured.port} is in VS Code's secret storage`));
    assert.equal(vscode.workspace.getConfiguration('syncmanager').get('store'), setting, 'the setting is left without a password');

    await vscode.commands.executeCommand('syncmanager.start');
    later(() => api.controller.stop());
    assert.equal(api.controller.state, 'running');
    assert.equal(managersOf(secured, password, 'secret').length, 1, 'the manager reached Redis with the stored password');
    const pid = (await api.controller.client.inspection.snapshot()).server.processId;
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('serve'), argv.join(' '));
    assert.ok(!argv.some((a) => a.includes(password) || a.includes(encodeURIComponent(password))), `the password is on the command line: ${argv.join(' ')}`);
    const environment = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(environment.includes(`SYNCMANAGER_STORE=redis://:${encodeURIComponent(password)}@127.0.0.1:${secured.port}/0`), 'the store URL with the password went by environment');
    const log = await eventually('the log says where the password came from', () => {
      const text = outputChannelText();
      assert.match(text, /comes from VS Code's secret storage/);
      return text;
    });
    assert.ok(!log.includes(password) && !log.includes(encodeURIComponent(password)), 'the password is in the output channel');
  });

  it('a wrong stored password: Start Manager fails with a notification naming the server that offers Set Store Password…; with none stored, it says Redis requires one; neither shows the password', async function () {
    const password = 'the-right-password-27ab';
    const wrong = 'a-wrong-password-8e03';
    const secured = await startRedis(password);
    later(() => secured.stop());
    await storeSettings(`redis://127.0.0.1:${secured.port}/0`, 'refused');
    answerInputBoxes(wrong);
    replaceWindowFunction('showInformationMessage', async () => undefined);
    await vscode.commands.executeCommand('syncmanager.setStorePassword');
    const errors = replaceWindowFunction('showErrorMessage', async () => undefined);
    await assert.rejects(vscode.commands.executeCommand('syncmanager.start'), /refused the password from VS Code's secret storage/);
    assert.equal(api.controller.state, 'stopped');
    assert.equal(errors.length, 1, errors.map((e) => e[0]).join('\n'));
    const [message, ...buttons] = errors[0];
    assert.equal(message, `syncmanager: Redis at redis://127.0.0.1:${secured.port} refused the password from VS Code's secret storage: give the right one with Set Store Password…`);
    assert.deepEqual(buttons, ['Set Store Password…', 'Show Log']);
    await eventually("the log has Redis's refusal", () => assert.match(outputChannelText(), /WRONGPASS/));
    assert.ok(!outputChannelText().includes(wrong), 'the wrong password is in the output channel');

    await vscode.commands.executeCommand('syncmanager.clearStorePassword');
    await assert.rejects(vscode.commands.executeCommand('syncmanager.start'), /requires a password/);
    assert.equal(errors.length, 2);
    assert.match(errors[1][0], new RegExp(`^syncmanager: Redis at redis://127\\.0\\.0\\.1:${secured.port} requires a password: give it with Set Store Password…`));
    assert.deepEqual(errors[1].slice(1), ['Set Store Password…', 'Show Log']);
  });

  it('a password in the setting is warned of once; Move to Secret Storage rewrites the setting without it, and the next start still reaches Redis', async function () {
    const password = 'settings-password-c5f1';
    const secured = await startRedis(password);
    later(() => secured.stop());
    const warnings = replaceWindowFunction('showWarningMessage', async (message, ...items) => (items.includes('Move to Secret Storage') ? 'Move to Secret Storage' : undefined));
    replaceWindowFunction('showInformationMessage', async () => undefined);
    const config = () => vscode.workspace.getConfiguration('syncmanager');
    await storeSettings(secured.url, 'moved');
    const plain = `redis://127.0.0.1:${secured.port}/0`;
    await eventually('the setting is rewritten without the password', () => assert.equal(config().inspect('store').workspaceValue, plain), { timeoutMs: 10_000 });
    const offers = warnings.filter((w) => w.includes('Move to Secret Storage'));
    assert.equal(offers.length, 1, 'warned once');
    assert.match(offers[0][0], /holds the password of redis:\/\/127\.0\.0\.1:\d+ in plain text/);
    assert.ok(!offers[0][0].includes(password), offers[0][0]);

    await vscode.commands.executeCommand('syncmanager.start');
    later(() => api.controller.stop());
    assert.equal(api.controller.state, 'running');
    assert.equal(managersOf(secured, password, 'moved').length, 1, 'the moved password reached Redis');
    await api.controller.stop();

    // The same setting with its password again: not warned a second time in this window.
    await config().update('store', secured.url, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('syncmanager.start');
    assert.equal(warnings.filter((w) => w.includes('Move to Secret Storage')).length, 1, 'warned once');
  });

  it("opens a queue made through the other manager onto its items, refreshed by the group's poll, with Open as JSON and Remove Item, taking no reference", async function () {
    await vscode.commands.executeCommand('syncmanager.attach', b.address, 'k');
    later(() => api.controller.stop());
    const producer = await client.connect({ address: a.address, authkey: 'k', name: 'producer' });
    later(() => producer.close());
    const q = await producer.create('Queue');
    await q.put('job 1');
    await q.put({ task: 2 });
    const lock = await producer.create('Lock');

    /** The row of `id` under "Elsewhere in the group", as VS Code gets it. */
    const elsewhereRow = async (id) => {
      const root = (await rowsOf('objects')).find((r) => r.id === 'elsewhere');
      assert.ok(root, 'an "Elsewhere in the group" row');
      const row = (await rowsOf('objects', root)).find((r) => r.objectId === id);
      assert.ok(row, `${id} under Elsewhere in the group`);
      return row;
    };
    const queueRow = await eventually('the queue shows under Elsewhere in the group', () => elsewhereRow(q.id));
    assert.equal(queueRow.expandable, true, 'a queue held elsewhere opens');
    assert.equal((await api.views.objects.getTreeItem(queueRow)).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.equal((await elsewhereRow(lock.id)).expandable, false, 'a lock has state, not contents: it does not open from here');
    const items = await rowsOf('objects', queueRow);
    assert.deepEqual(items.map((r) => r.label), ["'job 1'", "{'task': 2}"]);
    assert.deepEqual(items.map((r) => r.contextValue), ['queueItem', 'queueItem'], 'the rows of a local queue: Remove Item and Edit Item apply');
    assert.match(items[0].description, /^next · \[0\]/);

    // The other manager sends this one no notification: the view's poll of the group refreshes the Elsewhere row,
    // and VS Code reads the contents of what is open under it again.
    const refreshed = [];
    const subscription = api.views.objects.onDidChangeTreeData((row) => refreshed.push(row ? row.id : 'everything'));
    later(() => subscription.dispose());
    await q.put('job 3');
    await eventually('the group poll refreshes the Elsewhere row', () => assert.ok(refreshed.includes('elsewhere') || refreshed.includes('everything'), refreshed.join()), { timeoutMs: 15_000 });
    assert.deepEqual((await rowsOf('objects', queueRow)).map((r) => r.label), ["'job 1'", "{'task': 2}", "'job 3'"]);

    // Open as JSON reads it from the store too.
    await vscode.commands.executeCommand('syncmanager.openAsJson', queueRow);
    const doc = await eventually('the JSON document opens', () => {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'syncmanager-object' && d.uri.path.startsWith(`/${q.id}/`));
      assert.ok(open, 'a syncmanager-object document of the queue');
      return open;
    });
    assert.deepEqual(JSON.parse(doc.getText()), ['job 1', { task: 2 }, 'job 3']);

    // Remove Item on a row of the queue held elsewhere: the producer's manager no longer has it.
    replaceWindowFunction('showWarningMessage', async (message, options, action) => action);
    await vscode.commands.executeCommand('syncmanager.removeItem', (await rowsOf('objects', queueRow))[0]);
    assert.deepEqual(await q.get(), { task: 2 }, "the first item is gone for the producer's manager too");

    // All along, this manager took no reference: the group counts the producer's manager alone.
    const group = await api.controller.client.inspection.group();
    const managerA = group.managers.find((m) => m.address === a.address);
    assert.ok(managerA, 'the producer\'s manager is in the group');
    assert.deepEqual(group.objects.find((o) => o.id === q.id).managers, [managerA.managerId]);
    assert.ok(!(await api.controller.client.inspection.snapshot()).objects.some((o) => o.id === q.id), "the queue never entered this manager's table");
  });

  it('lists under "Kept by the group" a resumable session whose manager was SIGKILLed, by the name of its client and until when it can be resumed', async function () {
    const c = await serveExternal(['--address', '127.0.0.1:0', '--authkey', 'k', '--store', redis.url, '--store-prefix', 'sidebar', '--store-lease', '1']);
    later(() => c.stop());
    await vscode.commands.executeCommand('syncmanager.attach', b.address, 'k');
    later(() => api.controller.stop());
    const worker = await client.connect({ address: c.address, authkey: 'k', name: 'kept-worker', resume: { withinMs: 60_000 }, reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxMs: 60_000 } });
    later(() => worker.close());
    const lock = await worker.create('Lock');
    assert.equal(await lock.acquire(), true);
    const exited = new Promise((resolve) => c.process.once('exit', resolve));
    process.kill(c.process.pid, 'SIGKILL');
    await exited;
    const keptRow = await eventually(
      'a "Kept by the group" row in the Clients view',
      async () => {
        const row = (await rowsOf('clients')).find((r) => r.id === 'kept-sessions');
        assert.ok(row, 'no Kept by the group row yet');
        return row;
      },
      { timeoutMs: 20_000 },
    );
    assert.equal((await api.views.clients.getTreeItem(keptRow)).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const [session] = await rowsOf('clients', keptRow);
    assert.equal(session.label, 'kept-worker');
    assert.match(session.description, /^no manager · resumable until /);
    assert.equal(session.contextValue, 'keptSession');
  });
});
