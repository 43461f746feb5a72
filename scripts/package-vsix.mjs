#!/usr/bin/env node
// Packages the VS Code extension as a .vsix for one platform:
//   node scripts/package-vsix.mjs [--target linux-x64] [--out FILE]      (npm run package -- --target …)
// --target is one of vsce's platform targets (default: this machine's); --out defaults to
// syncmanager-<version>-<target>.vsix in the repository root. dist/ must be built (npm run package builds it).
//
// Why per platform: the manager the extension starts compiles TypeScript config modules with esbuild, whose work is
// done by a native binary from one platform package (@esbuild/linux-x64, @esbuild/darwin-arm64, …). So each .vsix
// carries the binary of its target, fetched with `npm pack` when it is not this machine's, and is marked with that
// target so the Marketplace and VS Code install the right one.
//
// Why a staging folder: package.json's `files` list is the npm package's allow-list, and vsce refuses a `files`
// list beside a .vscodeignore. Packaging from a folder holding exactly the extension's files (bundles, manifest,
// media, docs, esbuild's loader and one binary) keeps the two packages' contents apart, each listed once: the npm
// package's in package.json, the extension's here.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(join(root, 'package.json'));

/** vsce's platform targets → esbuild's platform package for it. */
const ESBUILD_PACKAGES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armhf': 'linux-arm',
  'alpine-x64': 'linux-x64',
  'alpine-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};
/**
 * What the extension runs: its bundle, the CLI it starts the manager with, and the client (dist/client.js runs
 * dist/client-code.js) and server bundles. The client's code cache stays out: VS Code's Node is not the one that
 * made it.
 */
const BUNDLES = ['dist/extension.js', 'dist/cli.js', 'dist/client.js', 'dist/client-code.js', 'dist/server.js'];
const DOCS = ['README.md', 'CHANGELOG.md', 'LICENSE', 'media'];
/** Where README's relative links point in the Marketplace (the repository URL is not one vsce can derive it from). */
const BASE_URL = 'https://example.invalid/syncmanager';

function fail(message) {
  console.error(`scripts/package-vsix.mjs: ${message}`);
  process.exit(1);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (${result.status ?? result.error?.message ?? result.signal}):\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  return result.stdout;
}

const hostTarget = `${process.platform}-${process.arch === 'arm' ? 'armhf' : process.arch}`;
const { values } = parseArgs({ options: { target: { type: 'string', default: hostTarget }, out: { type: 'string' } } });
const target = values.target;
const esbuildPlatform = ESBUILD_PACKAGES[target];
if (!esbuildPlatform) fail(`unknown --target ${target}: one of ${Object.keys(ESBUILD_PACKAGES).join(', ')}`);

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(values.out ?? join(root, `${manifest.name}-${manifest.version}-${target}.vsix`));
for (const file of BUNDLES) if (!existsSync(join(root, file))) fail(`${file} is missing: run npm run build first (npm run package does)`);

const esbuildDir = dirname(require.resolve('esbuild/package.json'));
const esbuildVersion = JSON.parse(readFileSync(join(esbuildDir, 'package.json'), 'utf8')).version;
const binaryPackage = `@esbuild/${esbuildPlatform}`;
const binaryFile = esbuildPlatform.startsWith('win32') ? 'esbuild.exe' : 'bin/esbuild';

const stage = mkdtempSync(join(tmpdir(), 'syncmanager-vsix-stage-'));
try {
  for (const file of [...BUNDLES, ...DOCS]) cpSync(join(root, file), join(stage, file), { recursive: true });

  // The manifest without the npm package's fields; esbuild is the extension's one run-time dependency.
  const { files, scripts, devDependencies, peerDependencies, peerDependenciesMeta, typesVersions, types, exports, bin, ...extension } = manifest;
  extension.dependencies = { esbuild: esbuildVersion };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(extension, null, 2)}\n`);
  writeFileSync(join(stage, '.vscodeignore'), '# the staging folder holds only what the .vsix ships (scripts/package-vsix.mjs)\n');

  // esbuild's JavaScript API (it finds the binary in @esbuild/<platform>), without its CLI's second copy of it.
  for (const file of ['package.json', 'LICENSE.md', 'lib/main.js']) cpSync(join(esbuildDir, file), join(stage, 'node_modules', 'esbuild', file));

  // The target's binary: from this machine's install when it is this platform's, else from the npm registry (or cache).
  let binaryDir;
  try {
    binaryDir = dirname(require.resolve(`${binaryPackage}/package.json`, { paths: [esbuildDir] }));
  } catch {
    const fetched = join(stage, '.fetch');
    mkdirSync(fetched);
    const [{ filename }] = JSON.parse(run('npm', ['pack', `${binaryPackage}@${esbuildVersion}`, '--json', '--pack-destination', fetched], fetched));
    run('tar', ['xzf', join(fetched, filename), '-C', fetched], fetched);
    binaryDir = join(fetched, 'package');
  }
  if (JSON.parse(readFileSync(join(binaryDir, 'package.json'), 'utf8')).version !== esbuildVersion) fail(`${binaryPackage} is not version ${esbuildVersion}`);
  for (const file of ['package.json', binaryFile]) cpSync(join(binaryDir, file), join(stage, 'node_modules', binaryPackage, file));
  rmSync(join(stage, '.fetch'), { recursive: true, force: true });

  const vsce = join(dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  run(process.execPath, [vsce, 'package', '--target', target, '--out', out, '--baseContentUrl', `${BASE_URL}/blob/main`, '--baseImagesUrl', `${BASE_URL}/raw/main`], stage);
  console.log(`${out.startsWith(`${root}/`) ? out.slice(root.length + 1) : out}: the extension for ${target}, with ${binaryPackage} ${esbuildVersion}`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
