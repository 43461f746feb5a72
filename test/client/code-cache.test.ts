/**
 * `syncmanager/client` compiled with the code cache the build makes (src/client/codeCache.ts):
 * the build makes one the client's code compiles with; the client runs from it, required and
 * imported, over TCP and TLS; and a cache that does not fit the code read (none, another V8's,
 * cut short, or made from other code of the same length, which V8 alone would take) is not used,
 * the client then running the code as read; and a cache damaged after the build (V8 keeps no
 * checksum of its data and may crash the process on bytes it reads wrong) is not handed to V8.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_FILE, CODE_FILE, cacheFileBytes, cachedDataFor, compileClientCode, compileCode } from '../../src/client/codeCache';
import type * as ClientModule from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { makeCertificates } from '../faults/certificates';
import { fileFolder } from '../helpers/tempFolder';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');
const scratch = fileFolder('code-cache');

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

/** A copy of the client's three files in a folder of its own, the cache replaced by `cache` (none when undefined). */
function copyOfClient(name: string, edit: { code?: (code: Buffer) => Buffer; cache?: (cache: Buffer) => Buffer | undefined } = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(dist, 'client.js'), join(dir, 'client.js'));
  writeFileSync(join(dir, CODE_FILE), (edit.code ?? ((c) => c))(readFileSync(join(dist, CODE_FILE))));
  const cache = (edit.cache ?? ((c) => c))(readFileSync(join(dist, CACHE_FILE)));
  if (cache) writeFileSync(join(dir, CACHE_FILE), cache);
  return dir;
}

/** Connects with the client of `dir`, puts and gets one item. */
async function roundTrip(dir: string, address: string, authkey = AUTHKEY): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built client in a folder of the test's own
  const { connect } = require(join(dir, 'client.js')) as typeof ClientModule;
  const client = await connect({ address, authkey });
  try {
    const queue = await client.create<ClientModule.QueueProxy<string>>('Queue');
    await queue.put(dir);
    return await queue.get();
  } finally {
    await client.close();
  }
}

test('the build makes a cache the client compiles with, and the client runs from it, required, imported and over TLS', async () => {
  assert.equal(compileClientCode(dist).cached, true, 'V8 refused the cache the build made');
  // A script compiled from a cache made in another process has no dynamic import() in Node 20, whatever
  // importModuleDynamically says (see compileClientCode): the client's code must call none.
  assert.doesNotMatch(readFileSync(join(dist, CODE_FILE), 'utf8'), /\bimport\s*\(/);
  await using manager = await startManager();
  const dir = copyOfClient('as-built');
  assert.equal(await roundTrip(dir, manager.address), dir);
  // A program of its own, as users run one: require and import (Node reads the export names without running it).
  const script = `const { connect } = REQUIRE; connect({ address: ${JSON.stringify(manager.address)}, authkey: ${JSON.stringify(AUTHKEY)} }).then(async (c) => { const q = await c.create('Queue'); await q.put(7); console.log('GOT ' + (await q.get())); await c.close(); });`;
  // (Run without blocking this process: the manager answers from its event loop.)
  const run = promisify(execFile);
  const required = await run(process.execPath, ['-e', script.replace('REQUIRE', `require(${JSON.stringify(join(dist, 'client.js'))})`)], { timeout: 30_000 });
  assert.match(required.stdout, /^GOT 7$/m, required.stderr);
  const imported = await run(process.execPath, ['--input-type=module', '-e', `import { connect } from ${JSON.stringify(`file://${join(dist, 'client.js')}`)};\n${script.replace('const { connect } = REQUIRE;', '')}`], { timeout: 30_000 });
  assert.match(imported.stdout, /^GOT 7$/m, imported.stderr);
  // TLS loads node:tls on first use, with require (the path a dynamic import() would have taken).
  const certs = makeCertificates(join(scratch, 'tls'));
  await using secure = await startManager({ tls: { cert: certs.pem(certs.serverCertFile), key: certs.pem(certs.serverKeyFile) } });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built client in a folder of the test's own
  const { connect } = require(join(dir, 'client.js')) as typeof ClientModule;
  const client = await connect({ address: secure.address, authkey: AUTHKEY, tls: { ca: certs.pem(certs.caFile) } });
  const queue = await client.create<ClientModule.QueueProxy<number>>('Queue');
  await queue.put(3);
  assert.equal(await queue.get(), 3);
  await client.close();
});

test("the client's code is ASCII, so V8 holds it as one byte a character", () => {
  // One character above U+007F anywhere (esbuild escapes them in code, not in the comments it keeps) makes the whole
  // string two bytes a character: twice the memory and decoding time for the code, and for its copy V8 compiles.
  const code = readFileSync(join(dist, CODE_FILE));
  const at = code.findIndex((byte) => byte > 0x7f);
  assert.equal(at, -1, `dist/${CODE_FILE} has a byte above 0x7f: ${code.toString('utf8', Math.max(0, at - 60), at + 20)}`);
});

test('a cache that does not fit the code read is not used, and the client runs the code as read', async () => {
  await using manager = await startManager();
  const header = (cache: Buffer) => cache.subarray(0, cache.indexOf(0x0a) + 1).toString('latin1');
  const cases = {
    none: copyOfClient('none', { cache: () => undefined }),
    'another V8': copyOfClient('another-v8', { cache: (c) => Buffer.concat([Buffer.from(header(c).replace(process.versions.v8, '0.0.0.0'), 'latin1'), c.subarray(header(c).length)]) }),
    'cut short': copyOfClient('cut-short', { cache: (c) => c.subarray(0, c.length >> 1) }),
    'not a cache': copyOfClient('not-a-cache', { cache: () => Buffer.from('syncmanager\n') }),
  };
  for (const [name, dir] of Object.entries(cases)) {
    assert.equal(compileClientCode(dir).cached, false, name);
    assert.equal(await roundTrip(dir, manager.address), dir, name);
  }
});

/** The outcome of a process that requires the client of `dir` (or imports it, with `esm`), connects, puts 7 and gets it. */
function runProgram(dir: string, address: string, esm = false): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  const body = `connect({ address: ${JSON.stringify(address)}, authkey: ${JSON.stringify(AUTHKEY)} }).then(async (c) => { const q = await c.create('Queue'); await q.put(7); console.log('GOT ' + (await q.get())); await c.close(); });`;
  const file = join(dir, 'client.js');
  const args = esm ? ['--input-type=module', '-e', `import { connect } from ${JSON.stringify(`file://${file}`)};\n${body}`] : ['-e', `const { connect } = require(${JSON.stringify(file)});\n${body}`];
  return new Promise((resolve) => {
    // (Without blocking this process: the manager answers from its event loop.)
    execFile(process.execPath, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: number; signal?: string }) | null;
      resolve({ status: failed ? (failed.code ?? null) : 0, signal: failed?.signal ?? null, stdout, stderr });
    });
  });
}

test('a cache damaged after the build is not handed to V8: the importing process neither crashes nor uses it', async () => {
  await using manager = await startManager();
  const built = readFileSync(join(dist, CODE_FILE));
  const data = cachedDataFor(readFileSync(join(dist, CACHE_FILE)), built);
  assert.ok(data, 'the cache fits the code it was made from');
  /** A copy of the client whose cache has V8's data edited by `edit` (the header and the copy of the code as built). */
  const damaged = (name: string, edit: (data: Buffer) => Buffer) =>
    copyOfClient(name, { cache: (cache) => Buffer.concat([cache.subarray(0, cache.length - data.length), edit(Buffer.from(data))]) });
  const flipped = (at: number) => (d: Buffer) => {
    const from = Math.floor(d.length * at);
    for (let i = from; i < from + 16; i++) d[i] ^= 0xff;
    return d;
  };
  const cases = {
    // Each of these crashed Node 20 (V8's fatal error or a segmentation fault) when V8 was handed the data.
    'bytes flipped a tenth in': damaged('flipped-10', flipped(0.1)),
    'bytes flipped a third in': damaged('flipped-33', flipped(0.33)),
    'bytes flipped near the end': damaged('flipped-90', flipped(0.9)),
    'zero-filled after its first bytes': damaged('zero-filled', (d) => d.fill(0, 64)),
    'zero-filled in its middle third': damaged('zero-middle', (d) => d.fill(0, Math.floor(d.length / 3), Math.floor((2 * d.length) / 3))),
    'cut short in the middle': damaged('cut-middle', (d) => d.subarray(0, d.length >> 1)),
    'one byte more': damaged('one-more', (d) => Buffer.concat([d, Buffer.from([0])])),
  };
  for (const [name, dir] of Object.entries(cases)) {
    const run = await runProgram(dir, manager.address, name === 'bytes flipped a third in');
    assert.equal(run.signal, null, `${name}: the process was killed by ${run.signal}\n${run.stderr.slice(0, 400)}`);
    assert.match(run.stdout, /^GOT 7$/m, `${name}: ${run.stderr.slice(0, 400)}`);
    assert.equal(compileClientCode(dir).cached, false, name);
  }
});

test('a Node without zlib.crc32 (before 20.15) cannot check the cache, and compiles the code without it', (t) => {
  const zlib = require('node:zlib') as { crc32?: unknown };
  const crc32 = zlib.crc32;
  t.after(() => (zlib.crc32 = crc32));
  assert.equal(compileClientCode(dist).cached, true);
  zlib.crc32 = undefined;
  assert.equal(compileClientCode(dist).cached, false);
  assert.throws(() => cacheFileBytes(Buffer.from('code'), Buffer.from('data')), /has no zlib\.crc32/);
});

test('a cache V8 made under other flags (another build of Node) passes the checksum and is refused by V8 alone', async () => {
  await using manager = await startManager();
  const built = readFileSync(join(dist, CODE_FILE));
  // V8's data for the same code, made by a process whose V8 flags differ (V8 keys its cache by them).
  const made = spawnSync(process.execPath, ['--no-lazy-feedback-allocation', '--import', 'tsx', '-e', `
    const { compileCode } = require(${JSON.stringify(join(root, 'src', 'client', 'codeCache.ts'))});
    const script = compileCode(require('node:fs').readFileSync(${JSON.stringify(join(dist, CODE_FILE))}), 'client-code.js');
    process.stdout.write(script.createCachedData().toString('base64'));`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(made.status, 0, made.stderr);
  const foreign = Buffer.from(made.stdout, 'base64');
  assert.ok(foreign.length > 1000);
  const dir = copyOfClient('other-flags', { cache: () => cacheFileBytes(built, foreign) });
  const run = await runProgram(dir, manager.address);
  assert.equal(run.signal, null, run.stderr);
  assert.match(run.stdout, /^GOT 7$/m, run.stderr);
  assert.ok(cachedDataFor(readFileSync(join(dir, CACHE_FILE)), built), 'the cache file is whole');
  assert.equal(compileClientCode(dir).cached, false);
});

test('a cache made from other code of the same length is not used, though V8 alone would take it', async () => {
  await using manager = await startManager();
  // The handshake's message on #FAILURE#, in a function the build's run compiled (so it is in the cache), written
  // otherwise with the same length: the client then no longer recognises the refusal and says so in other words.
  const from = Buffer.from('} rejected our authkey`');
  const to = Buffer.from('} REJECTED OUR AUTHKEY`');
  const dir = copyOfClient('same-length', {
    code: (code) => {
      const at = code.indexOf(from);
      assert.ok(at > 0 && code.indexOf(from, at + 1) < 0, 'the handshake message is in the code once');
      return Buffer.concat([code.subarray(0, at), to, code.subarray(at + from.length)]);
    },
  });
  const edited = readFileSync(join(dir, CODE_FILE));
  const cache = readFileSync(join(dir, CACHE_FILE));
  const built = readFileSync(join(dist, CODE_FILE));
  assert.equal(edited.length, built.length);
  const v8Data = cachedDataFor(cache, built)!;
  assert.ok(v8Data, 'the cache fits the code it was made from');
  assert.equal(compileCode(edited, join(dir, CODE_FILE), v8Data).cachedDataRejected, false, 'V8 alone takes a cache made from other code of the same length');
  assert.equal(cachedDataFor(cache, edited), undefined);
  assert.equal(compileClientCode(dir).cached, false);
  await assert.rejects(roundTrip(dir, manager.address, 'not-the-key'), /could not prove it holds the authkey/);
  // The code as built says it the usual way, from the cache.
  await assert.rejects(roundTrip(copyOfClient('as-built-2'), manager.address, 'not-the-key'), /rejected the authkey/);
});
