/**
 * The npm package as a consumer sees it: `syncmanager/client` and `syncmanager/server` resolve to
 * the bundles with their type declarations, and the `syncmanager` bin runs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testFolder } from '../helpers/tempFolder';

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

test('a TypeScript consumer type-checks against the published declarations', (t) => {
  const { mkdirSync, symlinkSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const dir = testFolder(t, 'consumer');
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

/** What the npm package may hold: the bundles a consumer runs, their declarations, the protocol's spec, the docs. */
const SHIPPED = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/(index|client|client-code|server|cli)\.js|dist\/client-code\.cache|dist\/types\/.+\.d\.ts|[a-z]+\.d\.ts|protocol\/(SPEC\.md|schema\.json))$/;

/** `npm pack --dry-run`'s file list (dist/ is built by `before`). */
function packedFiles(): string[] {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  return (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}

test('npm pack lists only what runs or documents the package: no logs, tests, sources, maps or examples', () => {
  const files = packedFiles();
  assert.deepEqual(files.filter((f) => !SHIPPED.test(f)), [], 'files outside the allow-list');
  for (const f of ['dist/index.js', 'dist/client.js', 'dist/client-code.js', 'dist/client-code.cache', 'dist/server.js', 'dist/cli.js', 'dist/types/index.d.ts', 'README.md', 'LICENSE']) {
    assert.ok(files.includes(f), `${f} is packed`);
  }
});

/** Whether a file starts like an executable or shared library (ELF, Mach-O, PE) or is a Node addon. */
function isNative(file: string): boolean {
  if (file.endsWith('.node')) return true;
  const { openSync, readSync, closeSync } = require('node:fs') as typeof import('node:fs');
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(4);
  const n = readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  const magic = head.subarray(0, n).toString('hex');
  return magic === '7f454c46' || magic.startsWith('4d5a') || ['feedface', 'feedfacf', 'cefaedfe', 'cffaedfe', 'cafebabe'].includes(magic);
}

function filesUnder(dir: string): string[] {
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

test('a client-only install of the packed tarball has no native binary, and require, import and node10 types work', (t) => {
  const { writeFileSync, symlinkSync } = require('node:fs') as typeof import('node:fs');
  const dir = testFolder(t, 'install');
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = join(dir, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
  const project = join(dir, 'project');
  require('node:fs').mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // Offline: the package needs nothing from the registry. What its bundles use (ioredis for the Redis
  // store) is bundled in them, so it declares no dependencies: a fresh machine's npm cache, filled by
  // `npm ci` from the lockfile, holds no registry metadata to resolve one with.
  const install = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  assert.equal(install.status, 0, install.stdout + install.stderr);
  const manifest = JSON.parse(require('node:fs').readFileSync(join(project, 'node_modules', 'syncmanager', 'package.json'), 'utf8')) as { dependencies?: object };
  assert.deepEqual(manifest.dependencies ?? {}, {}, 'the package declares no dependencies: what it runs is bundled');

  const installed = filesUnder(join(project, 'node_modules'));
  assert.deepEqual(installed.filter(isNative), [], 'native binaries in a client-only install');
  assert.ok(!installed.some((f) => f.includes(`${join('node_modules', 'esbuild')}`)), 'esbuild is not installed');

  const script = "const s = require('syncmanager'); const c = require('syncmanager/client'); console.log(typeof s.connect, typeof s.Manager, typeof c.connect)";
  const cjs = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
  assert.equal(cjs.stdout.trim(), 'function function function', cjs.stderr);
  const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "const { connect, Manager } = await import('syncmanager'); console.log(typeof connect, typeof Manager)"], { cwd: project, encoding: 'utf8' });
  assert.equal(esm.stdout.trim(), 'function function', esm.stderr);

  // A TypeScript config module needs esbuild, which a client-only install leaves out: the CLI says so.
  writeFileSync(join(project, 'syncmanager.config.ts'), 'export default {};\n');
  const serve = spawnSync(join(project, 'node_modules', '.bin', 'syncmanager'), ['serve', '--address', '127.0.0.1:0', '--authkey', 'k'], { cwd: project, encoding: 'utf8', timeout: 20_000 });
  assert.equal(serve.status, 1, serve.stdout + serve.stderr);
  assert.match(serve.stderr, /syncmanager\.config\.ts needs esbuild.*npm install esbuild/s);

  // TypeScript on moduleResolution node10, which ignores `exports`, still finds every entry's types.
  symlinkSync(join(root, 'node_modules', '@types'), join(project, 'node_modules', '@types'));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', moduleResolution: 'node10', target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], noEmit: true, types: ['node'] }, files: ['use.ts'] }),
  );
  writeFileSync(
    join(project, 'use.ts'),
    `import { connect, type QueueProxy } from 'syncmanager/client';
import { Manager } from 'syncmanager/server';
import * as everything from 'syncmanager';
const q: Promise<QueueProxy<number>> | undefined = undefined;
void connect; void Manager; void everything.connect; void q;
`,
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
