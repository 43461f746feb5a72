// Drives the real VS Code workbench as a person would, for UI checks and screenshots: a VS Code server from
// .cache/vscode-test (scripts/vscode-test/setup.sh) with the extension under development, its web workbench in
// headless Chromium, and helpers built on Playwright for the command palette, view containers, tree rows (reading,
// expanding, inline actions), input boxes, the status bar, the clipboard and notifications.
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
// Run directly, it demonstrates itself on the extension (scripts/vscode-test/ui-run.js is the full UI check):
//   node scripts/vscode-test/drive.js [screenshot.png]
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
  const rows = await page.locator('.part.sidebar').evaluateAll((sidebars) => {
    const out = [];
    for (const sidebar of sidebars) {
      const viewletTitle = ((sidebar.querySelector('.composite.title h2') || {}).textContent || '').trim();
      const rowsOfList = new Map(); // list element → its rows; a virtualised list reuses elements out of order
      for (const e of sidebar.querySelectorAll('.monaco-list-row')) {
        const list = e.closest('.monaco-list') || sidebar;
        if (!rowsOfList.has(list)) rowsOfList.set(list, []);
        rowsOfList.get(list).push(e);
      }
      for (const [list, elements] of rowsOfList) {
        const pane = list.closest('.pane');
        const paneTitle = pane ? ((pane.querySelector('.pane-header .title') || {}).textContent || '').trim() : viewletTitle;
        elements.sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')));
        for (const e of elements) {
          const level = e.getAttribute('aria-level');
          const expanded = e.getAttribute('aria-expanded');
          out.push({
            label: ((e.querySelector('.label-name') || e).textContent || '').trim(),
            description: ((e.querySelector('.label-description') || {}).textContent || '').trim(),
            level: level === null ? undefined : Number(level),
            expanded: expanded === null ? undefined : expanded === 'true',
            ariaLabel: e.getAttribute('aria-label') || '',
            selected: e.classList.contains('selected'),
            view: paneTitle,
          });
        }
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

/**
 * The row of a side-bar view whose label is exactly `label` (or matches the pattern), as a Playwright locator.
 * @param {Page} page
 * @param {string | RegExp} label
 * @param {{ view?: string }} [options] only rows of the view (pane) with this title, case-insensitive
 * @returns {import('playwright-core').Locator}
 */
function rowLocator(page, label, { view } = {}) {
  let panes = page.locator('.part.sidebar .pane');
  if (view) panes = panes.filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(`^${escapeRegExp(view)}$`, 'i') }) });
  const name = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
  return panes.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: name }) }).first();
}

/**
 * Expands (or collapses) a tree row, as a click on it does, and waits until it is.
 * @param {Page} page
 * @param {string | RegExp} label  the row's label, exactly, or a pattern
 * @param {{ view?: string, expand?: boolean, timeoutMs?: number }} [options] expand (default true) or collapse
 * @returns {Promise<void>}
 */
async function expandRow(page, label, { view, expand = true, timeoutMs = 15_000 } = {}) {
  const row = rowLocator(page, label, { view });
  await row.waitFor({ timeout: timeoutMs });
  const want = String(expand);
  // A row can become expandable later (its provider refreshes it): wait for aria-expanded to appear.
  let state = await poll(async () => (await row.getAttribute('aria-expanded')) ?? undefined, timeoutMs,
    () => `the row ${label} cannot expand (aria-expanded is absent)`);
  // One click per attempt, then time for the children to load: a second click too early would toggle it back.
  for (let attempt = 0; state !== want && attempt < 3; attempt++) {
    await row.locator('.monaco-tl-twistie').click({ timeout: timeoutMs });
    state = await poll(async () => {
      const now = await row.getAttribute('aria-expanded');
      return now === want ? now : undefined;
    }, Math.min(5_000, timeoutMs), () => '').catch(() => state);
  }
  if (state !== want) throw new Error(`the row ${label} did not ${expand ? 'expand' : 'collapse'}`);
}

/**
 * Clicks one of a tree row's inline actions (the icons shown on hover, from `view/item/context` menus' `inline`
 * group), found by its title.
 * @param {Page} page
 * @param {string | RegExp} label  the row's label
 * @param {string} action          the action's title, e.g. "Open as JSON"
 * @param {{ view?: string, timeoutMs?: number }} [options]
 * @returns {Promise<void>}
 */
async function clickRowAction(page, label, action, { view, timeoutMs = 15_000 } = {}) {
  const row = rowLocator(page, label, { view });
  await row.hover({ timeout: timeoutMs });
  await row.locator(`.actions .action-label[aria-label=${JSON.stringify(action)}]`).click({ timeout: timeoutMs });
}

/**
 * Types into the open input box or quick pick (e.g. one an extension's showInputBox opened) and accepts it.
 * @param {Page} page
 * @param {string} text
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<{ prompt: string }>} the box's prompt (the message under the input)
 */
async function answerInputBox(page, text, { timeoutMs = 15_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  const prompt = ((await widget.locator('.quick-input-message').textContent({ timeout: 3_000 }).catch(() => '')) || '').trim();
  await input.fill(text, { timeout: timeoutMs });
  await input.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
  return { prompt };
}

/**
 * Reads the status bar entries' texts (icons left out), left to right.
 * @param {Page} page
 * @returns {Promise<{ id: string, text: string, ariaLabel: string }[]>}
 */
async function readStatusBar(page) {
  return page.locator('.part.statusbar .statusbar-item').evaluateAll((items) => items.map((e) => ({
    id: e.id || '',
    text: (e.textContent || '').replace(/\s+/g, ' ').trim(),
    ariaLabel: (e.querySelector('[aria-label]') || e).getAttribute('aria-label') || '',
  })).filter((i) => i.text || i.ariaLabel));
}

/**
 * Sets the primary side bar's width by dragging its edge, as a person would.
 * @param {Page} page
 * @param {number} width  in CSS pixels
 * @returns {Promise<number>} the width it has afterwards
 */
async function setSideBarWidth(page, width) {
  const sidebar = page.locator('.part.sidebar');
  const box = await sidebar.boundingBox({ timeout: 5_000 });
  if (!box) throw new Error('the side bar is not shown');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width - 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width - 1, y, { steps: 8 });
  await page.mouse.up();
  return Math.round((await sidebar.boundingBox())?.width ?? 0);
}

/**
 * Reads the system clipboard as the workbench sees it (vscode.env.clipboard), e.g. after a Copy command.
 * lib.launchBrowser grants the page clipboard permissions.
 * @param {Page} page
 * @returns {Promise<string>}
 */
async function readClipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * Clicks a button of a view's welcome content ("Start Manager", "Serve the Seed's Queues").
 * @param {Page} page
 * @param {string} view    the view's title, case-insensitive
 * @param {string} label   the button's text
 * @param {{ timeoutMs?: number }} [options] bound (default 15 s)
 */
async function clickWelcomeButton(page, view, label, { timeoutMs = 15_000 } = {}) {
  const pane = page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(`^${escapeRegExp(view)}$`, 'i') }) });
  await pane.locator('.welcome-view-content .monaco-button', { hasText: label }).first().click({ timeout: timeoutMs });
}

/**
 * Opens a workspace file by name with Quick Open (Ctrl+P) and puts the cursor on a line (Ctrl+G), as a person would.
 * @param {Page} page
 * @param {string} name   the file's name, e.g. "worker.js"
 * @param {number} line   1-based
 */
async function openFileAtLine(page, name, line, { timeoutMs = 15_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  await page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(name);
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click({ timeout: timeoutMs });
  await page.locator(`.tabs-container .tab.active[aria-label^=${JSON.stringify(name)}]`).waitFor({ timeout: timeoutMs });
  await page.locator('.editor-instance .monaco-editor textarea').first().focus({ timeout: timeoutMs });
  await page.keyboard.press('Control+G');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
}

/**
 * Waits until a debug session is paused: the debug toolbar offers Continue.
 * @param {Page} page
 */
async function waitForPause(page, { timeoutMs = 30_000 } = {}) {
  await page.locator('.debug-toolbar .action-label.codicon-debug-continue').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

module.exports = {
  openWorkbench, runCommand, openViewContainer, readTreeRows, waitForRow, readViewMessages, readNotifications,
  waitForNotification, screenshot, rowLocator, expandRow, clickRowAction, answerInputBox, readStatusBar,
  setSideBarWidth, readClipboard, clickWelcomeButton, openFileAtLine, waitForPause,
};

// Self-demonstration on the extension (the repository root, built): node scripts/vscode-test/drive.js [screenshot.png]
// scripts/vscode-test/ui-run.js is the full UI check.
if (require.main === module) {
  const shot = process.argv[2] || path.join(os.tmpdir(), 'syncmanager-drive.png');
  const t0 = Date.now();
  const step = (what, value) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}${value === undefined ? '' : ' ' + util.inspect(value, { depth: 3, breakLength: 160 })}`);
  (async () => {
    const wb = await openWorkbench({ extensionPath: lib.REPO_ROOT, folder: path.join(lib.REPO_ROOT, 'test', 'vscode', 'fixtures', 'workspace') });
    step('workbench open');
    try {
      await openViewContainer(wb.page, 'syncmanager');
      step('view container shown; messages', await readViewMessages(wb.page));
      await runCommand(wb.page, 'syncmanager: Start Manager');
      step('ran "syncmanager: Start Manager"');
      step('row', await waitForRow(wb.page, 'get_task_queue', { view: 'Objects' }));
      step('rows', await readTreeRows(wb.page));
      step('status bar', (await readStatusBar(wb.page)).filter((i) => /syncmanager/.test(i.text)));
      step('screenshot', await screenshot(wb.page, shot));
    } catch (error) {
      await screenshot(wb.page, shot.replace(/(\.png)?$/, '-failed.png')).then((f) => console.error(`screenshot: ${f}`), () => {});
      throw error;
    } finally {
      await wb.close();
    }
  })().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
}
