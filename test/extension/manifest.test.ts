/**
 * package.json's `contributes` and the code agree: every command registered is contributed and
 * the other way round, menus name real commands and views, and the settings the code reads exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { creatableBuiltins } from '../../src/server/builtins';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const source = (file: string) => readFileSync(join(__dirname, '..', '..', 'src', 'extension', file), 'utf8');

test('the contributed commands are exactly the commands the extension registers', () => {
  const ids = [...source('ids.ts').matchAll(/= '(syncmanager\.[a-zA-Z]+)'/g)].map((m) => m[1]).filter((id) => !id.startsWith('syncmanager.objects') && !id.startsWith('syncmanager.clients') && id !== 'syncmanager.state');
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), [...ids].sort());
  const registered = [...source('commands.ts').matchAll(/\[Command\.(\w+)\]:/g)].map((m) => m[1]);
  assert.equal(registered.length, contributed.length, 'every command has a handler');
});

test('menus and welcome views name contributed commands and views', () => {
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  const views = new Set(pkg.contributes.views.syncmanager.map((v: { id: string }) => v.id));
  assert.deepEqual([...views].sort(), ['syncmanager.clients', 'syncmanager.objects']);
  for (const [where, items] of Object.entries(pkg.contributes.menus) as [string, { command: string; when?: string }[]][]) {
    for (const item of items) assert.ok(commands.has(item.command), `${where}: ${item.command}`);
  }
  for (const w of pkg.contributes.viewsWelcome) {
    assert.ok(views.has(w.view));
    for (const m of (w.contents as string).matchAll(/command:(syncmanager\.[a-zA-Z]+)/g)) assert.ok(commands.has(m[1]), m[1]);
  }
});

test('every setting the code reads is contributed with a schema', () => {
  const settings = [...source('ids.ts').matchAll(/^\s+(Address|Register|ConfigFile|StartOnOpen) = '(\w+)'/gm)].map((m) => `syncmanager.${m[2]}`);
  assert.equal(settings.length, 4);
  for (const s of settings) assert.ok(pkg.contributes.configuration.properties[s], s);
});

test('the manifest points at the bundle and the icons that exist', () => {
  const { existsSync } = require('node:fs') as typeof import('node:fs');
  assert.equal(pkg.main, './dist/extension.js');
  assert.ok(existsSync(join(__dirname, '..', '..', pkg.icon)));
  assert.ok(existsSync(join(__dirname, '..', '..', pkg.contributes.viewsContainers.activitybar[0].icon)));
});

test('the register setting accepts every SyncManager typeid clients can create, and nothing else', () => {
  const pattern = new RegExp(pkg.contributes.configuration.properties['syncmanager.register'].additionalProperties.pattern);
  for (const [typeid] of creatableBuiltins()) assert.ok(pattern.test(typeid) && pattern.test(`${typeid}(1)`), typeid);
  for (const bad of ['Iterator', 'Pool', 'queue', 'Queue(']) assert.equal(pattern.test(bad), false, bad);
});
