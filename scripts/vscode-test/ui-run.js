#!/usr/bin/env node
// The extension as a person uses it, in the real VS Code web workbench in headless Chromium (drive.js). A first run:
// a workspace that registers nothing, with a Node worker (`worker.js`, the seed's worker) and a launch configuration
// for it. Opens the syncmanager side bar, runs "syncmanager: Start Manager" from the command palette, sees the
// first-run welcome of a manager serving nothing (a screenshot) and clicks its "Serve the Seed's Queues". Reads the
// address and authkey with "syncmanager: Copy Connection Info" (the clipboard), then runs the seed's flow against
// that manager: a client puts 0..9 into get_task_queue and a worker process, `node dist/examples/seed-worker.js`
// with SYNCMANAGER_ADDRESS/SYNCMANAGER_AUTHKEY, squares them into get_result_queue. Checks what the side bar shows
// along the way (tree rows expanded by clicks, the Clients view, the status bar), opens the results as JSON from the
// row's inline action, saves a screenshot, puts an item through the row's "Put Item…" input box and edits it through
// the item row's "Edit Value…" (its box starting with the item's JSON). Then debugs:
// opens worker.js, sets a breakpoint with F9, starts "Debug worker" with F5 (VS Code's JavaScript debugger, its default
// internalConsole: the worker connects only because the extension adds the variables to the launch), and at the
// breakpoint reads the syncmanager Objects view in Run and Debug (a screenshot). Finally stops the manager from the
// palette.
//
//   node scripts/vscode-test/ui-run.js [sidebar.png]      (default: media/sidebar.png; build first: node esbuild.js)
//
// The other screenshots go beside the first: first-run.png, activity.png (the Activity view, opened, listing the
// manager side's gets of the results) and debugging.png.
// Prints each step with its time, then `ui-run: OK {...}` (a JSON summary) and exits 0; on failure prints the
// error, saves a screenshot of the window to the temporary folder and exits 1. Bounded: SYNCMANAGER_UI_TIMEOUT_MS (default 150000) for all.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const drive = require('./drive.js');
const lib = require('./lib.js');

const ROOT = lib.REPO_ROOT;
/** The worker a user debugs: the seed's worker in JavaScript, with no address or authkey of its own. */
const WORKER = `const { connect } = require('syncmanager/client');

async function main() {
  // No address or authkey here: a debug session started in VS Code
  // gets SYNCMANAGER_ADDRESS and SYNCMANAGER_AUTHKEY from syncmanager.
  const m = await connect({ name: 'debugged-worker' });
  const task = await m.get_task_queue();
  const result = await m.get_result_queue();
  for (;;) {
    const n = await task.get({ timeout: 1 }).catch(() => undefined);
    if (n === undefined) break;
    const square = n * n;
    await result.put(square);
  }
  await m.close();
}

main();
`;
/** The line of \`await result.put(square)\`, where the breakpoint goes. */
const BREAKPOINT_LINE = WORKER.split('\n').findIndex((l) => l.includes('await result.put(square)')) + 1;
const LAUNCH = { version: '0.2.0', configurations: [{ type: 'node', request: 'launch', name: 'Debug worker', program: '${workspaceFolder}/worker.js' }] };
const SQUARES = Array.from({ length: 10 }, (_, i) => i * i);

const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

/** Polls `read` every 200 ms until it returns something other than undefined; bounded. */
async function until(what, read, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
    await lib.sleep(200);
  }
}

/** Rows of the Objects view under the row labelled `parent` (the rows right after it, one level deeper). */
async function childrenOf(page, parent, view = 'Objects') {
  const rows = await drive.readTreeRows(page, { view });
  const at = rows.findIndex((r) => r.label === parent);
  if (at < 0) return undefined;
  const out = [];
  for (const r of rows.slice(at + 1)) {
    if (r.level <= rows[at].level) break;
    if (r.level === rows[at].level + 1) out.push(r);
  }
  return out;
}

/** Runs the seed's worker with the manager's address and authkey; resolves with its output once it exits 0. */
function runSeedWorker(address, authkey) {
  return new Promise((resolve, reject) => {
    const worker = spawn(process.execPath, [path.join(ROOT, 'dist', 'examples', 'seed-worker.js')], {
      env: { ...process.env, SYNCMANAGER_ADDRESS: address, SYNCMANAGER_AUTHKEY: authkey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    worker.stdout.on('data', (d) => (output += d));
    worker.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      worker.kill('SIGKILL');
      reject(new Error(`the seed worker did not finish within 30 s:\n${output}`));
    }, 30_000);
    worker.on('error', reject);
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`the seed worker exited with ${code}:\n${output}`));
    });
  });
}

async function main() {
  const shot = path.resolve(process.argv[2] || path.join(ROOT, 'media', 'sidebar.png'));
  for (const f of ['extension.js', 'cli.js', 'client.js', 'examples/seed-worker.js']) {
    if (!fs.existsSync(path.join(ROOT, 'dist', f))) throw new Error(`dist/${f} is missing: run node esbuild.js`);
  }
  const { connect } = require(path.join(ROOT, 'dist', 'client.js'));

  const shotBeside = (name) => path.join(path.dirname(shot), name);
  // A workspace named like the example it runs, registering nothing yet (a first run), with a worker to debug. The
  // worker finds the client library as an installed package would be found: node_modules/syncmanager.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-ui-'));
  const folder = path.join(tmp, 'seed');
  fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  fs.mkdirSync(path.join(folder, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(folder, 'node_modules', 'syncmanager'), 'dir');
  fs.writeFileSync(path.join(folder, 'worker.js'), WORKER);
  fs.writeFileSync(path.join(folder, '.vscode', 'launch.json'), `${JSON.stringify(LAUNCH, null, 2)}\n`);

  const summary = {};
  let wb;
  let client;
  try {
    wb = current.wb = await drive.openWorkbench({
      extensionPath: ROOT,
      folder,
      viewport: { width: 1280, height: 800 },
      // Quiet for the picture: no minimap, breadcrumbs, line highlight or bracket box in the JSON document.
      settings: {
        'editor.minimap.enabled': false, 'breadcrumbs.enabled': false, 'workbench.editor.enablePreview': false,
        'editor.renderLineHighlight': 'none', 'editor.matchBrackets': 'never', 'editor.guides.indentation': false,
      },
    });
    const { page } = wb;
    step('workbench open');

    await drive.openViewContainer(page, 'syncmanager');
    const width = await drive.setSideBarWidth(page, 440);
    const welcome = await until('the welcome view', async () => (await drive.readViewMessages(page)).find((m) => m.view.toLowerCase() === 'objects' && /No manager is running/.test(m.text)));
    step(`side bar shown (${width} px): "${welcome.text.split('\n')[0]}" [${welcome.buttons.join(', ')}]`);
    if (!welcome.buttons.includes('Start Manager')) throw new Error(`the welcome view offers ${welcome.buttons.join(', ')}, not Start Manager`);

    await drive.runCommand(page, 'syncmanager: Start Manager');
    const status = await until('the status bar shows the manager', async () => (await drive.readStatusBar(page)).find((i) => /^syncmanager :\d+/.test(i.text)));
    step(`manager started; status bar: "${status.text}"`);

    // A first run: the manager serves nothing yet, and the view says what to do.
    const firstRun = await until('the first-run welcome', async () => (await drive.readViewMessages(page)).find((m) => m.view.toLowerCase() === 'objects' && /serves nothing yet/.test(m.text)));
    summary.firstRun = { text: firstRun.text.split('\n')[0], buttons: firstRun.buttons };
    step(`first-run welcome: "${summary.firstRun.text}" [${firstRun.buttons.join(', ')}]`);
    await page.mouse.move(900, 700);
    await until('no notification toasts', async () => ((await drive.readNotifications(page)).length === 0 ? true : undefined), 10_000);
    summary.firstRunScreenshot = await drive.screenshot(page, shotBeside('first-run.png'));
    step(`screenshot: ${summary.firstRunScreenshot}`);
    await drive.clickWelcomeButton(page, 'Objects', "Serve the Seed's Queues");
    const seeded = await until('the seed\'s queues in the Objects view', async () => {
      const rows = await drive.readTreeRows(page, { view: 'Objects' });
      return rows.some((r) => r.label === 'get_task_queue') && rows.some((r) => r.label === 'get_result_queue') ? rows : undefined;
    });
    step(`Serve the Seed's Queues: ${seeded.map((r) => `${r.label} (${r.description})`).join(', ')}`);

    await drive.runCommand(page, 'syncmanager: Copy Connection Info');
    const copied = await until('the connection info on the clipboard', async () => {
      const text = await drive.readClipboard(page);
      return /^export SYNCMANAGER_ADDRESS=\S+ SYNCMANAGER_AUTHKEY=\S+$/.test(text) ? text : undefined;
    });
    const address = /SYNCMANAGER_ADDRESS=(\S+)/.exec(copied)[1];
    const authkey = /SYNCMANAGER_AUTHKEY=(\S+)/.exec(copied)[1];
    const port = /:(\d+)$/.exec(address)[1];
    if (!status.text.startsWith(`syncmanager :${port} `)) throw new Error(`the status bar "${status.text}" does not show port ${port} of ${address}`);
    step(`clipboard: export SYNCMANAGER_ADDRESS=${address} SYNCMANAGER_AUTHKEY=<${authkey.length} chars>`);
    summary.address = address;

    // The seed's manager side: ten tasks.
    client = await connect({ address, authkey, name: 'seed-manager' });
    const tasks = await client.get_task_queue();
    const results = await client.get_result_queue();
    for (let i = 0; i < 10; i++) await tasks.put(i);
    step('seed-manager put 0..9 into get_task_queue');

    await drive.expandRow(page, 'get_task_queue', { view: 'Objects' });
    // The row is there before the puts (a typeid's shared object is shown while nobody holds it):
    // wait for the refresh that shows them, rather than read the row once.
    const taskObject = await until('the task queue object row with the ten tasks', async () =>
      (await childrenOf(page, 'get_task_queue')).find((r) => /^get_task_queue #[0-9a-f]+-[0-9a-f]+$/.test(r.label) && /^Queue · 10 items · 1 ref$/.test(r.description)),
    );
    await drive.expandRow(page, taskObject.label, { view: 'Objects' });
    const taskItems = await until('the ten tasks', async () => {
      const rows = await childrenOf(page, taskObject.label);
      return rows.length === 10 ? rows : undefined;
    });
    if (taskItems.map((r) => r.label).join(',') !== '0,1,2,3,4,5,6,7,8,9') throw new Error(`task rows: ${taskItems.map((r) => r.label)}`);
    if (!taskItems[0].description.startsWith('next · [0]')) throw new Error(`first task row: "${taskItems[0].description}"`);
    step(`Objects: ${taskObject.label} "${taskObject.description}", rows ${taskItems.map((r) => r.label).join(' ')}`);

    // The seed's worker, as a terminal would run it.
    const workerOutput = await runSeedWorker(address, authkey);
    if (!/worker exit/.test(workerOutput)) throw new Error(`the worker said:\n${workerOutput}`);
    step(`seed worker finished: ${workerOutput.trim().split('\n').length} lines, last "${workerOutput.trim().split('\n').pop()}"`);

    await until('the task queue empties in the tree', async () => {
      const rows = await childrenOf(page, 'get_task_queue');
      return rows[0] && rows[0].description === 'Queue · 0 items · 1 ref' ? true : undefined;
    });
    await drive.expandRow(page, taskObject.label, { view: 'Objects', expand: false });
    await drive.expandRow(page, 'get_result_queue', { view: 'Objects' });
    const resultObject = await until('the result queue object row', async () => {
      const row = (await childrenOf(page, 'get_result_queue')).find((r) => /^get_result_queue #[0-9a-f]+-[0-9a-f]+$/.test(r.label));
      return row && row.description === 'Queue · 10 items · 1 ref' ? row : undefined;
    });
    await drive.expandRow(page, resultObject.label, { view: 'Objects' });
    const resultItems = await until('the ten squares', async () => {
      const rows = await childrenOf(page, resultObject.label);
      return rows.length === 10 && rows.map((r) => Number(r.label)).join(',') === SQUARES.join(',') ? rows : undefined;
    });
    summary.results = resultItems.map((r) => Number(r.label));
    step(`Objects: ${resultObject.label} "${resultObject.description}", rows ${summary.results.join(' ')}`);

    const clients = await until('the Clients view', async () => {
      const rows = await drive.readTreeRows(page, { view: 'Clients' });
      return rows.some((r) => r.label === 'seed-manager') && !rows.some((r) => r.label === 'seed-worker') ? rows : undefined;
    });
    summary.clients = clients.map((r) => r.label);
    step(`Clients: ${clients.map((r) => `${r.label} (${r.description})`).join('; ')}`);
    await drive.expandRow(page, 'seed-manager', { view: 'Clients' });
    const held = await until('the objects seed-manager holds', async () => {
      const rows = await childrenOf(page, 'seed-manager', 'Clients');
      return rows && rows.length === 2 ? rows.map((r) => r.label) : undefined;
    });
    if (held.join(',') !== `${taskObject.label},${resultObject.label}`) throw new Error(`seed-manager holds ${held}`);
    step(`Clients: seed-manager holds ${held.join(', ')}`);
    summary.statusBar = (await drive.readStatusBar(page)).find((i) => /^syncmanager :/.test(i.text)).text;
    if (summary.statusBar !== `syncmanager :${port} · 1 client`) throw new Error(`status bar: "${summary.statusBar}"`);

    // Open as JSON, from the result queue row's inline action: the document beside the tree.
    await drive.clickRowAction(page, resultObject.label, 'Open as JSON', { view: 'Objects' });
    const json = await until('the JSON document', async () => {
      const text = await page.locator('.editor-instance .view-lines').first().innerText({ timeout: 2_000 });
      const compact = text.replace(/\s+/g, '');
      return compact === JSON.stringify(SQUARES) ? text : undefined;
    });
    summary.json = JSON.parse(json.replace(/\u00a0/g, ' '));
    step(`Open as JSON shows ${JSON.stringify(summary.json)}`);

    // The picture: no toasts, nothing hovered or focused in the tree.
    await page.keyboard.press('Escape');
    await drive.runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
    await page.mouse.move(900, 700);
    await until('no notification toasts', async () => ((await drive.readNotifications(page)).length === 0 ? true : undefined), 10_000);
    summary.screenshot = await drive.screenshot(page, shot);
    step(`screenshot: ${path.relative(process.cwd(), shot) || shot}`);

    // Put Item… through its real input box, from the task queue row's inline action.
    await drive.clickRowAction(page, taskObject.label, 'Put Item…', { view: 'Objects' });
    const { prompt } = await drive.answerInputBox(page, '{"task": 10}');
    // Edit Value… on the item's row: its box starts with the item's JSON, and the edit replaces the item in its place.
    await drive.expandRow(page, taskObject.label, { view: 'Objects' });
    const putRow = await until('the put item\'s row', async () => (await childrenOf(page, taskObject.label))?.find((r) => r.label === "{'task': 10}"));
    await drive.clickRowAction(page, putRow.label, 'Edit Value…', { view: 'Objects' });
    // The quick input is one widget, reused: until the Edit Value… box opens it still holds the Put Item… answer.
    let shown;
    const startedWith = await until('the Edit Value… box starting with the item\'s JSON', async () => {
      shown = await page.locator('.quick-input-widget input.input').inputValue({ timeout: 1_000 });
      return shown === '{"task":10}' ? shown : undefined;
    }).catch(() => {
      throw new Error(`Edit Value… started with ${shown}`);
    });
    step(`Put Item… ("${prompt}") put ${startedWith}`);
    await drive.answerInputBox(page, '{"task": 11}');
    await until('the edited item\'s row', async () => ((await childrenOf(page, taskObject.label))?.some((r) => r.label === "{'task': 11}") ? true : undefined));
    const put = await until('the edited item in the queue', async () => ((await tasks.qsize()) === 1 ? tasks.getNowait() : undefined));
    if (JSON.stringify(put) !== '{"task":11}') throw new Error(`the queue held ${JSON.stringify(put)} after Edit Value…`);
    step(`Edit Value… on ${putRow.label} (the box starting with ${startedWith}): the queue held ${JSON.stringify(put)}`);
    await drive.expandRow(page, taskObject.label, { view: 'Objects', expand: false });

    // The Activity view, shown, watches calls: the seed's manager side reads its results, as manager.py does.
    await drive.runCommand(page, 'Focus on Activity View');
    await until('the Activity view', async () => ((await page.locator('.pane-header .title', { hasText: /^Activity$/ }).count()) > 0 ? true : undefined));
    // Once the view shows, the extension asks the manager for calls: a probe call seen in the view proves the watch is on.
    await until('a probe call in the Activity view', async () => {
      await tasks.qsize();
      const rows = await drive.readTreeRows(page, { view: 'Activity' });
      return rows.some((r) => /^qsize on get_task_queue/.test(r.label)) ? true : undefined;
    });
    const got = [];
    for (let i = 0; i < 10; i++) got.push(await results.get({ timeout: 5 }));
    if (got.join(',') !== SQUARES.join(',')) throw new Error(`results: ${got}`);
    const activity = await until('the gets in the Activity view', async () => {
      const rows = (await drive.readTreeRows(page, { view: 'Activity' })).filter((r) => /^get on get_result_queue/.test(r.label));
      return rows.length >= 3 ? rows : undefined;
    });
    summary.activity = activity.map((r) => `${r.label} ${r.description}`);
    step(`Activity: ${summary.activity.slice(0, 3).join('; ')}`);
    await page.mouse.move(900, 700);
    summary.activityScreenshot = await drive.screenshot(page, shotBeside('activity.png'));
    step(`screenshot: ${summary.activityScreenshot}`);

    // Debugging the worker: three tasks, a breakpoint on its put, the launch configuration started from the palette.
    for (const n of [3, 4, 5]) await tasks.put(n);
    await drive.openFileAtLine(page, 'worker.js', BREAKPOINT_LINE);
    await page.keyboard.press('F9');
    await page.locator('.editor-instance .codicon-debug-breakpoint').first().waitFor({ timeout: 10_000 });
    step(`worker.js: breakpoint on line ${BREAKPOINT_LINE} (F9)`);
    // F5 in the editor, once: a palette command retried after a slow close could start a second session.
    await page.keyboard.press('F5');
    await drive.waitForPause(page, { timeoutMs: 60_000 });
    step('paused at the breakpoint');
    const debugView = 'syncmanager Objects';
    const debugRows = await until('the syncmanager Objects view in Run and Debug', async () => {
      const rows = await drive.readTreeRows(page, { view: debugView });
      return rows.some((r) => r.label === 'get_task_queue') ? rows : undefined;
    });
    const sideBarTitle = (await page.locator('.part.sidebar .composite.title h2').first().innerText()).trim();
    await drive.expandRow(page, 'get_task_queue', { view: debugView });
    const pausedTask = await until('the task queue while paused', async () => {
      const rows = await drive.readTreeRows(page, { view: debugView });
      return rows.find((r) => /^get_task_queue #[0-9a-f]+-[0-9a-f]+$/.test(r.label) && r.description === 'Queue · 2 items · 2 refs');
    });
    await drive.expandRow(page, pausedTask.label, { view: debugView });
    const pausedItems = await until('the tasks left while paused', async () => {
      const rows = await childrenOf(page, pausedTask.label, debugView);
      return rows && rows.length === 2 ? rows.map((r) => r.label) : undefined;
    });
    if (pausedItems.join(',') !== '4,5') throw new Error(`tasks left while paused: ${pausedItems}`);
    await page.mouse.move(900, 700);
    summary.debugScreenshot = await drive.screenshot(page, shotBeside('debugging.png'));
    step(`screenshot: ${summary.debugScreenshot}`);
    await drive.expandRow(page, 'get_result_queue', { view: debugView });
    const pausedResult = await until('the result queue while paused', async () => {
      const rows = await drive.readTreeRows(page, { view: debugView });
      return rows.find((r) => /^get_result_queue #[0-9a-f]+-[0-9a-f]+$/.test(r.label) && r.description === 'Queue · 0 items · 2 refs');
    });
    summary.debug = { sideBar: sideBarTitle, view: debugView, roots: debugRows.filter((r) => r.level === 1).map((r) => r.label), task: pausedTask.description, tasksLeft: pausedItems.map(Number), result: pausedResult.description };
    step(`paused: side bar "${sideBarTitle}", ${debugView}: ${pausedTask.label} "${pausedTask.description}", ${pausedResult.label} "${pausedResult.description}"`);
    // The breakpoint off again (F9 on its line, where the cursor still is), and on.
    await page.locator('.editor-instance .monaco-editor textarea').first().focus({ timeout: 5_000 });
    await page.keyboard.press('F9');
    await page.locator('.editor-instance .codicon-debug-breakpoint').first().waitFor({ state: 'detached', timeout: 10_000 });
    await drive.runCommand(page, 'Debug: Continue');
    const debugged = [];
    for (let i = 0; i < 3; i++) debugged.push(await results.get({ timeout: 10 }));
    if (debugged.join(',') !== '9,16,25') throw new Error(`the debugged worker put ${debugged}`);
    summary.debug.squares = debugged;
    step(`the debugged worker put ${debugged.join(', ')}`);
    await client.close();
    client = undefined;

    await drive.openViewContainer(page, 'syncmanager');
    // Stop Manager asks first while a client is connected (a dialog the test workbench refuses to show):
    // wait until the debugged worker's connection is gone.
    await until('no client connected', async () => {
      const item = (await drive.readStatusBar(page)).find((i) => /^syncmanager/.test(i.text));
      return item && / 0 clients$/.test(item.text) ? item : undefined;
    });
    await drive.runCommand(page, 'syncmanager: Stop Manager');
    const stopped = await until('the status bar shows no manager', async () => {
      const item = (await drive.readStatusBar(page)).find((i) => /^syncmanager/.test(i.text));
      return item && item.text === 'syncmanager' ? item : undefined;
    });
    await until('the welcome view again', async () => (await drive.readViewMessages(page)).find((m) => m.view.toLowerCase() === 'objects' && /No manager is running/.test(m.text)));
    step(`stopped; status bar: "${stopped.text}"`);
    console.log(`ui-run: OK ${JSON.stringify(summary)}`);
  } catch (error) {
    if (wb) {
      const failed = path.join(os.tmpdir(), `syncmanager-ui-failed-${process.pid}.png`);
      await drive.screenshot(wb.page, failed).then((f) => console.error(`ui-run: screenshot of the failure: ${f}`), () => {});
      const notable = wb.consoleLines().filter((l) => /^(ERR|WARN)|syncmanager/i.test(l)).slice(-20);
      if (process.env.SYNCMANAGER_VSCODE_VERBOSE !== '1') console.error(`ui-run: workbench console, errors and warnings (last 20):\n${notable.join('\n')}`);
    }
    throw error;
  } finally {
    if (client) await client.close().catch(() => {});
    if (wb) await wb.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The open workbench, for the watchdog and signal handlers: its VS Code server runs in a process group of its own. */
const current = { wb: undefined };
async function abort(message) {
  console.error(`ui-run: ${message}`);
  if (current.wb) await lib.withTimeout(current.wb.close(), 20_000, 'closing the workbench').catch(() => {});
  process.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void abort(`${signal}: stopping`));

const limit = Number(process.env.SYNCMANAGER_UI_TIMEOUT_MS || 150_000);
const watchdog = setTimeout(() => void abort(`no result within ${limit} ms (SYNCMANAGER_UI_TIMEOUT_MS)`), limit);
main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (error) => {
    console.error(`ui-run: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
