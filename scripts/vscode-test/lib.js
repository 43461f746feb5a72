// Shared pieces of the VS Code test harness (vscode-shim.js, drive.js): where scripts/vscode-test/setup.sh put
// the VS Code server (from code-server's npm package) and playwright-core, how to start that server, how to open
// its web workbench in headless Chromium, and how to shut everything down within bounded time.
//
// Environment:
//   SYNCMANAGER_VSCODE_HOME   install folder (default: <repo>/.cache/vscode-test, as setup.sh uses)
//   SYNCMANAGER_CHROMIUM      Chromium executable (default: /usr/bin/chromium, then chromium-browser)
//   SYNCMANAGER_VSCODE_NODE   node binary for the server (default: this node; must match the native modules' ABI)
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CODE_SERVER_VERSION = '4.100.3';
// code-server's build reads its extension gallery from this variable (default open-vsx.org, unreachable here and
// not wanted in tests): an empty service URL turns the gallery off, and with it the lookups that fail on DNS.
const NO_GALLERY = JSON.stringify({ serviceUrl: '', itemUrl: '', resourceUrlTemplate: '' });

/** @returns {string} the folder holding node_modules/{code-server,playwright-core} */
function installHome() {
  return path.resolve(process.env.SYNCMANAGER_VSCODE_HOME || path.join(REPO_ROOT, '.cache', 'vscode-test'));
}

/**
 * Checks the install is usable and returns its paths; throws with a message naming setup.sh otherwise.
 * @returns {{ home: string, serverMain: string, vscodeVersion: string, chromium: string }}
 */
function locateInstall() {
  const home = installHome();
  const fix = `run scripts/vscode-test/setup.sh (it installs into ${home})`;
  const serverMain = path.join(home, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  if (!fs.existsSync(serverMain)) throw new Error(`VS Code server not found at ${serverMain}: ${fix}`);
  if (!fs.existsSync(path.join(home, 'node_modules', 'playwright-core', 'package.json'))) {
    throw new Error(`playwright-core not found in ${home}: ${fix}`);
  }
  const candidates = process.env.SYNCMANAGER_CHROMIUM
    ? [process.env.SYNCMANAGER_CHROMIUM]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const chromium = candidates.find((c) => fs.existsSync(c));
  if (!chromium) throw new Error(`Chromium not found (${candidates.join(', ')}): ${fix}, or set SYNCMANAGER_CHROMIUM`);
  const product = JSON.parse(fs.readFileSync(path.join(path.dirname(serverMain), '..', 'package.json'), 'utf8'));
  return { home, serverMain, vscodeVersion: product.version, chromium };
}

/** @returns {typeof import('playwright-core')} playwright-core from the install folder */
function playwright() {
  return require(require.resolve('playwright-core', { paths: [installHome()] }));
}

/**
 * Rejects with `what` if `promise` has not settled within `ms`.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what shown in the error
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes user settings that keep the workbench quiet and deterministic (no welcome page stealing focus, no
 * telemetry, update or gallery checks, no workspace-trust prompt). Existing settings are kept.
 * @param {string} userDataDir
 * @param {Record<string, unknown>} [extra] more settings
 */
function writeQuietSettings(userDataDir, extra = {}) {
  const dir = path.join(userDataDir, 'User');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'settings.json');
  let current = {};
  try { current = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* absent or not plain JSON */ }
  const quiet = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'chat.disableAIFeatures': true,
  };
  fs.writeFileSync(file, JSON.stringify({ ...quiet, ...current, ...extra }, null, 2));
}

/** The last `n` lines of `text`, each cut to 400 characters (the server prints minified source on crashes). */
function tail(text, n) {
  return text.split('\n').slice(-n).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n');
}

/** Sends `signal` to a whole process group, ignoring "no such process". */
function killGroup(pid, signal) {
  try { process.kill(-pid, signal); return true; } catch { return false; }
}

/**
 * Runs the VS Code server's CLI once (e.g. `--install-extension x.vsix`) and resolves with its output.
 * @param {{ args: string[], dirs: { userData: string, serverData: string, extensions: string }, timeoutMs?: number }} o
 * @returns {Promise<string>} the output; rejects on a non-zero exit or timeout
 */
async function runServerCli({ args, dirs, timeoutMs = 120_000 }) {
  const { serverMain } = locateInstall();
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const child = spawn(process.env.SYNCMANAGER_VSCODE_NODE || process.execPath, [serverMain,
    '--accept-server-license-terms', '--user-data-dir', dirs.userData, '--server-data-dir', dirs.serverData,
    '--extensions-dir', dirs.extensions, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY || NO_GALLERY },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exit = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  try {
    const code = await withTimeout(exit, timeoutMs, `VS Code server ${args.join(' ')}`);
    if (code !== 0) throw new Error(`VS Code server ${args.join(' ')} exited with ${code}:\n${tail(output, 40)}`);
    return output;
  } finally {
    killGroup(child.pid, 'SIGKILL');
  }
}

/**
 * @typedef {object} VSCodeServer
 * @property {string} host      "127.0.0.1:<port>", the authority of vscode-remote:// URIs for this server
 * @property {number} pid       process-group id of the server and its helpers (extension hosts, watchers, ptys)
 * @property {() => string} log everything the server printed so far
 * @property {Promise<number | string>} exited settles with the exit code (or signal) of the main server process
 * @property {() => Promise<void>} stop  SIGTERM to the group, SIGKILL after a grace period; bounded
 */

/**
 * Starts `server-main.js` on a free loopback port, without a connection token, in its own process group.
 * @param {{ dirs: { userData: string, serverData: string, extensions: string, tmp: string },
 *           startTimeoutMs?: number, onOutput?: (text: string) => void, extraArgs?: string[] }} o
 * @returns {Promise<VSCodeServer>}
 */
async function startServer({ dirs, startTimeoutMs = 60_000, onOutput, extraArgs = [] }) {
  const { serverMain } = locateInstall();
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const child = spawn(process.env.SYNCMANAGER_VSCODE_NODE || process.execPath, [serverMain,
    '--host', '127.0.0.1', '--port', '0',
    '--without-connection-token', '--accept-server-license-terms',
    '--disable-telemetry', '--disable-workspace-trust',
    // Built web workbenches honour the `payload` (extensionDevelopmentPath, extensionTestsPath) only with this.
    '--enable-smoke-test-driver',
    '--user-data-dir', dirs.userData, '--server-data-dir', dirs.serverData, '--extensions-dir', dirs.extensions,
    ...extraArgs,
  ], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so stop() also reaches the extension hosts and watchers it forks
    // A private TMPDIR keeps its IPC and git sockets out of the shared /tmp and disappears with the run.
    env: { ...process.env, TMPDIR: dirs.tmp, EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY || NO_GALLERY },
  });
  let log = '';
  const listening = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      const text = String(chunk);
      log += text;
      if (onOutput) onOutput(text);
      const m = /Extension host agent listening on (\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(`VS Code server exited before listening (${code ?? signal}):\n${log}`)));
  });
  let stopped = false;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const server = {
    host: '',
    pid: child.pid,
    log: () => log,
    exited,
    async stop() {
      if (stopped) return;
      stopped = true;
      killGroup(child.pid, 'SIGTERM'); // even after the main process exited: its helpers may still run
      await Promise.race([exited, sleep(2_000)]);
      await sleep(200);
      killGroup(child.pid, 'SIGKILL');
    },
  };
  try {
    const port = await withTimeout(listening, startTimeoutMs, 'VS Code server start');
    server.host = `127.0.0.1:${port}`;
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Launches headless Chromium (playwright-core, Debian's binary) with a throwaway profile.
 * @param {{ profileDir: string, viewport?: { width: number, height: number }, timeoutMs?: number }} o
 * @returns {Promise<import('playwright-core').BrowserContext>}
 */
async function launchBrowser({ profileDir, viewport = { width: 1280, height: 800 }, timeoutMs = 60_000 }) {
  const { chromium } = locateInstall();
  return playwright().chromium.launchPersistentContext(profileDir, {
    executablePath: chromium,
    headless: true,
    timeout: timeoutMs,
    viewport,
    // vscode.env.clipboard (Copy Connection Info, Copy Value) is navigator.clipboard in the web workbench.
    permissions: ['clipboard-read', 'clipboard-write'],
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--no-default-browser-check'],
  });
}

/**
 * The workbench URL for a folder, optionally with an extension under development and an extension-tests entry.
 * Paths are on this machine; the server is the "remote" so they become vscode-remote://<host>/<abs path>.
 * @param {{ host: string, folder?: string, developmentPath?: string, testsPath?: string }} o
 * @returns {string}
 */
function workbenchUrl({ host, folder, developmentPath, testsPath }) {
  const remote = (p) => `vscode-remote://${host}${path.resolve(p).split(path.sep).map(encodeURIComponent).join('/')}`;
  const payload = [];
  if (developmentPath) payload.push(['extensionDevelopmentPath', remote(developmentPath)]);
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  const query = [folder ? `folder=${encodeURIComponent(path.resolve(folder))}` : 'ew=true'];
  if (payload.length) query.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  return `http://${host}/?${query.join('&')}`;
}

module.exports = {
  REPO_ROOT, CODE_SERVER_VERSION, installHome, locateInstall, playwright, withTimeout, sleep, writeQuietSettings,
  killGroup, tail, runServerCli, startServer, launchBrowser, workbenchUrl,
};
