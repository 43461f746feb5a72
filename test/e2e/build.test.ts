/**
 * `node esbuild.js` while other test files load the bundles: several test files rebuild dist/ at the start and run
 * in parallel, so a rebuild must never let a reader see a half-written bundle (Node's ES module loader then finds
 * no named exports in dist/client.js, and `import { connect }` gets undefined).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');

function build(): void {
  const result = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

test('a rebuild replaces each bundle by renaming a complete file over it, never by rewriting it in place', () => {
  build();
  const bundles = ['client.js', 'client-code.js', 'server.js', 'cli.js', 'extension.js'].map((name) => join(dist, name));
  const before = bundles.map((file) => statSync(file).ino);
  build();
  const after = bundles.map((file) => statSync(file).ino);
  bundles.forEach((file, i) => assert.notEqual(after[i], before[i], `${file} was rewritten in place`));
  assert.ok(statSync(join(dist, 'cli.js')).mode & 0o100, 'dist/cli.js is executable');
  assert.deepEqual(readdirSync(dist).filter((name) => name.includes('.tmp')), [], 'no temporary files left in dist/');
});
