/**
 * Makes `dist/client-code.cache` (see src/client/codeCache.ts): esbuild.js runs this, as
 * `dist/build/client-code-cache.js`, in a Node process of its own with no V8 flags, as a program
 * using the client runs. It serves a queue from `dist/server.js` on 127.0.0.1, compiles
 * `dist/client-code.js` as `dist/client.js` does, connects, creates the queue, puts, gets and
 * closes, then writes what V8 compiled for all that; nothing when the cache there fits the code.
 * Prints why when it cannot; the client then compiles its code at load.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_FILE, cacheFileBytes, compileClientCode, runClientCode } from '../src/client/codeCache';
import type * as ClientModule from '../src/client';
import type * as ServerModule from '../src/server';

async function main(): Promise<void> {
  const dist = join(__dirname, '..');
  const code = compileClientCode(dist);
  // A rebuild that wrote the same code keeps its cache (tests rebuild dist/ often).
  if (code.cached) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle just built, found at run time
  const { Manager, Queue } = require(join(dist, 'server.js')) as typeof ServerModule;
  const manager = new Manager({ address: '127.0.0.1:0', authkey: 'code-cache' });
  const queue = new Queue();
  manager.register('get_queue', { callable: () => queue });
  await manager.listen();
  try {
    const module = { exports: {} as typeof ClientModule };
    runClientCode(code, module, require, dist);
    const client = await module.exports.connect({ address: manager.address, authkey: 'code-cache' });
    const q = await client.create<ClientModule.QueueProxy<number>>('get_queue');
    await q.put(1);
    await q.get();
    await client.close();
    const file = join(dist, CACHE_FILE);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, cacheFileBytes(code.source, code.script.createCachedData()));
    renameSync(temporary, file);
  } finally {
    await manager.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`the client's code cache was not made: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
