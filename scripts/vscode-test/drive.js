// Drives the real VS Code workbench as a person would, for UI checks and screenshots: a VS Code server from
// .cache/vscode-test (scripts/vscode-test/setup.sh) with the extension under development, its web workbench in
// headless Chromium, and helpers built on Playwright for the command palette, view containers, tree rows and
// notifications.
//
//   const drive = require('./scripts/vscode-test/drive.js');
//   const wb = await drive.openWorkbench({ extensionPath: repoRoot, folder: 'test/vscode/fixtures/workspace' });
//   try {
//     await drive.openViewContainer(wb.page, 'syncmanager');
//     await drive.runCommand(wb.page, 'syncmanager: Start Manager');
//     const row = await drive.waitForRow(wb.page, /queue/, { view: 'Objects' });
//     await drive.screenshot(wb.page, 'media/tree.png');
//   } finally { await wb.close(); }
//
// Run directly, it demonstrates itself on the test fixture extension:
//   node scripts/vscode-test/drive.js [extensionPath] [screenshot.png]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const lib = require('./lib.js');

/** @typedef {import('playwright-core').Page} Page */

/**
 * @typedef {object} Workbench
 * @property {Page} page                       the workbench page, ready for the helpers below
 * @property {string} url                      the workbench URL (open it in a browser while `keep` is set)
 * @property {import('./lib.js').VSCodeServer} server the VS Code server (host, log(), …)
 * @property {() => string[]} consoleLines     everything the workbench and extension host logged so far
 * @property {() => Promise<void>} close       closes Chromium, stops the server's process group, removes the
 *                                             temporary profile; bounded, safe to call twice
 */

/**
 * Starts a VS Code server, opens its workbench in headless Chromium on `folder` with the extension at
 * `extensionPath` loaded as the extension under development, and waits until the extension host is connected.
 * @param {object} options
 * @param {string} options.extensionPath      folder of the extension (its package.json), e.g. the repository root
 * @param {string} [options.folder]           folder to open (default: an empty window)
 * @param {Record<string, unknown>} [options.settings] extra user settings
 * @param {{ width: number, height: number }} [options.viewport] window size (default 1280×800)
 * @param {number} [options.timeoutMs]        bound on the whole start (default 90 s)
 * @param {boolean} [options.verbose]         print the workbench console as it comes (default: env SYNCMANAGER_VSCODE_VERBOSE=1)
 * @returns {Promise<Workbench>}
 */
async function openWorkbench({ extensionPath, folder, settings = {}, viewport, timeoutMs = 90_000, verbose = process.env.SYNCMANAGER_VSCODE_VERBOSE === '1' }) {
  if (!fs.existsSync(path.join(extensionPath, 'package.json'))) throw new Error(`no package.json in ${extensionPath}`);
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncmanager-drive-'));
  const dirs = {
    userData: path.join(tmp, 'user-data'), extensions: path.join(tmp, 'extensions'),
    serverData: path.join(tmp, 'server-data'), tmp: path.join(tmp, 'tmp'),
  };
  lib.writeQuietSettings(dirs.userData, settings);
  /** @type {string[]} */
  const lines = [];
  let server;
  let browser;
  let closing;
  const close = () => (closing ??= (async () => {
    if (browser) await lib.withTimeout(browser.close(), 10_000, 'closing Chromium').catch(() => {});
    if (server) await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  })());
  try {
    server = await lib.startServer({ dirs, startTimeoutMs: left() });
    browser = await lib.launchBrowser({ profileDir: path.join(tmp, 'chromium'), viewport, timeoutMs: left() });
    const page = browser.pages()[0] || (await browser.newPage());
    let hostUp;
    const extensionHostUp = new Promise((resolve) => { hostUp = resolve; });
    page.on('console', (msg) => {
      const text = msg.text().replace(/^%c\s*(\w+)\s+color: #\w+\s*/, '$1 ');
      lines.push(text);
      if (/Creating a socket \(renderer-ExtensionHost-.*successful/.test(text)) hostUp();
      if (verbose) console.log(`[workbench ${msg.type()}] ${text}`);
    });
    const url = lib.workbenchUrl({ host: server.host, folder, developmentPath: extensionPath });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: left() });
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: left() });
    await lib.withTimeout(extensionHostUp, left(), 'waiting for the extension host to connect');
    return { page, url, server, consoleLines: () => lines.slice(), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens the command palette and runs the command whose title matches, as a person would (F1, type, pick).
 * Retries when the palette closes before the pick (the workbench steals focus while it is still settling).
 * @param {Page} page
 * @param {string} title   the title as the palette shows it, with or without its category ("syncmanager: Start manager")
 * @param {{ timeoutMs?: number, attempts?: number }} [options] per-attempt bound (default 15 s), attempts (default 5)
 * @returns {Promise<void>} resolves once the command was picked and the palette closed
 */
async function runCommand(page, title, { timeoutMs = 15_000, attempts = 5 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      if (!(await input.isVisible())) {
        await page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 3_000 });
      }
      await input.fill(`>${title}`, { timeout: 3_000 });
      const rows = widget.locator('.quick-input-list .monaco-list-row');
      const row = await firstMatchingRow(rows, title, timeoutMs);
      await row.click({ timeout: 3_000 });
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
      return;
    } catch (error) {
      lastError = error;
      await page.keyboard.press('Escape').catch(() => {});
      await lib.sleep(300 * attempt);
    }
  }
  throw new Error(`could not run "${title}" from the command palette after ${attempts} attempts: ${lastError && lastError.message}`);
}

/** The palette row whose label is `title` (or ends with it, the category left out); waits up to `timeoutMs`. */
async function firstMatchingRow(rows, title, timeoutMs) {
  const want = title.trim().toLowerCase();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const labels = await rows.evaluateAll((els) => els.map((e) => (e.querySelector('.label-name, .monaco-highlighted-label') || e).textContent.trim()));
    const i = labels.findIndex((l) => l.toLowerCase() === want || l.toLowerCase().endsWith(`: ${want}`));
    if (i >= 0) return rows.nth(i);
    await lib.sleep(150);
  }
  throw new Error(`no command titled "${title}" in the palette`);
}

/**
 * Shows a view container (activity bar entry) by its title, e.g. the extension's "Syncmanager" container.
 * Does nothing if it is already shown (clicking a selected entry would hide the side bar).
 * @param {Page} page
 * @param {string} title   the container's title as contributed (viewsContainers.activitybar[].title)
 * @param {{ timeoutMs?: number }} [options] bound (default 15 s)
 * @returns {Promise<void>} resolves once the side bar shows that container
 */
async function openViewContainer(page, title, { timeoutMs = 15_000 } = {}) {
  const tab = page.locator(`.part.activitybar li[role="tab"]:has(a.action-label[aria-label^=${JSON.stringify(title)}])`).first();
  await tab.waitFor({ timeout: timeoutMs });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click({ timeout: timeoutMs });
  await page.locator('.part.sidebar .composite.title h2', { hasText: new RegExp(escapeRegExp(title), 'i') })
    .first().waitFor({ timeout: timeoutMs });
}

/**
 * @typedef {object} TreeRow
 * @property {string} label         the row's label (.label-name)
 * @property {string} description   the dimmed text after it (.label-description), '' if none
 * @property {number | undefined} level  aria-level: 1 for top-level rows, 2 for their children, …
 * @property {boolean | undefined} expanded aria-expanded: true/false for collapsible rows, undefined for leaves
 * @property {string} ariaLabel     the row's aria-label (often label + description or the item's accessibility label)
 * @property {boolean} selected
 * @property {string} view          title of the view (pane) the row belongs to
 */

/**
 * Reads the rows the side bar shows now (only rendered rows: a long tree is virtualised).
 * @param {Page} page
 * @param {{ view?: string }} [options] only rows of the view (pane) with this title, case-insensitive
 * @returns {Promise<TreeRow[]>}
 */
async function readTreeRows(page, { view } = {}) {
  const rows = await page.locator('.part.sidebar .pane, .part.sidebar .composite.viewlet').evaluateAll((panes) => {
    const out = [];
    const seen = new Set();
    for (const pane of panes) {
      const paneTitle = (pane.querySelector('.pane-header .title') || pane.querySelector('.title h2') || {}).textContent || '';
      for (const e of pane.querySelectorAll('.monaco-list-row')) {
        if (seen.has(e)) continue;
        seen.add(e);
        const level = e.getAttribute('aria-level');
        const expanded = e.getAttribute('aria-expanded');
        out.push({
          label: ((e.querySelector('.label-name') || e).textContent || '').trim(),
          description: ((e.querySelector('.label-description') || {}).textContent || '').trim(),
          level: level === null ? undefined : Number(level),
          expanded: expanded === null ? undefined : expanded === 'true',
          ariaLabel: e.getAttribute('aria-label') || '',
          selected: e.classList.contains('selected'),
          view: paneTitle.trim(),
        });
      }
    }
    return out;
  });
  return view ? rows.filter((r) => r.view.toLowerCase() === view.toLowerCase()) : rows;
}

/**
 * Waits until a side-bar row's label, description or aria-label matches.
 * @param {Page} page
 * @param {string | RegExp} match  substring (case-sensitive) or pattern
 * @param {{ view?: string, timeoutMs?: number }} [options] restrict to a view; bound (default 15 s)
 * @returns {Promise<TreeRow>} the first matching row
 */
async function waitForRow(page, match, { view, timeoutMs = 15_000 } = {}) {
  const test = (s) => (typeof match === 'string' ? s.includes(match) : match.test(s));
  return poll(async () => (await readTreeRows(page, { view })).find((r) => test(r.label) || test(r.description) || test(r.ariaLabel)),
    timeoutMs, () => `no side-bar row matching ${match}`);
}

/**
 * @typedef {object} ViewMessage
 * @property {string} view      title of the view (pane)
 * @property {string} text      the message: the view's welcome content (contributes.viewsWelcome) shown while
 *                              the tree is empty, or the TreeView.message set above the rows
 * @property {string[]} buttons labels of the welcome content's buttons
 */

/**
 * Reads the messages the side bar's views show instead of (or above) their rows, e.g. "Starting the manager…".
 * Views without a message are left out.
 * @param {Page} page
 * @returns {Promise<ViewMessage[]>}
 */
async function readViewMessages(page) {
  return page.locator('.part.sidebar .pane').evaluateAll((panes) => panes.map((pane) => {
    const body = pane.querySelector('.pane-body');
    const welcome = body && body.classList.contains('welcome') ? body.querySelector('.welcome-view-content') : null;
    const message = pane.querySelector('.customview-tree .message:not(.hide)');
    const lines = (e) => (e.children.length ? [...e.children] : [e]).map((c) => (c.textContent || '').trim());
    const text = [welcome, message].filter(Boolean).flatMap(lines).filter(Boolean).join('\n');
    return {
      view: ((pane.querySelector('.pane-header .title') || {}).textContent || '').trim(),
      text,
      buttons: welcome ? [...welcome.querySelectorAll('.monaco-button')].map((b) => (b.textContent || '').trim()) : [],
    };
  }).filter((m) => m.text));
}

/**
 * @typedef {object} Notification
 * @property {string} message
 * @property {'info' | 'warning' | 'error' | undefined} severity
 * @property {string} source   e.g. "syncmanager (Extension)", '' if not shown
 */

/**
 * Reads the notification toasts shown now (and the notification center's entries if it is open).
 * Toasts hide after a while: to wait for one, use waitForNotification.
 * @param {Page} page
 * @returns {Promise<Notification[]>}
 */
async function readNotifications(page) {
  return page.locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item').evaluateAll((items) => items.map((e) => {
    const icon = e.querySelector('.notification-list-item-icon');
    const cls = icon ? icon.className : '';
    return {
      message: ((e.querySelector('.notification-list-item-message') || e).textContent || '').trim(),
      severity: /codicon-error/.test(cls) ? 'error' : /codicon-warning/.test(cls) ? 'warning' : /codicon-info/.test(cls) ? 'info' : undefined,
      source: ((e.querySelector('.notification-list-item-source') || {}).textContent || '').trim(),
    };
  }));
}

/**
 * Waits for a notification whose message matches.
 * @param {Page} page
 * @param {string | RegExp} match  substring (case-sensitive) or pattern
 * @param {{ timeoutMs?: number }} [options] bound (default 15 s)
 * @returns {Promise<Notification>}
 */
async function waitForNotification(page, match, { timeoutMs = 15_000 } = {}) {
  const test = (s) => (typeof match === 'string' ? s.includes(match) : match.test(s));
  return poll(async () => (await readNotifications(page)).find((n) => test(n.message)), timeoutMs, () => `no notification matching ${match}`);
}

/**
 * Saves a PNG of the whole window, creating the folder if needed.
 * @param {Page} page
 * @param {string} file  where to write it
 * @returns {Promise<string>} the absolute path written
 */
async function screenshot(page, file) {
  const out = path.resolve(file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out, timeout: 15_000 });
  return out;
}

/** Calls `read` until it returns something, every 200 ms, for at most `timeoutMs`; then throws `message()`. */
async function poll(read, timeoutMs, message) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${message()} within ${timeoutMs} ms`);
    await lib.sleep(200);
  }
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

module.exports = {
  openWorkbench, runCommand, openViewContainer, readTreeRows, waitForRow, readViewMessages, readNotifications,
  waitForNotification, screenshot,
};

// Self-demonstration on the fixture extension: node scripts/vscode-test/drive.js [extensionPath] [screenshot.png]
if (require.main === module) {
  const extensionPath = path.resolve(process.argv[2] || path.join(lib.REPO_ROOT, 'test', 'vscode', 'fixtures', 'smoke-extension'));
  const shot = process.argv[3] || path.join(os.tmpdir(), 'syncmanager-drive.png');
  const t0 = Date.now();
  const step = (what, value) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}${value === undefined ? '' : ' ' + util.inspect(value, { depth: 3, breakLength: 160 })}`);
  (async () => {
    const wb = await openWorkbench({ extensionPath, folder: path.join(lib.REPO_ROOT, 'test', 'vscode', 'fixtures', 'workspace') });
    step('workbench open');
    try {
      await runCommand(wb.page, 'syncmanager fixture: Say hello');
      step('ran "syncmanager fixture: Say hello"');
      step('notification', await waitForNotification(wb.page, 'Hello from the syncmanager fixture'));
      await openViewContainer(wb.page, 'Syncmanager Fixture');
      step('view container shown');
      step('row', await waitForRow(wb.page, 'greeted 1'));
      step('rows', await readTreeRows(wb.page));
      step('screenshot', await screenshot(wb.page, shot));
    } catch (error) {
      await screenshot(wb.page, shot.replace(/(\.png)?$/, '-failed.png')).then((f) => console.error(`screenshot: ${f}`), () => {});
      throw error;
    } finally {
      await wb.close();
    }
  })().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
}
