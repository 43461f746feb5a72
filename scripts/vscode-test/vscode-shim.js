#!/usr/bin/env node
// Stands in for the VS Code executable, so `@vscode/test-electron`'s runTests({ vscodeExecutablePath }) works on
// machines where VS Code cannot be downloaded. It takes the arguments runTests passes
//   --extensionTestsPath=P  --extensionDevelopmentPath=P  [--extensions-dir=D] [--user-data-dir=D]  [folder]
// (other flags are ignored), starts the real VS Code server shipped in code-server's npm package, opens its web
// workbench in headless Chromium with the development/tests payload, prints what the extension host logs, and
// exits with the test result: 0 when the tests passed, 1 otherwise (failure, timeout, crash).
//
// Environment (see also lib.js):
//   SYNCMANAGER_VSCODE_VSIX        install this .vsix first (server-main.js --install-extension) and test the
//                                  installed extension: the development path is then not loaded
//   SYNCMANAGER_VSCODE_TIMEOUT_MS  how long the tests may take once the workbench loads (default 180000)
//   SYNCMANAGER_VSCODE_VERBOSE=1   also print the server's output and every workbench console message
//   SYNCMANAGER_VSCODE_KEEP=1      keep the temporary folder (profiles, logs) and print its path
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const lib = require('./lib.js');

const verbose = process.env.SYNCMANAGER_VSCODE_VERBOSE === '1';
const say = (...a) => console.error('vscode-shim:', ...a);

/** @param {string[]} argv */
function parseArgs(argv) {
  const values = (name) => argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
  const positional = argv.filter((a) => !a.startsWith('-'));
  return {
    developmentPaths: values('extensionDevelopmentPath'),
    testsPath: values('extensionTestsPath')[0],
    extensionsDir: values('extensions-dir')[0],
    userDataDir: values('user-data-dir')[0],
    folder: positional[0],
  };
}

// The extension host's console output reaches the workbench's log as console messages '%c INFO' (or '%c  ERR',
// '%c WARN'), a css string, then the values. Workbench chatter uses the same channel: show lines only once the
// extension host has connected, and drop the known chatter below. Messages without that prefix (resource 404s,
// browser warnings, duplicates of logged errors) are shown only with SYNCMANAGER_VSCODE_VERBOSE=1.
const NOISE = new RegExp('^(' + [
  'Creating a socket', 'ChatSessionStore', 'Overwriting extension', '\\[AgentHost', '\\[ChatModelSelection\\]',
  '\\[AccountPolicyGate\\]', '\\[Service Worker\\]', 'No service worker', '\\[reconnection-grace-time\\]',
  'AI generated workspace trust', 'DialogService: refused', '(Failed: )?getaddrinfo ENOTFOUND', 'Updating additional builtin', 'Ignoring fetching additional builtin',
  'Extension host \\(Remote\\) is unresponsive', 'Extension host \\(Remote\\) is responsive',
].join('|') + ')');

/**
 * @param {import('playwright-core').ConsoleMessage} msg
 * @returns {Promise<{ level: string | undefined, text: string }>} level is INFO/WARN/ERR for log-service lines
 */
async function readConsole(msg) {
  const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => '')));
  const prefix = typeof values[0] === 'string' && /^%c\s*(\w+)$/.exec(values[0]);
  if (!prefix) return { level: undefined, text: values.length ? util.format(...values) : msg.text() };
  return { level: prefix[1], text: util.format(...values.slice(2)) };
}

/**
 * Writes an extension that contributes nothing, to stand as "the extension under development" when the tests
 * target an installed .vsix.
 * @param {string} folder
 * @returns {string} folder
 */
function writePlaceholderExtension(folder) {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({
    name: 'vsix-test-placeholder', publisher: 'syncmanager-test', version: '0.0.0', engines: { vscode: '*' },
  }, null, 2));
  return folder;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.testsPath) throw new Error('no --extensionTestsPath=… given: nothing to run');
  const vsix = process.env.SYNCMANAGER_VSCODE_VSIX;
  if (vsix && !fs.existsSync(vsix)) throw new Error(`SYNCMANAGER_VSCODE_VSIX=${vsix}: no such file`);
  if (!vsix && args.developmentPaths.length === 0) throw new Error('no --extensionDevelopmentPath=… given');
  if (args.developmentPaths.length > 1) say('only the first --extensionDevelopmentPath is loaded');
  const install = lib.locateInstall();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-vscode-'));
  const dirs = {
    userData: args.userDataDir || path.join(tmp, 'user-data'),
    extensions: args.extensionsDir || path.join(tmp, 'extensions'),
    serverData: path.join(tmp, 'server-data'),
    tmp: path.join(tmp, 'tmp'),
  };
  lib.writeQuietSettings(dirs.userData);
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  /** @type {import('./lib.js').VSCodeServer | undefined} */
  let server;
  /** @type {import('playwright-core').BrowserContext | undefined} */
  let browser;
  let cleaning;
  let interrupted = false;
  const cleanup = () => (cleaning ??= (async () => {
    if (browser) await lib.withTimeout(browser.close(), 10_000, 'closing Chromium').catch((e) => say(e.message));
    if (server) await server.stop();
    if (process.env.SYNCMANAGER_VSCODE_KEEP === '1') say(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      say(`${signal}: stopping VS Code`);
      interrupted = true;
      lib.withTimeout(cleanup(), 15_000, 'cleanup').catch(() => {}).finally(() => process.exit(1));
    });
  }

  try {
    if (vsix) {
      const out = await lib.runServerCli({ args: ['--install-extension', path.resolve(vsix), '--force'], dirs, timeoutMs: 120_000 });
      say(`installed ${path.basename(vsix)}: ${out.trim().split('\n').pop()}`);
    }
    server = await lib.startServer({
      dirs, startTimeoutMs: 60_000, onOutput: verbose ? (t) => process.stderr.write(`[server] ${t}`) : undefined,
    });
    const url = lib.workbenchUrl({
      host: server.host,
      folder: args.folder,
      // The workbench runs extension tests only in extension-development mode, so an installed .vsix is tested
      // next to an empty placeholder extension under development instead of the real development folder.
      developmentPath: vsix ? writePlaceholderExtension(path.join(tmp, 'placeholder-extension')) : args.developmentPaths[0],
      testsPath: args.testsPath,
    });
    if (verbose) say(`VS Code ${install.vscodeVersion} at ${url}`);

    browser = await lib.launchBrowser({ profileDir: path.join(tmp, 'chromium') });
    const page = browser.pages()[0] || (await browser.newPage());
    /** @type {(code: number) => void} */
    let finish = () => {};
    const result = new Promise((resolve) => { finish = resolve; });
    // The workbench (with --enable-smoke-test-driver) calls this when the extension host ends the test run.
    await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));

    // Convert messages as they come but print them in order; drain() waits for the tail after the result.
    let extensionHostUp = false;
    let printing = Promise.resolve();
    let lastMessageAt = Date.now();
    page.on('console', (msg) => {
      lastMessageAt = Date.now();
      const read = readConsole(msg).catch(() => ({ level: undefined, text: msg.text() }));
      printing = printing.then(() => read).then(({ level, text }) => {
        if (/Creating a socket \(renderer-ExtensionHost-/.test(text)) extensionHostUp = true;
        if (verbose) console.log(`[${msg.type()}${level ? ' ' + level : ''}] ${text}`);
        else if (level && extensionHostUp && text.trim() && !NOISE.test(text)) {
          console.log(level === 'INFO' ? text : `${level} ${text}`);
        }
      });
    });
    const drain = async () => {
      const until = Date.now() + 3_000;
      while (Date.now() < until && Date.now() - lastMessageAt < 300) await lib.sleep(50);
      await lib.withTimeout(printing, 2_000, 'printing the last console messages').catch(() => {});
    };
    page.on('pageerror', (e) => { if (verbose) say('page error:', e.message); });
    page.on('crash', () => { say('the workbench page crashed'); finish(1); });

    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const timeoutMs = Number(process.env.SYNCMANAGER_VSCODE_TIMEOUT_MS || 180_000);
    const hostTimeoutMs = Math.min(90_000, timeoutMs);
    const outcome = await Promise.race([
      result,
      server.exited.then(() => 'server-exited'),
      lib.sleep(hostTimeoutMs).then(() => (extensionHostUp ? new Promise(() => {}) : 'no-extension-host')),
      lib.sleep(timeoutMs).then(() => 'timeout'),
    ]);
    if (interrupted) return 1;
    if (typeof outcome === 'string') {
      await drain();
      const shot = path.join(os.tmpdir(), `syncmanager-vscode-${outcome}-${process.pid}.png`);
      const saved = await lib.withTimeout(page.screenshot({ path: shot }), 10_000, 'screenshot').then(() => true, () => false);
      say({
        'timeout': `the tests did not finish within ${timeoutMs} ms (SYNCMANAGER_VSCODE_TIMEOUT_MS)`,
        'no-extension-host': `the extension host did not connect within ${hostTimeoutMs} ms`,
        'server-exited': 'the VS Code server exited during the run',
      }[outcome]);
      if (saved) say(`screenshot of the window: ${shot}`);
      say(`VS Code server output (last lines):\n${lib.tail(server.log(), 40)}`);
      return 1;
    }
    await drain();
    return outcome === 0 ? 0 : 1;
  } finally {
    await lib.withTimeout(cleanup(), 20_000, 'cleanup').catch((e) => say(e.message));
  }
}

main().then(
  (code) => process.exit(code),
  (error) => { say(error && error.message ? error.message : error); process.exit(1); },
);
