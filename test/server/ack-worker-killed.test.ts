/**
 * The first promise of acknowledged gets (SPEC 20.3): a worker process that holds an
 * unacknowledged delivery and is SIGKILLed loses nothing. Real client processes (the built client
 * library), killed by PID once they say they hold their delivery; the item must come back,
 * marked redelivered, exactly once, round after round.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { connect, EmptyError, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { buildCli } from '../helpers/serverProcess';
import { until } from '../helpers/until';

const ROUNDS = 100;
const worker = join(__dirname, '..', 'fixtures', 'ack-worker.cjs');
const living = new Set<ChildProcess>();

before(() => buildCli());
test.after(() => {
  for (const child of living) child.kill('SIGKILL');
});

/** A worker process, connected and waiting for the word to take its item. */
interface Worker {
  readonly child: ChildProcess;
  readonly lines: Interface;
  readonly exited: Promise<unknown>;
}

/** The next line the worker prints, or its failure. */
function nextLine(w: Worker, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the worker exited with ${code} before ${what}`));
    w.child.once('exit', onExit);
    w.lines.once('line', (line) => {
      w.child.off('exit', onExit);
      resolve(line);
    });
  });
}

async function startWorker(address: string): Promise<Worker> {
  const child = spawn(process.execPath, [worker, address, AUTHKEY], { stdio: ['pipe', 'pipe', 'inherit'] });
  living.add(child);
  const w: Worker = { child, lines: createInterface({ input: child.stdout! }), exited: once(child, 'exit').then(() => living.delete(child)) };
  const line = await nextLine(w, 'it connected');
  if (line !== 'ready') throw new Error(`the worker said ${line}`);
  return w;
}

test(`a worker SIGKILLed while it holds an unacknowledged delivery: the item is delivered again, ${ROUNDS} rounds, 0 lost`, { timeout: 240_000 }, async () => {
  await using manager = await startManager({}, (m) => m.register('get_jobs', { shared: 'Queue' }));
  await using survivor = await connect<{ get_jobs: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, name: 'survivor', reconnect: false });
  const jobs = await survivor.get_jobs();
  const lost: number[] = [];
  const duplicated: number[] = [];
  // Workers start a few rounds ahead, so the rounds do not wait for node to start.
  const AHEAD = 3;
  const starting: Promise<Worker>[] = [];
  for (let i = 0; i < Math.min(AHEAD, ROUNDS); i++) starting.push(startWorker(manager.address));
  for (let round = 0; round < ROUNDS; round++) {
    const item = `job ${round}`;
    await jobs.put(item);
    const w = await starting.shift()!;
    if (round + AHEAD < ROUNDS) starting.push(startWorker(manager.address));
    const held = nextLine(w, 'it took its item');
    w.child.stdin!.write('go\n');
    const delivery = JSON.parse(await held) as { value: string; redelivered: boolean; deliveryCount: number };
    assert.deepEqual([delivery.value, delivery.redelivered, delivery.deliveryCount], [item, false, 1], `round ${round}: the worker's delivery`);
    // Every other round, the survivor is already waiting when the worker dies: the item is handed to it.
    let waiting: Promise<unknown> | undefined;
    if (round % 2 === 1) {
      waiting = jobs.get({ ack: true, timeout: 10 });
      const mine = [...manager.connectedSessions].find((s) => s.id === survivor.sessionId)!;
      await until(`round ${round}: the survivor's get to wait`, () => mine.pendingCount === 1);
    }
    process.kill(w.child.pid!, 'SIGKILL');
    await w.exited;
    let again;
    try {
      again = await (waiting ?? jobs.get({ ack: true, timeout: 10 }));
    } catch (error) {
      if (!(error instanceof EmptyError)) throw error;
      lost.push(round);
      continue;
    }
    const d = again as { value: string; redelivered: boolean; deliveryCount: number; ack(): Promise<void> };
    assert.deepEqual([d.value, d.redelivered, d.deliveryCount], [item, true, 2], `round ${round}: the item delivered again`);
    await d.ack();
    if ((await jobs.qsize()) !== 0) {
      duplicated.push(round);
      while ((await jobs.qsize()) > 0) await jobs.getNowait();
    }
  }
  assert.deepEqual({ lost, duplicated }, { lost: [], duplicated: [] }, `of ${ROUNDS} rounds, ${lost.length} lost their item and ${duplicated.length} kept a copy`);
});
