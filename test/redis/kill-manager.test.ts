/**
 * The must-show of the Redis store: two managers on one Redis and prefix, as separate
 * `syncmanager serve` processes; a producer puts 10,000 items through A; four worker processes,
 * two on each manager, take them with acknowledged gets; A is SIGKILLed by PID halfway, at a
 * moment its sessions hold deliveries in flight (A is frozen with SIGSTOP while Redis is read, so
 * what is read is what A dies holding). Its workers go on through B, and B gives back what A's
 * sessions held once A's lease runs out.
 * Every item is processed, 0 lost, and every duplicate is a redelivery of an item whose earlier
 * delivery was not acknowledged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { connect, type QueueProxy } from '../../src/client';
import { AUTHKEY } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { buildCli, killServer, serveProcess, type ServerProcess } from '../helpers/serverProcess';

const ITEMS = 10_000;
/** Puts in flight at once from the producer (each one put, none batched). */
const PUTS_IN_FLIGHT = 100;
const workerScript = join(__dirname, '..', 'fixtures', 'ack-drain-worker.cjs');
const redis = redisForTests('kill');
const { skip } = redis;
const living = new Set<ChildProcess>();

before(() => {
  if (!skip) buildCli();
});
after(() => {
  for (const child of living) child.kill('SIGKILL');
});

/** What the workers said, in the order each said it. */
interface Tally {
  /** Every processing of an item: its delivery count and id, and whether that delivery was acknowledged. */
  readonly processed: Map<number, { count: number; deliveryId: string; acked: boolean }[]>;
  total: number;
}

function startWorker(addresses: string[], record: Tally, onProcessed: () => void): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [workerScript, AUTHKEY, ...addresses], { stdio: ['pipe', 'pipe', 'inherit'] });
  living.add(child);
  const byId = new Map<string, { acked: boolean }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [kind, value, a, b] = line.split(' ');
    if (kind === 'p') {
      const entry = { count: Number(a), deliveryId: b!, acked: false };
      const list = record.processed.get(Number(value)) ?? [];
      list.push(entry);
      record.processed.set(Number(value), list);
      byId.set(b!, entry);
      record.total++;
      onProcessed();
    } else if (kind === 'a') {
      const entry = byId.get(a!);
      assert.ok(entry, `an ack of a delivery the worker did not process: ${line}`);
      entry.acked = true;
    }
  });
  return { child, exited: once(child, 'exit').then(([code]) => (living.delete(child), code)) };
}

test(`two managers on one Redis, ${ITEMS} items taken with acknowledged gets by four workers, A SIGKILLed halfway: every item processed, 0 lost`, { skip, timeout: 180_000 }, async (t) => {
  const prefix = redis.prefix();
  const serve = (): Promise<ServerProcess> =>
    serveProcess(['--address', '127.0.0.1:0', '--store', redis.url, '--store-prefix', prefix, '--store-lease', '1', '--register', 'get_task_queue=Queue'], { SYNCMANAGER_AUTHKEY: AUTHKEY });
  const plain = new Redis(redis.url);
  // A first, alone, so that the one manager id in the group is A's.
  const a = await serve();
  const [aId] = await plain.smembers(`${prefix}:managers`);
  const b = await serve();
  const inFlightKey = `${prefix}:o:shared:get_task_queue:inflight`;
  try {
    const record: Tally = { processed: new Map(), total: 0 };
    let produced = false;
    let killedAt = -1;
    let killing: Promise<void> | undefined;
    let checking = false;
    let checks = 0;
    let heldByA = 0;
    /** Once halfway: freezes A, and kills it if its sessions hold deliveries in flight, else lets it go on (tried again on the next item processed). */
    const halfway = (): void => {
      if (killing || checking || !produced || record.total < ITEMS / 2) return;
      checking = true;
      assert.ok(++checks < 1000, 'A\'s sessions never held a delivery in flight');
      process.kill(a.child.pid!, 'SIGSTOP');
      void plain.hvals(inFlightKey).then((entries) => {
        heldByA = entries.filter((e) => (JSON.parse(e) as { owner: string }).owner.startsWith(`${aId}/`)).length;
        if (heldByA > 0) {
          killedAt = record.total;
          killing = killServer(a);
        } else {
          process.kill(a.child.pid!, 'SIGCONT');
        }
        checking = false;
      });
    };
    // Two workers on each manager; those on A go on through B once A is gone.
    const workers = [[a.address, b.address], [a.address, b.address], [b.address], [b.address]].map((addresses) => startWorker(addresses, record, halfway));

    await using producer = await connect<{ get_task_queue: QueueProxy<number> }>({ address: a.address, authkey: AUTHKEY, reconnect: false });
    const tasks = await producer.get_task_queue();
    let next = 0;
    await Promise.all(
      Array.from({ length: PUTS_IN_FLIGHT }, async () => {
        while (next < ITEMS) await tasks.put(next++);
      }),
    );
    await producer.close();
    produced = true;
    halfway();

    // Bounded by the test's timeout: the workers report every item, or the test fails naming what is missing.
    const missing = (): number[] => Array.from({ length: ITEMS }, (_, i) => i).filter((i) => !record.processed.has(i));
    for (let checks = 0; missing().length > 0; checks++) {
      assert.ok(checks < 600, `items never processed: ${missing().slice(0, 20).join(', ')}… (${missing().length})`);
      assert.ok(workers.some((w) => w.child.exitCode === null), 'every worker exited before all items were processed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(killing, 'A was killed');
    await killing;
    for (const w of workers) w.child.stdin!.end();
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0, 0, 0], 'every worker ended cleanly');

    // Every item processed; every duplicate a redelivery of an item whose earlier delivery was not acknowledged.
    let duplicates = 0;
    const ids = new Set<string>();
    for (const [value, list] of record.processed) {
      for (const p of list) ids.add(p.deliveryId);
      duplicates += list.length - 1;
      for (let i = 1; i < list.length; i++) {
        assert.equal(list[i - 1]!.acked, false, `item ${value} was delivered again although its earlier delivery was acknowledged`);
        assert.ok(list[i]!.count > list[i - 1]!.count, `item ${value}'s later delivery says redelivered (${JSON.stringify(list)})`);
      }
    }
    assert.equal(ids.size, record.total, 'delivery ids are unique across both managers');
    assert.ok(killedAt >= ITEMS / 2 && killedAt < ITEMS, `A was killed halfway, after ${killedAt} items processed`);
    const redelivered = [...record.processed.values()].flat().filter((p) => p.count > 1).length;
    assert.ok(redelivered >= heldByA, `the ${heldByA} deliveries A died holding were delivered again, marked redelivered (${redelivered})`);
    // Nothing left over: the queue is empty and nothing is in flight.
    const key = `${prefix}:o:shared:get_task_queue`;
    assert.deepEqual([await plain.llen(`${key}:items`), await plain.hlen(`${key}:inflight`)], [0, 0]);
    t.diagnostic(`${ITEMS} items, ${record.total} processings, ${duplicates} duplicates, ${redelivered} deliveries marked redelivered; A killed after ${killedAt} items, holding ${heldByA} in flight`);
  } finally {
    plain.disconnect();
    await killServer(a);
    await killServer(b);
  }
});
