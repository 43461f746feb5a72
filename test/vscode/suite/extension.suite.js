// The real extension inside a real VS Code extension host (see index.js): its commands, the manager process it
// starts, the Objects and Clients trees as VS Code reads them (through the extension's read-only `views` API),
// item actions, terminal environments, Stop, and attaching to a manager started elsewhere.
//
// Runs against the development folder only: the input-box and modal answers below replace functions on the
// `vscode` API object, which the extension host shares only with modules inside the extension's own folder (these
// test files are in it; an installed .vsix is elsewhere). Every wait is bounded and driven by the extension's
// events (with a 100 ms re-check as a bounded fallback); nothing sleeps to synchronise.
//
// The workspace (test/vscode/fixtures/workspace) registers the seed's queues, get_task_queue and get_result_queue.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'syncmanager.syncmanager';
const { client, ROOT, suiteHelpers, cleanupList, serveExternal } = require('./helpers');

describe('syncmanager extension in VS Code (integration)', function () {
  this.timeout(30_000);

  /** @type {import('../../../src/extension/extension').SyncmanagerApi} */
  let api;
  /** Everything to undo after each test, last first (clients, stubs, terminals, processes). */
  const { later, runCleanups } = cleanupList();

  before(async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    assert.equal(path.resolve(extension.extensionPath), ROOT, 'this suite tests the development folder (see the header)');
    api = await extension.activate();
    assert.ok(api && api.controller && api.views, 'activate() returns { controller, commands, views }');
  });

  afterEach(runCleanups);

  after(async function () {
    if (api && api.controller.state !== 'stopped') await api.controller.stop();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const { eventually, within, rowsOf, objectTree, connectClient, replaceWindowFunction, answerInputBoxes } = suiteHelpers(() => api, later);

  /** Whether a process with this pid exists. */
  function alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return error.code === 'EPERM';
    }
  }

  /**
   * Sends `script` (sh) to a terminal; it must write its output to the file named by $OUT. Resolves with that
   * output once the file appears (written to a temporary name and renamed, so it is complete), within 20 s.
   */
  async function runInTerminal(terminal, script) {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-term-')), 'out.txt');
    later(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
    terminal.sendText(`OUT='${out}'; { ${script}; } > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"`);
    for (let i = 0; i < 200; i++) { // a bounded poll: nothing announces the file
      if (fs.existsSync(out)) return fs.readFileSync(out, 'utf8').trim();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the terminal "${terminal.name}" did not write ${out} within 20 s`);
  }

  async function startManager() {
    if (api.controller.state === 'running') return;
    assert.equal(api.controller.state, 'stopped');
    await vscode.commands.executeCommand('syncmanager.start');
    assert.equal(api.controller.state, 'running');
  }

  // --- tests ----------------------------------------------------------------------------------------------------

  it('activates with every contributed command registered, and no manager', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.equal(extension.isActive, true);
    const contributed = extension.packageJSON.contributes.commands.map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
    assert.deepEqual([...api.commands].sort(), [...contributed].sort(), 'the API lists exactly the contributed commands');
    assert.equal(api.controller.state, 'stopped');
    assert.equal(api.controller.address, undefined);
    assert.deepEqual(await rowsOf('objects'), [], 'Objects shows its welcome content while stopped');
    assert.deepEqual(await rowsOf('clients'), []);
  });

  it('Start Manager runs a manager process with the workspace registrations', async function () {
    const states = [];
    const subscription = api.controller.onDidChangeState((s) => states.push(s));
    later(() => subscription.dispose());
    await vscode.commands.executeCommand('syncmanager.start');
    assert.deepEqual(states, ['starting', 'running']);
    const { controller } = api;
    assert.equal(controller.state, 'running');
    assert.equal(controller.owned, true);
    assert.match(controller.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(controller.address, '127.0.0.1:0', 'the real port, not the setting');
    assert.match(controller.authkey, /^[0-9a-f]{32}$/, 'a random authkey from SecretStorage');

    const snapshot = await controller.client.inspection.snapshot();
    const pid = snapshot.server.processId;
    assert.notEqual(pid, process.pid, 'the manager runs in its own process, not in the extension host');
    assert.ok(alive(pid), `manager process ${pid} is alive`);
    if (fs.existsSync(`/proc/${pid}/cmdline`)) {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(path.join(ROOT, 'dist', 'cli.js')) && argv.includes('serve'), argv.join(' '));
      assert.ok(!argv.includes(controller.authkey), 'the authkey is not on the command line');
    }
    assert.equal(snapshot.server.address, controller.address);
    const typeids = snapshot.typeids.map((t) => t.typeid);
    assert.ok(typeids.includes('get_task_queue') && typeids.includes('get_result_queue'), typeids.join(', '));

    // The status bar item is not readable through the API: its text is checked by the UI run (ui.test.ts). Here:
    // the state and address it shows, and the sidebar's roots.
    const roots = await rowsOf('objects');
    const seeded = roots.filter((r) => r.id.startsWith('typeid:get_'));
    assert.deepEqual(seeded.map((r) => r.label), ['get_task_queue', 'get_result_queue']);
    for (const row of seeded) assert.equal(row.description, 'Queue · 1 object', 'a shared queue shows before any client asks for it');
    const sessions = await rowsOf('clients');
    assert.deepEqual(sessions.map((r) => r.label), ['vscode (this sidebar)']);
  });

  it('shows a client\'s items in the Objects tree, in order, and its blocked get in the Clients view', async function () {
    await startManager();
    const m = await connectClient('seed-manager');
    const tasks = await m.get_task_queue();
    for (const item of [1, 'two', { three: 3 }]) await tasks.put(item);

    const { typeidRow, objectRow, items } = await eventually('the queue shows 3 items', async () => {
      const tree = await objectTree('get_task_queue');
      assert.equal(tree.objectRow.description, 'Queue · 3 items · 1 ref');
      return tree;
    });
    assert.match(typeidRow.description, / · 1 object$/);
    assert.equal(objectRow.contextValue, 'queue', 'the queue row offers Put Item, Peek, Clear Queue');
    assert.deepEqual(items.map((r) => r.label), ['1', "'two'", "{'three': 3}"]);
    assert.deepEqual(items.map((r) => r.description), ['next · [0] int', '[1] str', '[2] dict']);
    assert.deepEqual(items.map((r) => r.contextValue), ['queueItem', 'queueItem', 'queueItem']);
    const treeItem = await api.views.objects.getTreeItem(objectRow);
    assert.equal(treeItem.id, objectRow.id);
    assert.equal(treeItem.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);

    // A worker blocked in get() on the empty result queue.
    const worker = await connectClient('blocked-worker');
    const results = await worker.get_result_queue();
    const got = results.get();
    const session = await eventually('the worker shows as waiting', async () => {
      const row = (await rowsOf('clients')).find((r) => r.label === 'blocked-worker');
      assert.ok(row, 'no blocked-worker row');
      assert.match(row.description, /^pid \d+ · 127\.0\.0\.1:\d+ · jsonrpc · 1 ref · 1 waiting$/);
      return row;
    });
    // The Clients view's title counts the clients as the status bar does: the sidebar's own connection apart.
    await eventually('the Clients view counts two clients', () => assert.equal(api.treeViews.clients.description, '2 clients + this sidebar'));
    const details = await rowsOf('clients', session);
    assert.equal(details[0].label, 'get on get_result_queue');
    assert.equal(details[0].contextValue, 'pendingCall');
    assert.deepEqual(details.slice(1).map((r) => r.label), [`get_result_queue #${details[0].objectId}`]);
    await eventually('the result queue shows the waiting getter', async () => {
      assert.equal((await objectTree('get_result_queue')).objectRow.description, 'Queue · 0 items · 1 waiting to get · 1 ref');
    });

    // Releasing it: the waiting row goes away.
    await (await m.get_result_queue()).put(42);
    assert.equal(await got, 42);
    await eventually('the worker no longer waits', async () => {
      const row = (await rowsOf('clients')).find((r) => r.label === 'blocked-worker');
      assert.doesNotMatch(row.description, /waiting/);
    });
  });

  it('a shared queue keeps showing its items, with its actions, after the client holding it has left', async function () {
    await startManager();
    const m = await connectClient('short-lived');
    const results = await m.get_result_queue();
    for (let i = 0, n = await results.qsize(); i < n; i++) await results.getNowait();
    for (const n of [49, 64]) await results.put(n);
    await m.close();
    const { objectRow } = await eventually('the queue shows its items with nobody holding it', async () => {
      const tree = await objectTree('get_result_queue');
      assert.equal(tree.objectRow.description, 'Queue · 2 items · 0 refs');
      assert.deepEqual(tree.items.map((r) => r.label), ['49', '64']);
      return tree;
    });
    assert.equal(objectRow.contextValue, 'queue', 'with the queue actions');
    answerInputBoxes('81');
    await vscode.commands.executeCommand('syncmanager.putItem', objectRow);
    await eventually('the put item shows', async () => {
      assert.deepEqual((await objectTree('get_result_queue')).items.map((r) => r.label), ['49', '64', '81']);
    });
    replaceWindowFunction('showWarningMessage', async () => 'Clear Queue');
    replaceWindowFunction('showInformationMessage', async () => undefined);
    await vscode.commands.executeCommand('syncmanager.clearQueue', objectRow);
    await eventually('the queue shows empty, still held by nobody', async () => {
      const tree = await objectTree('get_result_queue');
      assert.equal(tree.objectRow.description, 'Queue · 0 items · 0 refs');
    });
  });

  it('a waiting call\'s time in the Clients view keeps counting while nothing else changes', async function () {
    await startManager();
    const worker = await connectClient('patient-worker');
    const tasks = await worker.get_task_queue();
    for (let i = 0, n = await tasks.qsize(); i < n; i++) await tasks.getNowait(); // earlier tests leave items
    const waiting = tasks.get({ timeout: 20 }).catch(() => undefined);
    const session = await eventually('the worker shows as waiting', async () => {
      const row = (await rowsOf('clients')).find((r) => r.label === 'patient-worker');
      assert.match(row.description, /1 waiting/);
      return row;
    });
    const first = (await rowsOf('clients', session))[0].description;
    // No manager change happens now; the view must still refresh to count the seconds.
    let refreshes = 0;
    const subscription = api.views.clients.onDidChangeTreeData(() => refreshes++);
    later(() => subscription.dispose());
    await eventually('the Clients view refreshed by itself, twice', async () => {
      await rowsOf('clients'); // as VS Code does when told of a change: it reads the rows again
      assert.ok(refreshes >= 2, `${refreshes} refreshes`);
    }, { timeoutMs: 5_000 });
    const afterwards = (await rowsOf('clients', session))[0].description;
    assert.notEqual(afterwards, first, `the waiting time moved on from "${first}"`);
    await (await connectClient('unblocker')).get_task_queue().then((q) => q.put('done'));
    await waiting;
  });

  it('a queue of 100 000 items is shown a page at a time, with a "more" row that loads the next page', async function () {
    this.timeout(60_000);
    await startManager();
    const m = await connectClient('bulk');
    const tasks = await m.get_task_queue();
    // Start from an empty queue (earlier tests leave items), bounded.
    for (let i = 0, n = await tasks.qsize(); i < n; i++) await tasks.getNowait();
    await Promise.all(Array.from({ length: 100_000 }, (_, i) => tasks.put(i)));
    const { items } = await eventually('the queue shows 100 000 items', async () => {
      const tree = await objectTree('get_task_queue');
      assert.equal(tree.objectRow.description, 'Queue · 100,000 items · 1 ref');
      return tree;
    });
    assert.equal(items.length, 101, 'one page of 100 items and a "more" row');
    assert.equal(items[99].label, '99');
    const more = items[100];
    assert.equal(more.label, '99,900 more…');
    const next = await rowsOf('objects', more);
    assert.equal(next[0].label, '100');
    assert.equal(next.at(-1).label, '99,800 more…');
    // Empty it again for the tests after this one.
    for (let i = 0; i < 100_000; i += 5_000) await Promise.all(Array.from({ length: 5_000 }, () => tasks.getNowait()));
    assert.equal(await tasks.qsize(), 0);
  });

  it('shows who holds a lock, a semaphore\'s value, an event\'s state and a barrier\'s parties, and frees what a leaving client held', async function () {
    await startManager();
    const owner = await connectClient('lock-owner');
    const lock = await owner.create('Lock');
    const semaphore = await owner.create('Semaphore', 3);
    const event = await owner.create('Event');
    const barrier = await owner.create('Barrier', 2);
    assert.equal(await lock.callMethod('acquire'), true);
    assert.equal(await semaphore.callMethod('acquire'), true);
    const waiting = barrier.callMethod('wait').catch((error) => error);

    const ownerName = `lock-owner (${process.pid})`;
    await eventually('the primitives show their state', async () => {
      assert.equal((await objectTree('Lock')).objectRow.description, `Lock · locked by ${ownerName} · 1 ref`);
      assert.equal((await objectTree('Semaphore')).objectRow.description, 'Semaphore · value 2 · 1 ref');
      assert.equal((await objectTree('Event')).objectRow.description, 'Event · clear · 1 ref');
      assert.equal((await objectTree('Barrier')).objectRow.description, 'Barrier · 1/2 waiting · 1 ref');
    });
    const { items: lockState } = await objectTree('Lock');
    assert.deepEqual(lockState.map((r) => `${r.label}: ${r.description}`), ['locked: yes', `owner: ${ownerName}`, 'waiting: 0']);
    const { items: semaphoreState } = await objectTree('Semaphore');
    assert.ok(semaphoreState.some((r) => r.label === `held by ${ownerName}` && r.description === '1 permit'), semaphoreState.map((r) => r.label).join(', '));
    const client = await eventually('the owner lists what it holds', async () => {
      const row = (await rowsOf('clients')).find((r) => r.label === 'lock-owner');
      assert.ok(row, 'no lock-owner row');
      assert.match(row.description, /holds 2 locks/);
      return row;
    });
    const held = (await rowsOf('clients', client)).filter((r) => r.contextValue === 'heldLock').map((r) => r.label);
    assert.deepEqual(held.sort(), [`holds Lock #${lock.id}`, `holds Semaphore #${semaphore.id}`].sort());

    await event.callMethod('set');
    await eventually('the event shows set', async () => {
      assert.equal((await objectTree('Event')).objectRow.description, 'Event · set · 1 ref');
    });

    // A watcher gets a reference to the lock through a dict (a proxy stored in a value), waits for
    // it, and the owner leaves holding it: the manager gives the lock to the watcher.
    const shelf = await owner.create('dict');
    await shelf.callMethod('__setitem__', ['lock', lock]);
    const watcher = await connectClient('watcher');
    const watcherLock = await watcher.callById(shelf.id, '__getitem__', ['lock']);
    assert.equal(watcherLock.id, lock.id, 'the same lock, by reference');
    const acquired = watcherLock.callMethod('acquire');
    await owner.close();
    await waiting;
    assert.equal(await within(acquired, 5000, 'the watcher gets the lock its owner left'), true);
    await eventually('the lock shows its new owner', async () => {
      assert.equal((await objectTree('Lock')).objectRow.description, `Lock · locked by watcher (${process.pid}) · 1 ref`);
    });
    await watcherLock.callMethod('release');
  });

  it('Put Item, Peek, Copy Value, Open as JSON and Clear Queue act on a queue row', async function () {
    await startManager();
    const m = await connectClient('actions');
    const results = await m.get_result_queue();
    for (const n of [0, 1, 4]) await results.put(n);
    let { objectRow } = await eventually('3 results', async () => {
      const tree = await objectTree('get_result_queue');
      assert.match(tree.objectRow.description, /^Queue · 3 items/);
      return tree;
    });

    // Put Item: the command asks for JSON (and refuses what is not), then puts it.
    const asked = answerInputBoxes('{"n": 9}');
    await vscode.commands.executeCommand('syncmanager.putItem', objectRow);
    assert.equal(asked.length, 1, 'Put Item asked for the item');
    assert.match(asked[0][0].prompt, /put into get_result_queue/);
    assert.match(asked[0][0].validateInput('not json'), /not JSON/);
    const items = await eventually('the put item shows', async () => {
      const tree = await objectTree('get_result_queue');
      assert.deepEqual(tree.items.map((r) => r.label), ['0', '1', '4', "{'n': 9}"]);
      return tree.items;
    });
    objectRow = (await objectTree('get_result_queue')).objectRow;

    // Peek: the next item, in a notification; nothing is taken.
    const shown = replaceWindowFunction('showInformationMessage', async () => undefined);
    await vscode.commands.executeCommand('syncmanager.peek', objectRow);
    assert.deepEqual(shown.map((args) => args[0]), [`Next in ${objectRow.label} (of 4): 0`]);
    assert.equal(await results.qsize(), 4);

    // Copy Value: the item as JSON on the clipboard.
    await vscode.commands.executeCommand('syncmanager.copyValue', items[3]);
    assert.deepEqual(JSON.parse(await vscode.env.clipboard.readText()), { n: 9 });

    // Open as JSON: a read-only JSON document of the contents, which follows the queue.
    await vscode.commands.executeCommand('syncmanager.openAsJson', objectRow);
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'an editor is open');
    later(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));
    const doc = editor.document;
    assert.equal(doc.uri.scheme, 'syncmanager-object');
    assert.equal(path.posix.basename(doc.uri.path), `${objectRow.label}.json`, 'named after the object, as its tab shows');
    assert.equal(doc.languageId, 'json');
    assert.deepEqual(JSON.parse(doc.getText()), [0, 1, 4, { n: 9 }]);
    await results.put(16);
    await eventually('the document follows the queue', () => assert.deepEqual(JSON.parse(doc.getText()), [0, 1, 4, { n: 9 }, 16]));

    // Clear Queue asks first (a modal warning: answered here, as the test workbench refuses modal dialogs).
    const answers = ['Cancel', 'Clear Queue'];
    const warned = replaceWindowFunction('showWarningMessage', async () => (answers.shift() === 'Clear Queue' ? 'Clear Queue' : undefined));
    await vscode.commands.executeCommand('syncmanager.clearQueue', objectRow);
    assert.equal(await results.qsize(), 5, 'cancelled: nothing removed');
    await vscode.commands.executeCommand('syncmanager.clearQueue', objectRow);
    assert.equal(warned.length, 2);
    assert.match(warned[0][0], /^Remove all 5 items from get_result_queue #[0-9a-f]+-[0-9a-f]+\?/);
    assert.deepEqual(warned[0][1], { modal: true });
    assert.equal(await results.qsize(), 0);
    assert.match(shown.at(-1)[0], /^Removed 5 items from get_result_queue/);
    await eventually('the tree shows the queue empty', async () => {
      const tree = await objectTree('get_result_queue');
      assert.match(tree.objectRow.description, /^Queue · 0 items/);
      assert.deepEqual(tree.items.map((r) => r.label), ['(empty)']);
    });
    await eventually('the document shows it empty', () => assert.deepEqual(JSON.parse(doc.getText()), []));
  });

  it('Call Method… offers an object\'s exposed methods, takes JSON arguments and shows the result or the error', async function () {
    await startManager();
    const m = await connectClient('caller');
    const q = await m.create('LifoQueue');
    const { objectRow } = await eventually('the LifoQueue shows', () => objectTree('LifoQueue'));
    const picks = replaceWindowFunction('showQuickPick', async (items) => (await items).find((i) => i.label === 'put'));
    const asked = answerInputBoxes('{"not": "an array"}', '["first"]');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.callMethod', objectRow)), /must be a JSON array/);
    const shown = replaceWindowFunction('showInformationMessage', async () => undefined);
    const errors = replaceWindowFunction('showErrorMessage', async () => undefined);
    assert.deepEqual(await vscode.commands.executeCommand('syncmanager.callMethod', objectRow), { result: null });
    const offered = (await picks[0][0]).map((i) => i.label);
    for (const method of ['empty', 'full', 'get', 'get_nowait', 'put', 'put_nowait', 'qsize']) assert.ok(offered.includes(method), `${method} offered: ${offered}`);
    assert.equal(asked.length, 2);
    assert.match(asked[1][0].prompt, /^Arguments of put\(\) on LifoQueue #[0-9a-f]+-[0-9a-f]+, as a JSON array/);
    assert.match(shown.at(-1)[0], /^put\('first'\) on LifoQueue #[0-9a-f]+-[0-9a-f]+ → None$/);
    await q.put('second');
    assert.deepEqual(await vscode.commands.executeCommand('syncmanager.callMethod', objectRow, 'get_nowait', '[]'), { result: 'second' });
    assert.deepEqual(await vscode.commands.executeCommand('syncmanager.callMethod', objectRow, 'qsize', '[]'), { result: 1 });
    await q.getNowait();
    const failed = await vscode.commands.executeCommand('syncmanager.callMethod', objectRow, 'get_nowait', '[]');
    assert.equal(failed.error.name, 'EmptyError');
    assert.match(errors.at(-1)[0], /^get_nowait\(\) on LifoQueue #[0-9a-f]+-[0-9a-f]+ raised EmptyError: /);
  });

  it('the syncmanager.valueStyle setting shows values as JSON instead of as Python prints them', async function () {
    await startManager();
    const m = await connectClient('styles');
    const d = await m.dict();
    await d.set('k', [null, true, 'text']);
    const python = await eventually('the dict in Python style', async () => {
      const { items } = await objectTree('dict');
      assert.deepEqual(items.map((r) => `${r.label}${r.description}`), ["'k': [None, True, 'text']"]);
      return items;
    });
    assert.equal(python.length, 1);
    const config = vscode.workspace.getConfiguration('syncmanager');
    await config.update('valueStyle', 'json', vscode.ConfigurationTarget.Workspace);
    later(() => config.update('valueStyle', undefined, vscode.ConfigurationTarget.Workspace));
    await eventually('the dict in JSON style', async () => {
      const { items } = await objectTree('dict');
      assert.deepEqual(items.map((r) => `${r.label}${r.description}`), ['"k": [null, true, "text"]']);
    });
    await d.release();
  });

  it('Set Key and Delete act on dict rows', async function () {
    await startManager();
    const m = await connectClient('dict-owner');
    const d = await m.dict();
    await d.set('a', 1);
    await d.set('b', [2, 3]);
    const { objectRow, items } = await eventually('the dict shows 2 keys', async () => {
      const tree = await objectTree('dict');
      assert.equal(tree.objectRow.description, 'dict · 2 keys · 1 ref');
      return tree;
    });
    assert.deepEqual(items.map((r) => [r.label, r.description, r.contextValue]), [["'a'", ': 1', 'dictEntry'], ["'b'", ': [2, 3]', 'dictEntry']]);

    const asked = answerInputBoxes('"c"', '{"deep": true}');
    await vscode.commands.executeCommand('syncmanager.setKey', objectRow);
    assert.equal(asked.length, 2, 'Set Key asked for the key, then the value');
    assert.deepEqual(await d.get('c'), { deep: true });

    const warned = replaceWindowFunction('showWarningMessage', async (message, options, action) => action);
    await vscode.commands.executeCommand('syncmanager.deleteKey', items[0]);
    assert.match(warned[0][0], /^Delete 'a' from #[0-9a-f]+-[0-9a-f]+\? Its value 1 is lost\.$/, 'Delete asks first');
    assert.deepEqual(warned[0][1], { modal: true });
    assert.deepEqual((await d.keys()).sort(), ['b', 'c']);
    await eventually('the tree shows the keys left', async () => {
      const tree = await objectTree('dict');
      assert.deepEqual(tree.items.map((r) => r.label), ["'b'", "'c'"]);
      assert.equal(tree.objectRow.description, 'dict · 2 keys · 1 ref');
    });
  });

  it('one list item is removed (after a question) or edited, a dict value edited, and nested values expand', async function () {
    await startManager();
    const m = await connectClient('items');
    const list = await m.list();
    for (const v of ['keep', 'poison', { nested: [1, 2] }]) await list.append(v);
    const listTree = async () => {
      const objects = await rowsOf('objects', (await rowsOf('objects')).find((r) => r.id === 'typeid:list'));
      return rowsOf('objects', objects.find((o) => o.label === `list #${list.id}`));
    };
    const items = await eventually('the list shows 3 items', async () => {
      const rows = await listTree();
      assert.deepEqual(rows.map((r) => r.label), ["'keep'", "'poison'", "{'nested': [1, 2]}"]);
      return rows;
    });
    assert.deepEqual(items.map((r) => r.contextValue), ['listItem', 'listItem', 'listItem']);

    // Nested values expand: the dict, then the list inside it.
    const nested = await rowsOf('objects', items[2]);
    assert.deepEqual(nested.map((r) => `${r.label}${r.description}`), ["'nested': [1, 2]"]);
    assert.deepEqual((await rowsOf('objects', nested[0])).map((r) => r.label), ['1', '2']);

    // Remove Item asks first; cancelled, nothing goes.
    const answers = [undefined, 'Remove Item'];
    const warned = replaceWindowFunction('showWarningMessage', async () => answers.shift());
    await vscode.commands.executeCommand('syncmanager.removeItem', items[1]);
    assert.equal(await list.length(), 3, 'cancelled: nothing removed');
    await vscode.commands.executeCommand('syncmanager.removeItem', items[1]);
    assert.match(warned[0][0], new RegExp(`^Remove item \\[1\\] 'poison' from list #${list.id}\\?$`));
    assert.deepEqual(warned[0][1], { modal: true });
    assert.deepEqual(await list.getValue(), ['keep', { nested: [1, 2] }]);

    // A row shown before the list changed removes nothing it no longer shows.
    const stale = (await listTree())[0];
    await list.set(0, 'changed meanwhile');
    replaceWindowFunction('showWarningMessage', async (message, options, action) => action);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.removeItem', stale)), /is no longer the one shown .*nothing was removed/);
    assert.equal(await list.length(), 2);

    // Edit Value… on a list item, then on a dict value.
    const asked = answerInputBoxes('"edited"', '{"v": 2}');
    await vscode.commands.executeCommand('syncmanager.editItem', (await listTree())[0]);
    assert.equal(asked[0][0].value, '"changed meanwhile"', 'the box starts with the current value');
    assert.equal(await list.at(0), 'edited');
    const d = await m.dict();
    await d.set('k', 1);
    const entry = await eventually('the dict entry shows', async () => {
      const objects = await rowsOf('objects', (await rowsOf('objects')).find((r) => r.id === 'typeid:dict'));
      const rows = await rowsOf('objects', objects.find((o) => o.label === `dict #${d.id}`));
      assert.equal(rows.length, 1);
      return rows[0];
    });
    await vscode.commands.executeCommand('syncmanager.editItem', entry);
    assert.deepEqual(await d.get('k'), { v: 2 });

    // A list row shown before another client inserted in front of it edits nothing it no longer shows.
    const staleEdit = (await listTree())[0];
    assert.equal(staleEdit.label, "'edited'");
    await list.insert(0, 'inserted meanwhile');
    answerInputBoxes('"overwritten?"');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.editItem', staleEdit)), /is no longer the one shown .*nothing was replaced/);
    assert.deepEqual(await list.getValue(), ['inserted meanwhile', 'edited', { nested: [1, 2] }]);
    await list.release();
    await d.release();
  });

  it('Filter Items… shows only the items containing a text, and an empty filter shows them all again', async function () {
    await startManager();
    const m = await connectClient('filtered');
    const list = await m.list();
    await list.extend(Array.from({ length: 1000 }, (_, i) => i));
    const objectRow = await eventually('the list of 1000 shows', async () => {
      const objects = await rowsOf('objects', (await rowsOf('objects')).find((r) => r.id === 'typeid:list'));
      const row = objects.find((o) => o.label === `list #${list.id}`);
      assert.match(row.description, /1,000 items/);
      return row;
    });
    const expected = Array.from({ length: 1000 }, (_, i) => String(i)).filter((t) => t.includes('99'));
    answerInputBoxes('99');
    await vscode.commands.executeCommand('syncmanager.filter', objectRow);
    const rows = await rowsOf('objects', objectRow);
    assert.equal(rows[0].label, `filter "99": ${expected.length} of 1,000 items match`);
    assert.deepEqual(rows.slice(1).map((r) => r.label), expected);
    assert.deepEqual(rows.slice(1).map((r) => r.index), expected.map(Number), 'each at its real position');
    await vscode.commands.executeCommand('syncmanager.filter', objectRow, '');
    const all = await rowsOf('objects', objectRow);
    assert.equal(all.length, 101, 'a page and a "more" row again');
    await list.release();
  });

  it('Remove Item… on a queue item asks first, removes that item only, and refuses when a getter took items since the row was shown', async function () {
    await startManager();
    const m = await connectClient('poisoned');
    const q = await m.get_result_queue();
    for (const item of ['ok-1', 'poison', 'ok-2']) await q.put(item);
    const queueRows = async () => (await objectTree('get_result_queue')).items;
    const items = await eventually('the queue shows 3 items', async () => {
      const rows = await queueRows();
      assert.deepEqual(rows.map((r) => r.label), ["'ok-1'", "'poison'", "'ok-2'"]);
      return rows;
    });
    assert.deepEqual(items.map((r) => r.contextValue), ['queueItem', 'queueItem', 'queueItem']);

    const answers = [undefined, 'Remove Item'];
    const warned = replaceWindowFunction('showWarningMessage', async () => answers.shift());
    await vscode.commands.executeCommand('syncmanager.removeItem', items[1]);
    assert.equal(await q.qsize(), 3, 'cancelled: nothing removed');
    await vscode.commands.executeCommand('syncmanager.removeItem', items[1]);
    assert.match(warned[0][0], new RegExp(`^Remove item \\[1\\] 'poison' from queue #${q.id}\\? No client will get it\\.$`));
    assert.deepEqual(warned[0][1], { modal: true });
    assert.equal(await q.qsize(), 2);

    // A getter takes the first item after the rows were read: the row at index 1 now names an item that moved.
    const stale = await eventually('the queue shows 2 items', async () => {
      const rows = await queueRows();
      assert.deepEqual(rows.map((r) => r.label), ["'ok-1'", "'ok-2'"]);
      return rows[1];
    });
    assert.equal(await q.get(), 'ok-1');
    replaceWindowFunction('showWarningMessage', async (message, options, action) => action);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.removeItem', stale)), /no item at index 1|no longer the one shown/);
    assert.equal(await q.get(), 'ok-2', 'the getter\'s neighbour was not removed in its stead');
  });

  it('Edit Value… on a queue item replaces that item in its place, starting from its JSON (tags kept), and refuses when a getter took items since the row was shown', async function () {
    await startManager();
    const m = await connectClient('editing');
    const q = await m.get_result_queue();
    for (const item of ['ok-1', client.tuple('typo', 1), 'ok-2']) await q.put(item);
    const queueRows = async () => (await objectTree('get_result_queue')).items;
    const items = await eventually('the queue shows 3 items', async () => {
      const rows = await queueRows();
      assert.deepEqual(rows.map((r) => r.label), ["'ok-1'", "('typo', 1)", "'ok-2'"]);
      return rows;
    });

    const asked = answerInputBoxes('{"$tuple": ["fixed", 1]}');
    await vscode.commands.executeCommand('syncmanager.editItem', items[1]);
    const box = asked[0][0];
    assert.equal(box.value, '{"$tuple":["typo",1]}', 'the box starts with the item in wire form');
    assert.match(box.prompt, new RegExp(`item \\[1\\] of queue #${q.id}`));
    assert.match(await box.validateInput('fixed'), /not JSON/);
    assert.match(await box.validateInput('{"$nope": 1}'), /unknown value tag "\$nope"/);
    assert.equal(await box.validateInput('{"$dict": [["$nope", 1]]}'), undefined);
    const edited = await eventually('the row shows the new item in its place', async () => {
      const rows = await queueRows();
      assert.deepEqual(rows.map((r) => r.label), ["'ok-1'", "('fixed', 1)", "'ok-2'"]);
      return rows;
    });

    // Escape changes nothing.
    answerInputBoxes();
    await vscode.commands.executeCommand('syncmanager.editItem', edited[0]);
    assert.equal(await q.qsize(), 3);

    // A getter takes the first item after the rows were read: the row at index 0 names an item that is gone.
    assert.equal(await q.get(), 'ok-1');
    answerInputBoxes('"not this one"');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.editItem', edited[0])), /no longer the one shown .*nothing was replaced/);
    assert.deepEqual(await q.get(), client.tuple('fixed', 1), 'the item now first was not replaced in its stead, and stays a tuple');
    assert.equal(await q.get(), 'ok-2');
  });

  it('Activity shows the calls clients make, live; Filter Activity… narrows them; Pause stops the manager sending them', async function () {
    await startManager();
    // The view watches calls only while it shows.
    await vscode.commands.executeCommand('syncmanager.activity.focus');
    await eventually('the Activity view watches calls', () => assert.ok(api.activity.isWatching));
    await vscode.commands.executeCommand('syncmanager.clearActivity');
    const m = await connectClient('active-worker');
    const q = await m.get_task_queue();
    await q.put('job-1');
    assert.equal(await q.get(), 'job-1');
    const rows = await eventually('the put and the get show', () => {
      const shown = api.activity.shownRows();
      assert.ok(shown.some((r) => r.label === `get on get_task_queue #${q.id}`), shown.map((r) => r.label).join(', '));
      return shown;
    });
    const put = rows.find((r) => r.label === `put on get_task_queue #${q.id}`);
    assert.ok(put, 'the put shows');
    assert.match(put.description, /^active-worker · \["job-1"\] → null · [\d.]+ (µs|ms|s)$/);
    assert.ok(rows.indexOf(put) > rows.findIndex((r) => r.label.startsWith('get on')), 'newest first');
    assert.equal(api.activity.getTreeItem(put).contextValue, 'call');

    await vscode.commands.executeCommand('syncmanager.filterActivity', 'put on');
    assert.ok(api.activity.shownRows().length >= 1);
    assert.ok(api.activity.shownRows().every((r) => r.label.startsWith('put on')));
    answerInputBoxes('');
    await vscode.commands.executeCommand('syncmanager.filterActivity');
    assert.equal(api.activity.filter, undefined, 'an empty filter shows every call again');

    await vscode.commands.executeCommand('syncmanager.pauseActivity');
    assert.equal(api.activity.isPaused, true);
    assert.equal(api.activity.isWatching, false, 'paused, the view told the manager to stop');
    await q.put('while paused');
    await q.get();
    await vscode.commands.executeCommand('syncmanager.resumeActivity');
    await eventually('the Activity view watches again', () => assert.ok(api.activity.isWatching));
    await q.put('after resuming');
    await eventually('a call after resuming shows', () => assert.ok(api.activity.shownRows().some((r) => r.description.includes('after resuming'))));
    assert.ok(!api.activity.shownRows().some((r) => r.description.includes('while paused')), 'calls made while paused never show');
    await q.get();
  });

  it('gives worker terminals and new terminals the manager\'s address and authkey', async function () {
    this.timeout(60_000);
    await startManager();
    const { address, authkey } = api.controller;

    const worker = await vscode.commands.executeCommand('syncmanager.newWorkerTerminal');
    assert.ok(worker, 'New Worker Terminal returns its terminal');
    later(() => worker.dispose());
    assert.equal(worker.name, 'syncmanager worker');
    assert.deepEqual(worker.creationOptions.env, { SYNCMANAGER_ADDRESS: address, SYNCMANAGER_AUTHKEY: authkey });
    assert.equal(worker.creationOptions.cwd, vscode.workspace.workspaceFolders[0].uri.fsPath);
    assert.equal(await runInTerminal(worker, 'printf "%s %s" "$SYNCMANAGER_ADDRESS" "$SYNCMANAGER_AUTHKEY"'), `${address} ${authkey}`);

    // Any new terminal, through the extension's environment variable collection.
    const plain = vscode.window.createTerminal({ name: 'plain terminal' });
    later(() => plain.dispose());
    assert.equal(await runInTerminal(plain, 'printf "%s %s" "$SYNCMANAGER_ADDRESS" "$SYNCMANAGER_AUTHKEY"'), `${address} ${authkey}`);
  });

  it('Copy Connection Info puts a shell line on the clipboard', async function () {
    await startManager();
    replaceWindowFunction('showInformationMessage', async () => undefined);
    await vscode.commands.executeCommand('syncmanager.copyConnectionInfo');
    assert.equal(await vscode.env.clipboard.readText(), `export SYNCMANAGER_ADDRESS=${api.controller.address} SYNCMANAGER_AUTHKEY=${api.controller.authkey}`);
  });

  it('Restart Manager starts a new manager process, which still holds the queues\' items', async function () {
    await startManager();
    const before = (await api.controller.client.inspection.snapshot()).server.processId;
    const { address } = api.controller;
    const m = await connectClient('restart-worker');
    const tasks = await m.get_task_queue();
    for (const item of [1, 'two', [3]]) await tasks.put(item);
    await vscode.commands.executeCommand('syncmanager.restart');
    assert.equal(api.controller.state, 'running');
    const after = (await api.controller.client.inspection.snapshot()).server.processId;
    assert.notEqual(after, before);
    assert.equal(alive(before), false, `the old manager ${before} is gone`);
    // On the same address (the setting leaves the port free): the worker's client reconnects by itself, and its
    // proxy of the shared queue reads the items kept.
    assert.equal(api.controller.address, address, 'the same address');
    assert.deepEqual([await tasks.get(), await tasks.get(), await tasks.get(), await tasks.qsize()], [1, 'two', [3], 0]);
  });

  it('Stop Manager asks first when items are queued or clients connected: kept running on Cancel, discarded on Stop and Discard', async function () {
    this.timeout(45_000);
    await startManager();
    const m = await connectClient('stop-worker');
    const tasks = await m.get_task_queue();
    await tasks.put('queued');
    await tasks.put('queued too');
    await eventually('the manager has this client and the sidebar\'s, no other', async () => {
      assert.equal((await api.controller.client.inspection.snapshot()).sessions.length, 2);
    });
    const answers = [undefined, 'Stop and Discard'];
    const warned = replaceWindowFunction('showWarningMessage', async () => answers.shift());
    await vscode.commands.executeCommand('syncmanager.stop');
    assert.equal(warned.length, 1);
    const [message, options, ...buttons] = warned[0];
    assert.equal(message, 'Stop the syncmanager manager? 1 client is connected and 2 items are queued in 1 queue. Stopping discards what its shared objects hold and ends those connections; Restart Manager keeps the objects\' contents.');
    assert.deepEqual(options, { modal: true });
    assert.deepEqual(buttons, ['Stop and Discard']);
    assert.equal(api.controller.state, 'running', 'Cancel keeps the manager running');
    assert.equal(await tasks.qsize(), 2);
    await m.close();
    await vscode.commands.executeCommand('syncmanager.stop');
    assert.equal(warned.length, 2, 'asked again: items are still queued');
    assert.equal(api.controller.state, 'stopped');
    await startManager();
    const again = await connectClient('after-stop');
    assert.equal(await (await again.get_task_queue()).qsize(), 0, 'a start after Stop is empty');
    await again.close();
    await eventually('the manager has only the sidebar\'s session', async () => {
      assert.equal((await api.controller.client.inspection.snapshot()).sessions.length, 1);
    });
    await vscode.commands.executeCommand('syncmanager.stop');
    assert.equal(warned.length, 2, 'nothing queued and no client: stopped without asking');
    assert.equal(api.controller.state, 'stopped');
  });

  it('a manager that dies is reported with Restart and Show Log, and Restart brings one back', async function () {
    this.timeout(45_000);
    await startManager();
    const pid = (await api.controller.client.inspection.snapshot()).server.processId;
    let report;
    const reported = new Promise((resolve) => (report = resolve));
    replaceWindowFunction('showErrorMessage', async (...args) => {
      report(args);
      return 'Restart';
    });
    process.kill(pid, 'SIGKILL');
    const [message, ...buttons] = await within(reported, 10_000, 'the crash notification');
    assert.match(message, /stopped unexpectedly \(SIGKILL\)/);
    assert.deepEqual(buttons, ['Restart', 'Show Log']);
    await eventually('Restart started a new manager', async () => {
      assert.equal(api.controller.state, 'running');
      const now = (await api.controller.client.inspection.snapshot()).server.processId;
      assert.notEqual(now, pid);
    }, { timeoutMs: 20_000 });
  });

  it('Stop Manager ends the manager process and its clients\' connections, and new terminals lose the variables', async function () {
    this.timeout(45_000);
    await startManager();
    const pid = (await api.controller.client.inspection.snapshot()).server.processId;
    const m = await connectClient('seed-manager');
    // The client reconnects by default: its connection's loss is what Stop Manager causes.
    const lost = new Promise((resolve) => m.on('lost', resolve));

    const states = [];
    const subscription = api.controller.onDidChangeState((s) => states.push(s));
    later(() => subscription.dispose());
    const warned = replaceWindowFunction('showWarningMessage', async (message, options, action) => action);
    await vscode.commands.executeCommand('syncmanager.stop');
    assert.equal(warned.length, 1, 'a client is connected: Stop asked first');
    assert.deepEqual(states, ['stopping', 'stopped']);
    assert.equal(api.controller.state, 'stopped');
    assert.equal(api.controller.address, undefined);
    assert.equal(api.controller.client, undefined);
    assert.equal(alive(pid), false, `manager process ${pid} is gone`);
    await within(lost, 5_000, 'the client\'s lost event');
    assert.equal(m.connected, false);
    assert.deepEqual(await rowsOf('objects'), []);
    assert.deepEqual(await rowsOf('clients'), []);

    const plain = vscode.window.createTerminal({ name: 'after stop' });
    later(() => plain.dispose());
    assert.equal(await runInTerminal(plain, 'printf "%s" "${SYNCMANAGER_ADDRESS:-unset}"'), 'unset');
  });

  describe('attached to a manager started elsewhere', function () {
    let external;
    let address;

    before(async function () {
      if (api.controller.state !== 'stopped') await api.controller.stop();
      external = await serveExternal(['--address', '127.0.0.1:0', '--authkey', 'k', '--register', 'jobs=Queue']);
      address = external.address;
    });

    after(async function () {
      if (api.controller.state !== 'stopped') await api.controller.stop();
      if (external) await external.stop();
    });

    it('refuses a wrong authkey and stays stopped', async function () {
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.attach', address, 'wrong')), /auth/i);
      assert.equal(api.controller.state, 'stopped');
    });

    it('Attach shows its objects; Detach leaves it running', async function () {
      await vscode.commands.executeCommand('syncmanager.attach', address, 'k');
      assert.equal(api.controller.state, 'attached');
      assert.equal(api.controller.owned, false);
      assert.equal(api.controller.address, address);
      assert.ok((await rowsOf('objects')).some((r) => r.id === 'typeid:jobs'), 'the jobs typeid shows');

      const m = await client.connect({ address, authkey: 'k', name: 'job-maker' });
      later(() => m.close());
      await (await m.jobs()).put('job 1');
      await eventually('the job shows', async () => {
        const tree = await objectTree('jobs');
        assert.equal(tree.objectRow.description, 'Queue · 1 item · 1 ref');
        assert.deepEqual(tree.items.map((r) => r.label), ["'job 1'"]);
      });

      await vscode.commands.executeCommand('syncmanager.detach');
      assert.equal(api.controller.state, 'stopped');
      assert.equal(external.process.exitCode, null, 'the external manager still runs');
      const again = await client.connect({ address, authkey: 'k', name: 'after-detach' });
      later(() => again.close());
      assert.equal(await (await again.jobs()).qsize(), 1, 'its objects are untouched');
    });
  });
});
