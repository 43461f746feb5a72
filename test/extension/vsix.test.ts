/**
 * One .vsix per platform (scripts/package-vsix.mjs): each carries esbuild's binary for its target and is marked
 * with it. A foreign target is packaged here too, its binary fetched from npm, so a release for every platform can
 * be made from this machine. (The linux-x64 .vsix is installed into a real VS Code by test/vscode/vscode.test.ts.)
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from '../vscode/build';
import { testFolder } from '../helpers/tempFolder';
import { zipEntries, zipText } from '../helpers/zip';

const root = join(__dirname, '..', '..');

before(async () => {
  await ensureBuilt();
});

function packageFor(target: string, out: string) {
  return spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--target', target, '--out', out], { cwd: root, encoding: 'utf8', timeout: 180_000 });
}

test('the darwin-arm64 .vsix carries @esbuild/darwin-arm64 and no other binary, and says its target', (t) => {
  const dir = testFolder(t, 'vsix');
  const vsix = join(dir, 'darwin.vsix');
  const result = packageFor('darwin-arm64', vsix);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const files = zipEntries(vsix);
  assert.deepEqual(files.filter((f) => f.includes('@esbuild/')).sort(), ['extension/node_modules/@esbuild/darwin-arm64/bin/esbuild', 'extension/node_modules/@esbuild/darwin-arm64/package.json']);
  assert.ok(files.includes('extension/node_modules/esbuild/lib/main.js'));
  // dist/client.js runs the client's code from dist/client-code.js.
  assert.ok(files.includes('extension/dist/client.js') && files.includes('extension/dist/client-code.js'));
  assert.match(zipText(vsix, 'extension.vsixmanifest'), /TargetPlatform="darwin-arm64"/);
  const manifest = JSON.parse(zipText(vsix, 'extension/package.json'));
  assert.equal(manifest.files, undefined, "the npm package's allow-list stays out of the extension's manifest");
  assert.deepEqual(Object.keys(manifest.dependencies), ['esbuild']);
});

test('an unknown target is refused with the list of known ones', (t) => {
  const result = packageFor('beos-x86', join(testFolder(t, 'vsix'), 'never.vsix'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /unknown --target beos-x86: one of linux-x64, .*darwin-arm64/);
});
