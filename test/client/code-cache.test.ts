/**
 * `syncmanager/client` compiled with the code cache the build makes (src/client/codeCache.ts):
 * the build makes one the client's code compiles with; the client runs from it, required and
 * imported, over TCP and TLS; and a cache that does not fit the code read (none, another V8's,
 * cut short, or made from other code of the same length, which V8 alone would take) is not used,
 * the client then running the code as read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_FILE, CODE_FILE, cachedDataFor, compileClientCode, compileCode } from '../../src/client/codeCache';
import type * as ClientModule from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { makeCertificates } from '../faults/certificates';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');
const scratch = mkdtempSync(join(tmpdir(), 'syncmanager-code-cache-'));

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

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
  // A script compiled from a cache made in another process has no dynamic import() (see compileClientCode).
  assert.doesNotMatch(readFileSync(join(dist, CODE_FILE), 'utf8'), /\bimport\(/);
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
  // TLS loads node:tls with import() on first use, which the compiled code hands to Node's loader.
  const certs = makeCertificates();
  await using secure = await startManager({ tls: { cert: certs.pem(certs.serverCertFile), key: certs.pem(certs.serverKeyFile) } });
  const { connect } = require(join(dir, 'client.js')) as typeof ClientModule;
  const client = await connect({ address: secure.address, authkey: AUTHKEY, tls: { ca: certs.pem(certs.caFile) } });
  const queue = await client.create<ClientModule.QueueProxy<number>>('Queue');
  await queue.put(3);
  assert.equal(await queue.get(), 3);
  await client.close();
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
