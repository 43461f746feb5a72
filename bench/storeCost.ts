/**
 * What a call costs the manager, and Redis, per op as CPU time, with the in-memory store and with
 * the Redis store: on a shared machine the wall-clock rows of run.ts swing by more than a change
 * does, while the CPU a process spends on a fixed number of ops swings far less.
 *
 *   node esbuild.js && node --import tsx bench/storeCost.ts [--rounds N] [--ops N] [--workload 1|2|3]
 *        [--bundle LABEL=PATH ...] [--pin same] [--prof DIR | --perf DIR | --strace DIR]
 *
 * Each round starts, one after the other (each round starting with the next variant, so none
 * always goes first), the in-memory manager and, for each server bundle (default: this build's
 * `dist/server.js`; `--bundle before=/elsewhere/dist/server.js` compares builds, interleaved), a
 * manager on a fresh `redis-server` without persistence, each in its own process. A client
 * process (the bench's queue loop: one at a time, or 100 in flight; or its seed, an item counted
 * as its 4 calls) warms the manager up with `--ops` ops, then makes `--ops` more; the figures are
 * the CPU time per op over those of the manager (`process.cpuUsage()`, read in its process at
 * both ends), of the client (read likewise) and of Redis (`INFO cpu`), and Redis's own µs per call
 * of each command (`INFO commandstats`). `--pin same` runs
 * every process on CPU 0 (as run.ts's). `--prof DIR` writes a `--cpu-prof` profile of each
 * manager, `--perf DIR` a `perf record -g` of each Redis-store manager over the measured ops, and
 * `--strace DIR` its system call counts (`strace -c -f`).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { WorkloadId } from './harness';
import { AUTHKEY, measurePairs, QUEUE_TYPEIDS, runSeedRound } from './harness';
import { answerCpuTime, cpuTimeOf, lineOf, option, pinned } from './cpuProbe';

const THIS = __filename;

function options(name: string): string[] {
  const found: string[] = [];
  process.argv.forEach((arg, i) => arg === name && found.push(process.argv[i + 1]));
  return found;
}

/** `--perf DIR`: `perf record -g` of the Redis-store manager over the measured ops, into DIR. */
const PERF = process.argv.includes('--perf') ? resolve(option('--perf', '.')) : undefined;

/** `--strace DIR`: counts the Redis-store manager's system calls (strace -c -f) into DIR. */
const STRACE = process.argv.includes('--strace') ? resolve(option('--strace', '.')) : undefined;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * A client process (`storeCost.ts client`) on `workload`: it warms up for `ops` ops, says MARK and
 * waits for a line on its stdin, then makes `ops` ops and says DONE with its ops/s and its own CPU µs per op; `between`
 * runs at MARK and at DONE (reading the processes' CPU time).
 */
async function runClient(address: string, workload: WorkloadId, ops: number, between: () => Promise<void>): Promise<{ opsPerSecond: number; clientUs: number; p50Us?: number; p99Us?: number }> {
  const child = spawn(...pinned(process.execPath, ['--expose-gc', '--import', 'tsx', THIS, 'client', address, workload, String(ops)]), { stdio: ['pipe', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  try {
    await lineOf(child, 'MARK', 120_000);
    await between();
    const done = lineOf(child, 'DONE ', 120_000);
    child.stdin!.write('go\n');
    const [opsPerSecond, clientUs, p50Us, p99Us] = (await done).split(' ').map(Number);
    await between();
    return { opsPerSecond, clientUs, p50Us, p99Us };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}

/** The client side: the bench's queue loops (or its seed, on two connections) through the shipped client bundle. */
async function client(address: string, workload: WorkloadId, ops: number): Promise<void> {
  const { connect } = await import('./ours');
  const conn = await connect(address);
  if (workload === 'seed') {
    // An item is 4 queue calls (put, get, put, get): `ops` calls are ops / 4 items.
    const worker = await connect(address);
    await runSeedRound(conn, worker, ops / 4, 600_000);
    process.stdout.write('MARK\n');
    await new Promise((done) => process.stdin.once('data', done));
    const cpu = process.cpuUsage();
    const result = await runSeedRound(conn, worker, ops / 4, 600_000);
    const used = process.cpuUsage(cpu);
    process.stdout.write(`DONE ${result.itemsPerSec * 4} ${(used.user + used.system) / ops}\n`);
    process.exit(0);
  }
  const queue = await conn.queue!(QUEUE_TYPEIDS.queue);
  const pair = { first: (i: number) => queue.put(i), second: () => queue.get() };
  const loops = workload === 'in-flight' ? 100 : 1;
  await measurePairs(pair, loops, 600_000, ops, false);
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write('MARK\n');
  await new Promise((done) => process.stdin.once('data', done));
  const cpu = process.cpuUsage();
  const result = await measurePairs(pair, loops, 600_000, ops, true);
  const used = process.cpuUsage(cpu);
  process.stdout.write(`DONE ${(result.ops / result.elapsedMs) * 1000} ${(used.user + used.system) / result.ops} ${result.p50Us} ${result.p99Us}\n`);
  await conn.close();
  process.exit(0);
}

/** A manager process serving the bench queues from `bundle`, in memory or on the store `store`. */
async function startManager(bundle: string, store: string | undefined, prof: string | undefined): Promise<{ address: string; pid: number; cpu(): Promise<number>; stop(): Promise<void> }> {
  const args = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), ...(PERF ? ['--perf-basic-prof'] : []), '--import', 'tsx', THIS, 'serve', bundle, ...(store ? [store] : [])];
  const child = spawn(...pinned(process.execPath, args), { stdio: ['pipe', 'pipe', 'inherit'] });
  if (STRACE && store) {
    // Counts the manager's system calls from here on (the warm-up's too): strace -c -f.
    const tracer = spawn('strace', ['-c', '-f', '-p', String(child.pid), '-o', join(STRACE, `strace-${child.pid}.txt`)], { stdio: 'ignore' });
    child.once('exit', () => tracer.kill('SIGINT'));
    await new Promise((done) => setTimeout(done, 500));
  }
  const address = await lineOf(child, 'READY ', 30_000);
  return {
    address,
    pid: child.pid!,
    cpu: () => cpuTimeOf(child),
    stop: () =>
      new Promise<void>((done) => {
        // Ends by itself when its stdin closes (a profile is written on a normal exit); killed after 5 s.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.stdin!.end();
      }),
  };
}

/** The manager side: serves until stdin closes, answering `cpu` with its CPU time in µs. */
async function serve(bundle: string, store: string | undefined): Promise<void> {
  const { Manager, Queue } = (await import(resolve(bundle))) as typeof import('../src/server');
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, ...(store ? { store, storePrefix: 'bench' } : {}) });
  for (const typeid of Object.values(QUEUE_TYPEIDS)) {
    if (store) manager.register(typeid, { shared: 'Queue' });
    else {
      const queue = new Queue();
      manager.register(typeid, { callable: () => queue });
    }
  }
  await manager.listen();
  process.stdout.write(`READY ${manager.address}\n`);
  answerCpuTime(() => void manager.shutdown().then(() => process.exit(0)));
}

interface RedisFigures {
  cpuUs: number;
  calls: number;
  usecPerCall: Record<string, number>;
}

async function startRedis(): Promise<{ url: string; figures(): Promise<RedisFigures>; reset(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'storecost-'));
  const child = spawn(...pinned('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]), { stdio: 'ignore' });
  const { Redis } = await import('ioredis');
  const quiet = (): InstanceType<typeof Redis> => new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null }).on('error', () => {});
  let admin = quiet();
  // redis-server takes a moment to listen: a bounded number of tries.
  for (let tries = 0; ; tries++) {
    try {
      await admin.connect();
      break;
    } catch (error) {
      admin.disconnect();
      if (tries >= 100) throw error;
      await new Promise((done) => setTimeout(done, 50));
      admin = quiet();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    reset: async () => void (await admin.config('RESETSTAT')),
    figures: async () => {
      const cpu = await admin.info('cpu');
      const stats = await admin.info('commandstats');
      const field = (name: string): number => Number(/^(\w+):([\d.]+)/m.exec(cpu.slice(cpu.indexOf(`${name}:`)))?.[2] ?? 0);
      const usecPerCall: Record<string, number> = {};
      let calls = 0;
      for (const [, name, count, usec] of stats.matchAll(/cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g)) {
        usecPerCall[name] = Number(usec);
        if (name === 'evalsha' || name === 'eval') calls += Number(count);
      }
      return { cpuUs: (field('used_cpu_sys') + field('used_cpu_user')) * 1e6, calls, usecPerCall };
    },
    stop: async () => {
      admin.disconnect();
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Figures {
  managerUs: number;
  clientUs: number;
  /** Latency of the queue loops' ops (not measured for the seed). */
  p50Us?: number;
  p99Us?: number;
  redisUs?: number;
  opsPerSecond: number;
  redisCallsPerOp?: number;
  usecPerCall?: Record<string, number>;
}

async function measure(bundle: string, redis: boolean, workload: WorkloadId, ops: number, prof: string | undefined): Promise<Figures> {
  const store = redis ? await startRedis() : undefined;
  const manager = await startManager(bundle, store?.url, store ? prof : undefined);
  try {
    let redisBefore: RedisFigures | undefined;
    let before = 0;
    let used = 0;
    let redisAfter: RedisFigures | undefined;
    let marks = 0;
    let recorder: ChildProcess | undefined;
    const { opsPerSecond, clientUs, p50Us, p99Us } = await runClient(manager.address, workload, ops, async () => {
      if (marks++ === 0) {
        if (PERF && store) {
          recorder = spawn('perf', ['record', '-g', '-p', String(manager.pid), '-o', join(PERF, `perf-${manager.pid}.data`)], { stdio: 'ignore' });
          await new Promise((done) => setTimeout(done, 300));
        }
        await store?.reset();
        redisBefore = await store?.figures();
        before = await manager.cpu();
      } else {
        used = (await manager.cpu()) - before;
        if (recorder) {
          const ended = new Promise((done) => recorder!.once('exit', done));
          recorder.kill('SIGINT');
          await ended;
        }
        redisAfter = await store?.figures();
      }
    });
    return {
      managerUs: used / ops,
      clientUs,
      opsPerSecond,
      p50Us,
      p99Us,
      ...(redisAfter && redisBefore && { redisUs: (redisAfter.cpuUs - redisBefore.cpuUs) / ops, redisCallsPerOp: redisAfter.calls / ops, usecPerCall: redisAfter.usecPerCall }),
    };
  } finally {
    await manager.stop();
    await store?.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const rounds = Number(option('--rounds', '3'));
  const workload: WorkloadId = ({ 1: 'one-at-a-time', 2: 'in-flight', 3: 'seed' } as const)[option('--workload', '2') as '1' | '2' | '3'] ?? 'in-flight';
  const ops = Number(option('--ops', workload === 'in-flight' ? '100000' : '20000'));
  const prof = process.argv.includes('--prof') ? resolve(option('--prof', '.')) : undefined;
  const bundles = options('--bundle').map((spec) => spec.split('=') as [string, string]);
  if (bundles.length === 0) bundles.push(['this build', join(__dirname, '..', 'dist', 'server.js')]);
  const variants = [{ id: 'in memory', bundle: bundles[0][1], redis: false }, ...bundles.map(([label, bundle]) => ({ id: `Redis, ${label}`, bundle, redis: true }))];
  console.log(`manager CPU per op, ${workload}, ${rounds} rounds of ${ops.toLocaleString('en')} ops; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const figures = new Map<string, Figures[]>(variants.map((v) => [v.id, []]));
  for (let round = 1; round <= rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(round - 1 + k) % variants.length];
      const f = await measure(variant.bundle, variant.redis, workload, ops, prof);
      figures.get(variant.id)!.push(f);
      const redisPart = f.redisUs === undefined ? '' : `  Redis ${f.redisUs.toFixed(2)} µs/op, ${f.redisCallsPerOp!.toFixed(2)} scripts/op ${JSON.stringify(f.usecPerCall)}`;
      console.log(`  round ${round}: ${variant.id.padEnd(22)} manager ${f.managerUs.toFixed(2)} µs/op  client ${f.clientUs.toFixed(2)} µs/op  ${f.p50Us === undefined ? '' : `p50 ${f.p50Us.toFixed(1)} µs, p99 ${f.p99Us!.toFixed(1)} µs  `}${Math.round(f.opsPerSecond).toLocaleString('en')} ops/s${redisPart}`);
    }
  }
  console.log('\nmedians:');
  for (const variant of variants) {
    const xs = figures.get(variant.id)!;
    const redisPart = variant.redis ? `  Redis ${median(xs.map((x) => x.redisUs!)).toFixed(2)} µs/op` : '';
    console.log(`  ${variant.id.padEnd(22)} manager ${median(xs.map((x) => x.managerUs)).toFixed(2)} µs/op (${Math.min(...xs.map((x) => x.managerUs)).toFixed(2)}–${Math.max(...xs.map((x) => x.managerUs)).toFixed(2)})  client ${median(xs.map((x) => x.clientUs)).toFixed(2)} µs/op  ${Math.round(median(xs.map((x) => x.opsPerSecond))).toLocaleString('en')} ops/s${redisPart}`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

const [mode, arg1, arg2, arg3] = process.argv.slice(2);
if (mode === 'serve' || mode === 'client') {
  (mode === 'serve' ? serve(arg1, arg2) : client(arg1, arg2 as WorkloadId, Number(arg3))).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
