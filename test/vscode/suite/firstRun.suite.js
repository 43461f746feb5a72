// A user's first run: a manager that serves nothing yet, the first-run actions that register the seed's queues or a
// shared queue of the user's naming, served by the running manager at once (a client connected before reaches
// them, and nothing already queued is lost), and a prompt to restart when a typeid changes type.
//
// The workspace's syncmanager.register starts as the seed's queues (fixtures/workspace); these tests set it to
// nothing first and put it back after. runTests.js opens a copy of the workspace, so even a run killed midway
// leaves the repository's fixture as it was.
const assert = require('node:assert/strict');
const vscode = require('vscode');
const { suiteHelpers, cleanupList } = require('./helpers');

const EXTENSION_ID = 'syncmanager.syncmanager';

describe('first run: a manager with nothing registered', function () {
  this.timeout(30_000);

  /** @type {import('../../../src/extension/extension').SyncmanagerApi} */
  let api;
  let original;
  const { later, runCleanups } = cleanupList();
  const { eventually, rowsOf, connectClient, replaceWindowFunction, answerInputBoxes } = suiteHelpers(() => api, later);
  const config = () => vscode.workspace.getConfiguration('syncmanager');
  const managerPid = async () => (await api.controller.client.inspection.snapshot()).server.processId;

  before(async function () {
    api = await vscode.extensions.getExtension(EXTENSION_ID).activate();
    if (api.controller.state !== 'stopped') await api.controller.stop();
    original = config().inspect('register').workspaceValue;
    await config().update('register', {}, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('syncmanager.start');
  });

  afterEach(runCleanups);

  after(async function () {
    if (api && api.controller.state !== 'stopped') await api.controller.stop();
    await config().update('register', original, vscode.ConfigurationTarget.Workspace);
  });

  it('shows nothing (so the view shows its first-run welcome), and a worker asking for the seed\'s queue is told what is served', async function () {
    assert.equal(api.controller.state, 'running');
    assert.deepEqual(await rowsOf('objects'), [], 'no typeid rows: the welcome content shows');
    const worker = await connectClient('too-early-worker');
    await assert.rejects(worker.get_task_queue(), (error) => {
      assert.equal(error.name, 'UnknownTypeidError');
      assert.match(error.message, new RegExp(`^the manager at ${api.controller.address.replace(/\./g, '\\.')} serves no typeid "get_task_queue"; it serves the built-in typeids \\(Queue, `));
      return true;
    });
  });

  it('Serve the Seed\'s Queues adds them to the setting and the running manager serves them at once', async function () {
    const pid = await managerPid();
    const worker = await connectClient('early-worker'); // connected before the queues exist
    await vscode.commands.executeCommand('syncmanager.serveSeedQueues');
    assert.deepEqual(config().get('register'), { get_task_queue: 'Queue', get_result_queue: 'Queue' });
    assert.equal(await managerPid(), pid, 'the same manager, not a restart');
    const tasks = await worker.get_task_queue();
    await tasks.put(7);
    await eventually('the queues show in the Objects view', async () => {
      assert.deepEqual((await rowsOf('objects')).map((r) => r.label), ['get_task_queue', 'get_result_queue']);
    });
    assert.equal(await tasks.get(), 7);
  });

  it('Add Shared Queue… asks for a name and a kind, and the queue is served at once; items already queued stay', async function () {
    const pid = await managerPid();
    const worker = await connectClient('worker');
    const tasks = await worker.get_task_queue();
    await tasks.put('kept');
    const asked = answerInputBoxes('9bad', 'jobs');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('syncmanager.addSharedQueue')), /rejects 9bad: letters, digits/);
    const picked = replaceWindowFunction('showQuickPick', async (items) => (await items).find((i) => i.label === 'LifoQueue'));
    await vscode.commands.executeCommand('syncmanager.addSharedQueue');
    assert.equal(asked.length, 2);
    assert.equal(picked.length, 1);
    assert.equal(config().get('register').jobs, 'LifoQueue');
    assert.equal(await managerPid(), pid);
    const jobs = await worker.jobs();
    await jobs.put(1);
    await jobs.put(2);
    assert.equal(await jobs.get(), 2, 'a LifoQueue');
    assert.equal(await tasks.get(), 'kept', 'nothing queued was lost');
  });

  it('a typeid changed in the setting prompts a restart, which serves it as it now says and keeps what the other queues hold', async function () {
    const pid = await managerPid();
    const worker = await connectClient('before-the-restart');
    const tasks = await worker.get_task_queue();
    for (const item of ['first', 'second', 'third']) await tasks.put(item);
    await (await worker.jobs()).put('in a LifoQueue, which is a Queue after the restart');
    let answer;
    const prompted = new Promise((resolve) => (answer = resolve));
    const warnings = replaceWindowFunction('showWarningMessage', async (...args) => {
      answer(args);
      return 'Restart Manager';
    });
    await config().update('register', { ...config().get('register'), jobs: 'Queue' }, vscode.ConfigurationTarget.Workspace);
    const [message, ...buttons] = await prompted;
    assert.match(message, /^syncmanager\.register: jobs changed\. The running manager serves them as before until it restarts; a restart keeps what the shared objects hold \(one whose type changed starts empty, its old contents kept in the state file\)\.$/);
    assert.deepEqual(buttons, ['Restart Manager', 'Later']);
    assert.equal(warnings.length, 1);
    await eventually('a new manager serves jobs as a Queue', async () => {
      assert.equal(api.controller.state, 'running');
      assert.notEqual(await managerPid(), pid);
      const jobs = (await api.controller.client.inspection.snapshot()).typeids.find((t) => t.typeid === 'jobs');
      assert.equal(jobs && jobs.builtin, 'Queue');
    }, { timeoutMs: 20_000 });
    // The task queue's items came through the restart, in order.
    const after = await connectClient('after-the-restart');
    const restored = await after.get_task_queue();
    assert.deepEqual([await restored.get(), await restored.get(), await restored.get(), await restored.qsize()], ['first', 'second', 'third', 0]);
    assert.equal(await (await after.jobs()).qsize(), 0, 'jobs changed type: it starts empty');
  });
});
