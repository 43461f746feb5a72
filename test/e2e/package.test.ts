/**
 * The npm package as a consumer sees it: `syncmanager/client` and `syncmanager/server` resolve to
 * the bundles with their type declarations, and the `syncmanager` bin runs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

before(() => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', shell: false });
  assert.equal(build.status, 0, build.stderr);
});

test('exports name a bundle and type declarations that exist, for client and server', () => {
  for (const entry of ['./client', './server']) {
    const { types, default: main } = pkg.exports[entry];
    assert.ok(existsSync(join(root, main)), main);
    assert.ok(existsSync(join(root, types)), types);
  }
});

test('a CommonJS consumer requires syncmanager/client and syncmanager/server by name', () => {
  const script = "const c = require('syncmanager/client'); const s = require('syncmanager/server'); console.log(typeof c.connect, typeof s.Manager, typeof s.Queue)";
  const result = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(result.stdout.trim(), 'function function function', result.stderr);
});

test('an ES module consumer imports them too', () => {
  const script = "const { connect } = await import('syncmanager/client'); const { Manager } = await import('syncmanager/server'); console.log(typeof connect, typeof Manager)";
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(result.stdout.trim(), 'function function', result.stderr);
});

test('the bin is the CLI and is executable', () => {
  const bin = join(root, pkg.bin.syncmanager);
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(result.stdout.trim(), pkg.version);
});

test('a TypeScript consumer type-checks against the published declarations', () => {
  const { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'syncmanager-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'syncmanager'));
  symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'Node16', moduleResolution: 'Node16', target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], noEmit: true, types: ['node'] } }),
  );
  writeFileSync(
    join(dir, 'worker.ts'),
    `import { connect, EmptyError, type QueueProxy } from 'syncmanager/client';
import { Manager } from 'syncmanager/server';
async function main(): Promise<number> {
  const manager = new Manager({ authkey: 'k' }).register('get_task_queue', { shared: 'Queue' });
  await manager.listen();
  const m = await connect<{ get_task_queue: QueueProxy<number> }>({ address: manager.address, authkey: 'k' });
  const q = await m.get_task_queue();
  await q.put(2);
  const n: number = await q.get({ timeout: 1 }).catch((e) => (e instanceof EmptyError ? -1 : 0));
  // @ts-expect-error the queue holds numbers
  await q.put('not a number');
  return n;
}
void main;
`,
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
