// Helpers the extension-host suites share: bounded waits driven by the extension's events, the rows VS Code
// reads from the views, clients of the manager the extension runs, and answers to the extension's input boxes and
// notifications. `suiteHelpers(() => api, later)` binds them to a suite's extension API and cleanup list.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** @type {typeof import('../../../src/client')} */
const client = require(path.join(ROOT, 'dist', 'client.js'));

/**
 * @param {() => import('../../../src/extension/extension').SyncmanagerApi} getApi
 * @param {(cleanup: () => unknown) => void} later registers something to undo after the test
 */
function suiteHelpers(getApi, later) {
  /**
   * Runs `assertion` until it stops throwing: now, after each event of the extension (manager changes, state
   * changes, tree refreshes, document changes) and at most every 100 ms; throws its last error after `timeoutMs`.
   */
  async function eventually(what, assertion, { timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let wake = () => {};
    const events = [getApi().controller.onDidChange, getApi().controller.onDidChangeState, getApi().views.objects.onDidChangeTreeData,
      getApi().views.clients.onDidChangeTreeData, vscode.workspace.onDidChangeTextDocument];
    const subscriptions = events.map((event) => event(() => wake()));
    try {
      for (;;) {
        try {
          return await assertion();
        } catch (error) {
          if (Date.now() >= deadline) {
            error.message = `${what}: not so within ${timeoutMs} ms: ${error.message}`;
            throw error;
          }
        }
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 100);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      for (const s of subscriptions) s.dispose();
    }
  }

  /** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
  function within(promise, ms, what) {
    let timer;
    return Promise.race([promise, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    })]).finally(() => clearTimeout(timer));
  }

  /** The rows a view shows under `parent` (its roots without one), as VS Code gets them. */
  async function rowsOf(view, parent) {
    return (await getApi().views[view].getChildren(parent)) ?? [];
  }

  /** The typeid row, its (single) object row, and the object's content rows in the Objects view. */
  async function objectTree(typeid) {
    const roots = await rowsOf('objects');
    const typeidRow = roots.find((r) => r.id === `typeid:${typeid}`);
    assert.ok(typeidRow, `no typeid row ${typeid} among ${roots.map((r) => r.id).join(', ')}`);
    const objects = await rowsOf('objects', typeidRow);
    assert.equal(objects.length, 1, `${typeid}: ${objects.length} object rows`);
    return { typeidRow, objectRow: objects[0], items: await rowsOf('objects', objects[0]) };
  }

  /** Connects a client to the manager the extension runs (or is attached to); closed after the test. */
  async function connectClient(name) {
    const m = await client.connect({ address: getApi().controller.address, authkey: getApi().controller.authkey, name, timeout: 10 });
    later(() => m.close());
    return m;
  }

  /**
   * Replaces `vscode.window[name]` for this test with `fake`, which records its calls. The extension sees the
   * replacement: the extension host hands modules inside the extension's folder (this file) the extension's API
   * object. Each test asserts the fake was called, so a change there cannot make these tests pass vacuously.
   */
  function replaceWindowFunction(name, fake) {
    const original = vscode.window[name];
    const calls = [];
    vscode.window[name] = (...args) => {
      calls.push(args);
      return fake(...args);
    };
    later(() => {
      vscode.window[name] = original;
    });
    return calls;
  }

  /** Answers the extension's input boxes with `answers` in turn, checking each against the box's validateInput. */
  function answerInputBoxes(...answers) {
    const queue = [...answers];
    return replaceWindowFunction('showInputBox', async (options = {}) => {
      if (queue.length === 0) return undefined; // Escape
      const answer = queue.shift();
      const problem = options.validateInput ? await options.validateInput(answer) : undefined;
      if (problem) throw new Error(`the input box "${options.prompt}" rejects ${answer}: ${problem}`);
      return answer;
    });
  }


  return { eventually, within, rowsOf, objectTree, connectClient, replaceWindowFunction, answerInputBoxes };
}

/**
 * Things to undo after each test, last first: `later(fn)` in a test, `afterEach(runCleanups)` in the suite. A
 * cleanup that fails is logged and the others still run.
 */
function cleanupList() {
  const list = [];
  return {
    later: (fn) => list.push(fn),
    async runCleanups() {
      while (list.length) {
        try {
          await list.pop()();
        } catch (error) {
          console.log(`  cleanup: ${error.message}`);
        }
      }
    },
  };
}

/**
 * Starts a manager outside VS Code, as a user's `syncmanager serve --json ARGS` would, and resolves with the
 * process and its address once it printed its ready line (within 15 s). `stop()` ends it by its PID (SIGTERM,
 * then SIGKILL after 5 s).
 * @param {string[]} args the arguments after `serve`
 */
async function serveExternal(args) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'serve', '--json', '--no-config', ...args],
    { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ready = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the external manager did not start within 15 s: ${stderr}`)), 15_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(JSON.parse(out.split('\n')[0]));
        }
      });
      child.on('exit', (code) => reject(new Error(`the external manager exited (${code}): ${stderr}`)));
    });
    return { process: child, address: ready.address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

module.exports = { suiteHelpers, cleanupList, serveExternal, client, ROOT };
