/**
 * A getter whose process dies while it waits takes nothing with it, however soon after its death
 * the next item is put: the hand-off goes only to a live connection, and an item whose answer
 * cannot be written goes back to the front of the queue. Real TypeScript client processes (the
 * built client library), SIGKILLed by PID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type QueueProxy } from '../../src/client';
import { Manager } from '../../src/server';
import { deadGetterRounds, type DoomedGetter } from '../helpers/deadGetterRounds';

const AUTHKEY = 'dead-getter-key';
const ROUNDS = 200;
const target = join(__dirname, '..', 'fixtures', 'kill-target.cjs');
const living = new Set<ChildProcess>();

test.after(() => {
  for (const child of living) child.kill('SIGKILL');
});

/** A client process blocked in `get()` on queue `id`. */
async function startDoomed(address: string, id: string): Promise<DoomedGetter> {
  const child = spawn(process.execPath, [target, address, AUTHKEY, JSON.stringify([{ id, method: 'get', await: false }])], { stdio: ['ignore', 'pipe', 'pipe'] });
  living.add(child);
  const exited = once(child, 'exit').then(() => living.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the getter process exited with ${code}: ${stderr}`)));
  });
  if (line !== 'ready') throw new Error(`the getter process said ${line}`);
  return {
    pid: child.pid!,
    kill: async () => {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

test(`a TypeScript getter SIGKILLed in get() and an item put as soon as it exited: the item reaches the live getter (${ROUNDS} rounds)`, { timeout: 240_000 }, async () => {
  // A manager process of its own, as in use.
  const manager = new Manager({ authkey: AUTHKEY }).register('get_queue', { shared: 'Queue' });
  const address = await manager.start();
  try {
    const id = await queueId(address);
    const result = await deadGetterRounds(address, AUTHKEY, ROUNDS, () => startDoomed(address, id));
    assert.deepEqual(result, { lost: [], duplicated: [] }, `of ${ROUNDS} rounds, ${result.lost.length} lost their item and ${result.duplicated.length} kept a copy`);
  } finally {
    await manager.shutdown();
  }
});

/** The shared queue's id, as a client sees it. */
async function queueId(address: string): Promise<string> {
  await using client = await connect<{ get_queue: QueueProxy<string> }>({ address, authkey: AUTHKEY, name: 'id-reader' });
  return ((await client.get_queue()) as unknown as { id: string }).id;
}
