// Debugging with a manager running: VS Code's built-in JavaScript debugger (ms-vscode.js-debug, type `node`)
// launches a worker in `internalConsole` mode, VS Code's default, where terminals' environment does not reach; the
// extension's debug configuration provider must give it SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY. And while the
// worker is paused, the syncmanager views are in the Run and Debug side bar.
//
// The worker (written to a temporary folder for each test) records the variables it got into a file named by its
// first argument, then connects with them and puts a marker into get_result_queue: the test reads the marker from
// the manager, so a worker that did not connect fails the test. Every wait is bounded.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'syncmanager.syncmanager';
const { suiteHelpers, ROOT, cleanupList } = require('./helpers');

const WORKER = `
const fs = require('node:fs');
const { connect } = require(${JSON.stringify(path.join(ROOT, 'dist', 'client.js'))});
const [out, marker, pause] = process.argv.slice(2);
fs.writeFileSync(out, JSON.stringify({ address: process.env.SYNCMANAGER_ADDRESS ?? null, authkey: process.env.SYNCMANAGER_AUTHKEY ?? null, argv: process.argv.slice(2) }));
(async () => {
  if (!process.env.SYNCMANAGER_ADDRESS) throw new Error('no manager address');
  const m = await connect({ name: 'debugged-worker', timeout: 10 });
  try {
    if (pause === 'pause') debugger; // the test checks the side bar here
    await (await m.get_result_queue()).put(marker);
  } finally {
    await m.close(); // an open connection would keep the debuggee, and the session, running
  }
})().catch((error) => {
  console.error('worker: ' + error.message);
  process.exitCode = 1;
});
`;

describe('debugging a worker (js-debug, internalConsole)', function () {
  // Starting a debuggee under js-debug takes a second or two here, far longer on a loaded machine.
  this.timeout(180_000);

  /** @type {import('../../../src/extension/extension').SyncmanagerApi} */
  let api;
  const { later, runCleanups } = cleanupList();
  const { within, connectClient } = suiteHelpers(() => api, later);

  before(async function () {
    const jsDebug = vscode.extensions.getExtension('ms-vscode.js-debug');
    assert.ok(jsDebug, `VS Code's built-in JavaScript debugger is not here: ${vscode.extensions.all.map((e) => e.id).join(', ')}`);
    console.log(`  js-debug ${jsDebug.packageJSON.version} (built in: ${jsDebug.extensionPath})`);
    api = await vscode.extensions.getExtension(EXTENSION_ID).activate();
    if (api.controller.state !== 'stopped') await api.controller.stop();
    await vscode.commands.executeCommand('syncmanager.start');
  });

  afterEach(runCleanups);

  after(async function () {
    if (api && api.controller.state !== 'stopped') await api.controller.stop();
  });

  /** A worker file in a fresh folder, and the file it writes what it saw into. */
  function writeWorker() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-debug-'));
    later(() => fs.rmSync(dir, { recursive: true, force: true }));
    const program = path.join(dir, 'worker.js');
    fs.writeFileSync(program, WORKER);
    return { program, out: path.join(dir, 'seen.json') };
  }

  /**
   * Starts `config` with VS Code's debugger, records the debug console's output (a tracker), and resolves once the
   * session has ended; `onStopped` runs while the debuggee is paused and the session then continues.
   */
  async function debug(config, { onStopped } = {}) {
    const output = [];
    let sessionId;
    let stopped;
    const whenStopped = new Promise((resolve) => (stopped = resolve));
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      // js-debug runs the process in a child session of the one started here: its output and pauses come there.
      createDebugAdapterTracker: (session) => [session, session.parentSession].some((s) => s && s.configuration.name === config.name) ? {
        onDidSendMessage: (message) => {
          if (message.type === 'event' && message.event === 'output') output.push(message.body.output);
          if (message.type === 'event' && message.event === 'stopped') stopped({ session, threadId: message.body.threadId });
        },
      } : undefined,
    });
    later(() => tracker.dispose());
    const ended = new Promise((resolve) => {
      const subscription = vscode.debug.onDidTerminateDebugSession((session) => {
        if (session.id === sessionId || session.configuration.name === config.name) {
          subscription.dispose();
          resolve();
        }
      });
      later(() => subscription.dispose());
    });
    const watch = vscode.debug.onDidStartDebugSession((session) => {
      if (session.configuration.name === config.name) sessionId ??= session.id;
    });
    later(() => watch.dispose());
    const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders[0], config);
    assert.equal(started, true, `the debug session ${config.name} did not start`);
    if (onStopped) {
      const { session, threadId } = await within(whenStopped, 60_000, 'the debuggee pausing');
      await onStopped();
      await session.customRequest('continue', { threadId });
    }
    await within(ended, 60_000, `the debug session ${config.name} ending (output: ${output.join('')})`);
    return output.join('');
  }

  /** The next item of get_result_queue, taken by a client of our own (within 10 s). */
  async function nextResult() {
    const m = await connectClient('debug-test');
    return (await m.get_result_queue()).get({ timeout: 10 });
  }

  function nodeLaunch(name, program, args, extra = {}) {
    return { type: 'node', request: 'launch', name, program, args, console: 'internalConsole', ...extra };
  }

  it('a Node launch in internalConsole mode gets the manager\'s address and authkey, and its worker connects', async function () {
    const { program, out } = writeWorker();
    const output = await debug(nodeLaunch('syncmanager: internalConsole worker', program, [out, 'hello from the debugger']));
    const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual({ address: seen.address, authkey: seen.authkey }, { address: api.controller.address, authkey: api.controller.authkey }, output);
    assert.equal(await nextResult(), 'hello from the debugger', `the worker put its marker (debug console: ${output})`);
  });

  it('values the launch configuration sets itself win', async function () {
    const { program, out } = writeWorker();
    await debug(nodeLaunch('syncmanager: own address', program, [out, 'unused'], { env: { SYNCMANAGER_ADDRESS: '127.0.0.1:1', OTHER: 'kept' } }));
    const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(seen.address, '127.0.0.1:1', 'the configuration\'s own address');
    assert.equal(seen.authkey, api.controller.authkey, 'what it did not set is added');
  });

  it('${command:syncmanager.address} and ${command:syncmanager.authkey} give the connection to configurations that ask', async function () {
    const { program, out } = writeWorker();
    await debug(nodeLaunch('syncmanager: command variables', program, [out, 'from command variables', 'run', '${command:syncmanager.address}', '${command:syncmanager.authkey}']));
    const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(seen.argv.slice(3), [api.controller.address, api.controller.authkey]);
    assert.equal(await nextResult(), 'from command variables');
  });

  it('with syncmanager.debug.addEnvironment off, launches get nothing (and the worker cannot connect)', async function () {
    const config = vscode.workspace.getConfiguration('syncmanager');
    await config.update('debug.addEnvironment', false, vscode.ConfigurationTarget.Workspace);
    later(() => config.update('debug.addEnvironment', undefined, vscode.ConfigurationTarget.Workspace));
    const { program, out } = writeWorker();
    const output = await debug(nodeLaunch('syncmanager: turned off', program, [out, 'unused']));
    const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual({ address: seen.address, authkey: seen.authkey }, { address: null, authkey: null });
    assert.match(output, /worker: no manager address/);
  });

  it('while the worker is paused in the debugger, the Objects view is in sight in Run and Debug and shows the queues', async function () {
    const { program, out } = writeWorker();
    const debugView = api.treeViews.debugObjects;
    await debug(nodeLaunch('syncmanager: paused worker', program, [out, 'after the pause', 'pause']), {
      onStopped: async () => {
        // VS Code opens Run and Debug at a breakpoint (debug.openDebug: openOnDebugBreak); the extension expands the view there.
        if (!debugView.visible) {
          await within(new Promise((resolve) => {
            const subscription = debugView.onDidChangeVisibility((e) => e.visible && resolve(subscription.dispose()));
            later(() => subscription.dispose());
          }), 10_000, 'the view becoming visible').catch(() => {});
        }
        assert.equal(debugView.visible, true, 'the syncmanager Objects view is visible while paused');
        const roots = await api.views.objects.getChildren();
        assert.ok(roots.some((r) => r.id === 'typeid:get_result_queue'), roots.map((r) => r.id).join(', '));
      },
    });
    assert.equal(await nextResult(), 'after the pause');
  });
});
