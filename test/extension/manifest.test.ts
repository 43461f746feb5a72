/**
 * package.json's `contributes` and the code agree: every command registered is contributed and
 * the other way round, menus name real commands and views, and the settings the code reads exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { creatableBuiltins } from '../../src/server/builtins';
import { STORE_PREFIX_PATTERN } from '../../src/server/store/storeUrl';
import { DEFAULT_LEASE_MS, MIN_LEASE_MS } from '../../src/server/store/redisLeases';

import { Command, ContextKey, ContextValue, ManagerStateValue, Setting, View } from '../../src/extension/ids';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const values = (e: Record<string, string>) => new Set(Object.values(e));

/** Every `when` clause of the manifest, with where it is. */
function whenClauses(): [string, string][] {
  const out: [string, string][] = [];
  for (const [where, items] of Object.entries(pkg.contributes.menus) as [string, { command: string; when?: string }[]][]) {
    for (const item of items) if (item.when) out.push([`menus.${where} ${item.command}`, item.when]);
  }
  for (const w of pkg.contributes.viewsWelcome as { view: string; when?: string }[]) if (w.when) out.push([`viewsWelcome ${w.view}`, w.when]);
  for (const [container, views] of Object.entries(pkg.contributes.views) as [string, { id: string; when?: string }[]][]) {
    for (const v of views) if (v.when) out.push([`views.${container} ${v.id}`, v.when]);
  }
  return out;
}

test('the contributed commands are exactly the Command ids the extension registers', () => {
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), [...values(Command)].sort());
});

test('menus and welcome views name contributed commands and views', () => {
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  const views = new Set(Object.values(pkg.contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id));
  assert.deepEqual([...views].sort(), [...values(View)].filter((v) => v !== View.Container).sort(), 'the views are the View ids');
  for (const [where, items] of Object.entries(pkg.contributes.menus) as [string, { command: string; when?: string }[]][]) {
    for (const item of items) assert.ok(commands.has(item.command), `${where}: ${item.command}`);
  }
  for (const w of pkg.contributes.viewsWelcome) {
    assert.ok(views.has(w.view), w.view);
    // Welcome content renders links but no Markdown code: backticks would show as they are.
    assert.doesNotMatch(w.contents, /`/, `${w.view}: a backtick in welcome text`);
    for (const m of (w.contents as string).matchAll(/command:(syncmanager\.[a-zA-Z]+)/g)) assert.ok(commands.has(m[1]), m[1]);
  }
});

test('when clauses use only the context keys, states, views and tree context values the code defines', () => {
  const clauses = whenClauses();
  assert.ok(clauses.length > 10, 'the manifest has when clauses to check');
  const viewItems = values(ContextValue);
  for (const [where, when] of clauses) {
    for (const m of when.matchAll(/viewItem == (\w+)/g)) assert.ok(viewItems.has(m[1]), `${where}: viewItem ${m[1]} is no ContextValue`);
    for (const m of when.matchAll(/viewItem =~ \/\^\(([\w|]+)\)\$\//g)) {
      for (const v of m[1].split('|')) assert.ok(viewItems.has(v), `${where}: viewItem ${v} is no ContextValue`);
    }
    assert.doesNotMatch(when.replace(/viewItem (==|=~) (\w+|\/\^\([\w|]+\)\$\/)/g, ''), /viewItem/, `${where}: a viewItem test this check does not read: ${when}`);
    for (const m of when.matchAll(/\bview == ([\w.]+)/g)) assert.ok(values(View).has(m[1]), `${where}: view ${m[1]}`);
    for (const m of when.matchAll(/\b(syncmanager\.[\w.]+)/g)) {
      if (!values(View).has(m[1])) assert.ok(values(ContextKey).has(m[1]), `${where}: context key ${m[1]} is not in ContextKey`);
    }
    for (const m of when.matchAll(/syncmanager\.state == (\w+)/g)) assert.ok(values(ManagerStateValue).has(m[1]), `${where}: state ${m[1]}`);
  }
});

test('the settings the code reads are exactly the contributed settings', () => {
  const read = [...values(Setting)].filter((s) => s !== Setting.Section).map((s) => `${Setting.Section}.${s}`);
  assert.deepEqual(read.sort(), Object.keys(pkg.contributes.configuration.properties).sort());
});

test('the store settings declare the rules the manager checks: the prefix pattern and the shortest lease', () => {
  const properties = pkg.contributes.configuration.properties;
  const prefix = new RegExp(properties['syncmanager.storePrefix'].pattern);
  for (const sample of ['', 'syncmanager', 'team-a.jobs:v2', 'x'.repeat(100), 'x'.repeat(101), 'a b', 'a/b', 'é', 'a*']) {
    assert.equal(prefix.test(sample), sample === '' || STORE_PREFIX_PATTERN.test(sample), JSON.stringify(sample));
  }
  assert.equal(properties['syncmanager.storeLease'].minimum * 1000, MIN_LEASE_MS);
  assert.equal(properties['syncmanager.storeLease'].default * 1000, DEFAULT_LEASE_MS);
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
