import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { VERSION } from '../src/common/version';

const root = join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

test('only src/extension imports vscode', () => {
  const offenders = sources(join(root, 'src'))
    .filter((file) => !relative(root, file).startsWith(join('src', 'extension')))
    .filter((file) => importsOf(file).includes('vscode'))
    .map((file) => relative(root, file));
  assert.deepEqual(offenders, []);
});

test('src/common touches neither vscode nor the network', () => {
  const offenders = sources(join(root, 'src', 'common'))
    .filter((file) => importsOf(file).some((m) => m === 'vscode' || m === 'node:net' || m === 'net' || m === 'node:tls'))
    .map((file) => relative(root, file));
  assert.deepEqual(offenders, []);
});

test('the client never imports the server, nor the server the extension', () => {
  const offenders = [
    ...sources(join(root, 'src', 'client')).filter((f) => importsOf(f).some((m) => m.includes('/server'))),
    ...sources(join(root, 'src', 'server')).filter((f) => importsOf(f).some((m) => m.includes('/extension'))),
  ].map((file) => relative(root, file));
  assert.deepEqual(offenders, []);
});

test('the two protocol sessions do not import each other: both stand on server/calls', () => {
  const reaching = (from: string, into: string) =>
    sources(join(root, 'src', 'server', from))
      .filter((file) => importsOf(file).some((m) => m.startsWith('.') && relative(root, join(file, '..', m)).startsWith(join('src', 'server', into))))
      .map((file) => relative(root, file));
  assert.deepEqual([...reaching('python', 'jsonrpc'), ...reaching('jsonrpc', 'python')], []);
});

test('only the object service checks what an object exposes', () => {
  const checkers = sources(join(root, 'src', 'server'))
    .filter((file) => /\bexposedSet\.has\(/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
  assert.deepEqual(checkers, [join('src', 'server', 'calls', 'objectService.ts')]);
});

test('the version in code is the package version', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

/** Lines as `wc -l` counts them: newline characters. */
function lineCount(file: string): number {
  let lines = 0;
  for (const ch of readFileSync(file, 'utf8')) if (ch === '\n') lines++;
  return lines;
}

test('the two protocol sessions together are at most 900 lines: the shared work lives in server/calls', () => {
  const jsonRpc = lineCount(join(root, 'src', 'server', 'jsonrpc', 'jsonRpcSession.ts'));
  const python = lineCount(join(root, 'src', 'server', 'python', 'pythonSession.ts'));
  assert.ok(jsonRpc + python <= 900, `jsonRpcSession.ts has ${jsonRpc} lines and pythonSession.ts ${python}: ${jsonRpc + python} together, over the budget of 900`);
});
