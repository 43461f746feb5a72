/**
 * The extension as a person uses it: scripts/vscode-test/ui-run.js drives the real VS Code web workbench in
 * headless Chromium (command palette, side bar tree, welcome buttons, inline actions, input box, clipboard, status
 * bar, editor, F9, the debugger) through a first run and the seed's flow, a client putting 0..9 and
 * `node dist/examples/seed-worker.js` squaring them, then debugs a worker paused at a breakpoint, with screenshots.
 * Here it runs on the freshly built extension and its result is checked.
 *
 * The screenshots go to a temporary folder, so a test run leaves the repository alone; media/sidebar.png,
 * media/first-run.png and media/debugging.png are made by running `node scripts/vscode-test/ui-run.js` directly
 * (or set SYNCMANAGER_UI_SCREENSHOT to a path).
 * Set SYNCMANAGER_SKIP_VSCODE=1 to skip this knowingly; otherwise a missing install is a failure.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testFolder } from '../helpers/tempFolder';
import { ensureBuilt } from './build';

const root = join(__dirname, '..', '..');
const uiRun = join(root, 'scripts', 'vscode-test', 'ui-run.js');
const RUN_TIMEOUT_MS = 180_000; // the run takes 10 to 20 s here; ui-run bounds itself at 150 s
const skip = process.env.SYNCMANAGER_SKIP_VSCODE === '1' ? 'SYNCMANAGER_SKIP_VSCODE=1' : false;

before(async () => {
  if (!skip) await ensureBuilt();
});

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  assert.equal(png.toString('latin1', 1, 4), 'PNG', `${file} is not a PNG`);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('the seed flow in the real workbench: first-run welcome, palette, side bar tree, worker, Open as JSON, Put Item, Edit Value, a debug session paused at a breakpoint, screenshots', { skip, timeout: RUN_TIMEOUT_MS + 30_000 }, async (t) => {
  const dir = testFolder(t, 'ui-test');
  const shot = resolve(process.env.SYNCMANAGER_UI_SCREENSHOT || join(dir, 'sidebar.png'));
  const started = Date.now();
  const child = spawn(process.execPath, [uiRun, shot], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal); // SIGTERM: ui-run closes the workbench (its server has its own group)
    } catch {
      /* gone */
    }
  };
  const timers = [setTimeout(() => kill('SIGTERM'), RUN_TIMEOUT_MS), setTimeout(() => kill('SIGKILL'), RUN_TIMEOUT_MS + 25_000)];
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (c) => done(c));
  });
  for (const timer of timers) clearTimeout(timer);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const report = `ui-run.js exited with ${code} after ${seconds} s; its output:\n${output}`;
  assert.equal(code, 0, report);

  const line = /^ui-run: OK (.*)$/m.exec(output);
  assert.ok(line, report);
  const summary = JSON.parse(line[1]);
  const squares = Array.from({ length: 10 }, (_, i) => i * i);
  assert.deepEqual(summary.results, squares, 'the Objects tree shows the squares in order');
  assert.deepEqual(summary.json, squares, 'Open as JSON shows them');
  assert.deepEqual(summary.clients, ['vscode (this sidebar)', 'seed-manager'], 'the Clients view (the worker has left)');
  assert.match(summary.statusBar, /^syncmanager :\d+ · 1 client$/);
  assert.match(output, /Put Item… \("Item to put into get_task_queue #[0-9a-f]+-[0-9a-f]+ \(JSON\)[^"]*"\) put \{"task":10\}/, report);
  assert.match(output, /Edit Value… on \{'task': 10\} \(the box starting with \{"task":10\}\): the queue held \{"task":11\}/, report);
  assert.match(output, /stopped; status bar: "syncmanager"/, report);

  assert.deepEqual(summary.firstRun.buttons, ["Serve the Seed's Queues", 'Add Shared Queue…'], 'the first-run welcome of a manager serving nothing');
  assert.match(summary.firstRun.text, /serves nothing yet/);
  // Debugging worker.js with VS Code's JavaScript debugger (internalConsole), paused at a breakpoint on its put:
  assert.equal(summary.debug.sideBar, 'RUN AND DEBUG', 'the side bar VS Code shows at a breakpoint');
  assert.deepEqual(summary.debug.roots, ['get_task_queue', 'get_result_queue'], 'the syncmanager Objects view there');
  assert.equal(summary.debug.task, 'Queue · 2 items · 2 refs');
  assert.deepEqual(summary.debug.tasksLeft, [4, 5]);
  assert.deepEqual(summary.debug.squares, [9, 16, 25], 'the debugged worker connected and worked');

  assert.equal(summary.screenshot, shot);
  for (const extra of [summary.firstRunScreenshot, summary.debugScreenshot]) assert.deepEqual(pngSize(extra), { width: 1280, height: 800 });
  assert.deepEqual(pngSize(shot), { width: 1280, height: 800 });
  t.diagnostic(`ui-run passed in ${seconds} s; screenshot ${shot}`);
});
