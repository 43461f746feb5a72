/**
 * What the Activity hook (SPEC 17.8) costs the server per call, as CPU time rather than wall time:
 * on a loaded machine the wall-clock rows of run.ts vary by several times between rounds, while the
 * CPU the server process spends on a fixed number of calls varies far less.
 *
 *   node esbuild.js && node --expose-gc --import tsx bench/activityCost.ts [--rounds N] [--calls N]
 *
 * Each round serves, in this process and one after the other (each round starting with the next one,
 * so none always goes first), the three servers of run.ts's `ours` rows: built without the hook (`ours-unhooked`), as shipped with nobody watching (`ours`), and as
 * shipped with a session watching calls (`ours-watched`, its watcher in this process too). A client
 * in another process (child.ts, workload 2: 100 calls in flight on one connection) makes a fixed
 * number of calls; the server's CPU time over the client's run, divided by the calls, is the figure.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BenchConfig, LatencyResult, Served } from './harness';
import * as ours from './ours';

const CHILD = join(__dirname, 'child.ts');
const CONCURRENCY = 100;

const VARIANTS: { id: string; label: string; serve: () => Promise<Served> }[] = [
  { id: 'ours-unhooked', label: 'no activity hook', serve: ours.serveWithoutActivityHook },
  { id: 'ours', label: 'hook, nobody watching', serve: () => ours.serve() },
  { id: 'ours-watched', label: 'hook, one watcher', serve: ours.serveWatched },
];

function option(name: string, fallback: number, min: number, max: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} takes a whole number from ${min} to ${max}`);
  return value;
}

/** Runs child.ts's client on workload 2 until `calls` calls are measured; resolves with its result. */
function runClient(address: string, calls: number): Promise<LatencyResult> {
  // No warm-up time: each loop makes one pair before it sees the deadline; the clock is generous so the count ends the run.
  const config: BenchConfig = { workloads: ['in-flight'], warmupMs: 0, durationMs: 600_000, maxOps: calls, concurrency: CONCURRENCY, seedItems: 0, seedWarmupItems: 0, seedTimeoutMs: 0 };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, 'client', 'ours', address, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      const result = line ? (JSON.parse(line.slice('RESULT '.length)) as { results: { 'in-flight'?: LatencyResult } }).results['in-flight'] : undefined;
      if (result?.kind === 'latency') resolve(result);
      else reject(new Error(`the client ended (${signal ?? `code ${code}`}) without a result: ${out.trim() || '(no output)'} ${err.trim()}`));
    });
  });
}

/** Server CPU µs per call for one variant: served here, called from a child process. */
async function measure(serve: () => Promise<Served>, calls: number): Promise<number> {
  const served = await serve();
  try {
    // What earlier rounds left is collected before the clock starts, not during the next variant's run.
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.cpuUsage();
    const result = await runClient(served.address, calls);
    const used = process.cpuUsage(before);
    // The measured calls, the warm-up's one pair per loop, and the object/create of the queue.
    const servedCalls = result.ops + 2 * CONCURRENCY + 1;
    return (used.user + used.system) / servedCalls;
  } finally {
    await served.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const rounds = option('--rounds', 5, 1, 50);
  const calls = option('--calls', 40_000, 1_000, 1_000_000);
  console.log(`server CPU time per call, ${rounds} rounds of ${calls.toLocaleString('en')} calls (${CONCURRENCY} in flight, one connection); load before: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const figures = new Map<string, number[]>(VARIANTS.map((v) => [v.id, []]));
  for (let round = 1; round <= rounds; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const variant = VARIANTS[(round - 1 + k) % VARIANTS.length];
      const us = await measure(variant.serve, calls);
      figures.get(variant.id)!.push(us);
      console.log(`  round ${round}: ${variant.id.padEnd(14)} ${us.toFixed(2)} µs/call`);
    }
  }
  const base = figures.get('ours-unhooked')!;
  console.log('\nrow             what                     median µs/call   range           median of (row − unhooked) per round');
  for (const variant of VARIANTS) {
    const xs = figures.get(variant.id)!;
    const diffs = xs.map((x, i) => x - base[i]);
    const diff = variant.id === 'ours-unhooked' ? '' : `${median(diffs) >= 0 ? '+' : ''}${median(diffs).toFixed(2)} µs (${((median(diffs) / median(base)) * 100).toFixed(1)} %)`;
    console.log(`${variant.id.padEnd(15)} ${variant.label.padEnd(24)} ${median(xs).toFixed(2).padStart(14)}   ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`.padEnd(78) + diff);
  }
  console.log(`load after: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
