/**
 * What a call costs the server as CPU time, for builds compared interleaved: on a shared machine
 * the wall-clock rows of run.ts swing by more than a change to the server does, while the CPU the
 * server spends on a fixed number of ops swings far less.
 *
 *   node esbuild.js && node --import tsx bench/serverCost.ts [--bundle LABEL=PATH ...]
 *        [--client ts|python] [--workload 1|2] [--ops N] [--rounds N] [--pin same]
 *        [--client-bundle PATH] [--python PATH] [--prof DIR] [--payload BYTES]
 *
 * Each round serves the bench queues from each server bundle in turn (default: this build's
 * `dist/server.js`; `--bundle before=/elsewhere/dist/server.js` adds a build to compare), each in
 * a process of its own, to one client process: the TypeScript client (`--client-bundle`, default
 * this build's `dist/client.js`; give both builds the same one to measure the server alone) or an
 * unmodified CPython BaseManager client (`--python`, default pyenv's 3.11). The client makes put
 * and get pairs, one at a time (`--workload 1`) or 100 in flight (`--workload 2`: 100 loops on one
 * connection for ours, 100 threads with a connection each for CPython's, whose proxies have one
 * call out at a time); it warms up with `--ops` ops, then makes `--ops` more, over which the
 * server's CPU time (`process.cpuUsage()` read in its process at both ends) and the client's are
 * divided by the ops. `--pin same` runs both on CPU 0. `--prof DIR` writes each server's
 * `--cpu-prof` profile. `--payload 65536` puts a byte string of that many bytes instead of the loop
 * counter (a Uint8Array from the TypeScript client, `bytes` from CPython's), for the 64 KiB row's
 * CPU per op; `--bundle python=python` serves the queues from CPython's own BaseManager instead of
 * a bundle (its CPU time read from `/proc`, every thread's), for CPython's client to compare with.
 */

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { AUTHKEY, measurePairs, QUEUE_TYPEIDS } from './harness';
import { answerCpuTime, cpuTimeOf, lineOf, option, PIN, pinned } from './cpuProbe';

const THIS = __filename;
const PYTHON_CLIENT = join(__dirname, 'peers', 'python_cost_client.py');
const PYTHON_SERVER = join(__dirname, 'peers', 'python_manager_server.py');
/** The `--bundle` path that means CPython's own BaseManager server. */
const PYTHON_BUNDLE = 'python';
/** Bytes each put carries (`--payload`); 0 for the loop counter. */
const PAYLOAD = Number(option('--payload', '0'));

/** The server side: serves the bench queues from `bundle` until stdin closes, answering `cpu` with its CPU time in µs. */
async function serve(bundle: string): Promise<void> {
  const { serve: serveBundle } = await import('./ours');
  const served = await serveBundle(resolve(bundle));
  process.stdout.write(`READY ${served.address}\n`);
  answerCpuTime(() => void served.close().then(() => process.exit(0)));
}

/** The TypeScript client side: warms up, says MARK, waits for a line, makes `ops` ops and says DONE with ops/s and its CPU µs per op. */
async function client(address: string, clientBundle: string, loops: number, ops: number, payload: number): Promise<void> {
  const { connect } = (await import(resolve(clientBundle))) as typeof import('../src/client');
  const conn = await connect({ address, authkey: AUTHKEY });
  const queue = await conn.create<import('../src/client').QueueProxy<unknown>>(QUEUE_TYPEIDS.queue);
  const value = payload > 0 ? new Uint8Array(payload).fill(0x61) : undefined;
  const pair = { first: (i: number) => queue.put(value ?? i), second: () => queue.get() };
  await measurePairs(pair, loops, 600_000, ops, false);
  process.stdout.write('MARK\n');
  await new Promise((done) => process.stdin.once('data', done));
  const cpu = process.cpuUsage();
  const result = await measurePairs(pair, loops, 600_000, ops, true);
  const used = process.cpuUsage(cpu);
  process.stdout.write(`DONE ${(result.ops / result.elapsedMs) * 1000} ${(used.user + used.system) / result.ops} ${result.ops}\n`);
  await conn.close();
  process.exit(0);
}

interface Figures {
  serverUs: number;
  clientUs: number;
  opsPerSecond: number;
}

async function measure(bundle: string, kind: 'ts' | 'python', loops: number, ops: number, prof: string | undefined): Promise<Figures> {
  const python = bundle === PYTHON_BUNDLE;
  const serverArgs = [...(prof ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', prof] : []), '--import', 'tsx', THIS, 'serve', bundle];
  const server = python
    ? spawn(...pinned(option('--python', pythonPath()), [PYTHON_SERVER, 'bench']), { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(...pinned(process.execPath, serverArgs), { stdio: ['pipe', 'pipe', 'inherit'] });
  const serverCpu = (): Promise<number> => (python ? Promise.resolve(procCpuUs(server.pid!)) : cpuTimeOf(server));
  try {
    const address = await lineOf(server, 'READY ', 30_000);
    const clientArgs: [string, string[]] =
      kind === 'ts'
        ? [process.execPath, ['--import', 'tsx', THIS, 'client', address, resolve(option('--client-bundle', join(__dirname, '..', 'dist', 'client.js'))), String(loops), String(ops), String(PAYLOAD)]]
        : [option('--python', pythonPath()), [PYTHON_CLIENT, address, String(loops), String(ops), String(PAYLOAD)]];
    const child = spawn(...pinned(...clientArgs), { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    try {
      await lineOf(child, 'MARK', 300_000);
      const before = await serverCpu();
      const done = lineOf(child, 'DONE ', 300_000);
      child.stdin!.write('go\n');
      const [opsPerSecond, clientUs, made] = (await done).split(' ').map(Number);
      const used = (await serverCpu()) - before;
      return { serverUs: used / made, clientUs, opsPerSecond };
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  } finally {
    await new Promise<void>((done) => {
      // Ends by itself when its stdin closes (a profile is written on a normal exit); killed after 5 s.
      const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
      server.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      server.stdin!.end();
    });
  }
}

/** A process's user and system time in µs, all its threads', from `/proc` (in clock ticks of 10 ms). */
function procCpuUs(pid: number): number {
  // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function pythonPath(): string {
  const root = execFileSync('pyenv', ['root']).toString().trim();
  const version = execFileSync('ls', [join(root, 'versions')]).toString().split('\n').find((v) => v.startsWith('3.11'));
  return join(root, 'versions', version!, 'bin', 'python');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const rounds = Number(option('--rounds', '3'));
  const kind = option('--client', 'ts') === 'python' ? 'python' : 'ts';
  const loops = option('--workload', '1') === '2' ? 100 : 1;
  const ops = Number(option('--ops', loops === 1 ? '40000' : '200000'));
  const prof = process.argv.includes('--prof') ? resolve(option('--prof', '.')) : undefined;
  const bundles: [string, string][] = [];
  process.argv.forEach((arg, i) => arg === '--bundle' && bundles.push(process.argv[i + 1].split('=') as [string, string]));
  if (bundles.length === 0) bundles.push(['this build', join(__dirname, '..', 'dist', 'server.js')]);
  console.log(`server CPU per op, ${kind} client, ${loops === 1 ? 'one at a time' : '100 in flight'}, ${rounds} rounds of ${ops.toLocaleString('en')} ops${PAYLOAD ? `, puts of ${PAYLOAD} bytes` : ''}${PIN ? ', pinned to CPU 0' : ''}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const figures = new Map<string, Figures[]>(bundles.map(([label]) => [label, []]));
  for (let round = 1; round <= rounds; round++) {
    for (let k = 0; k < bundles.length; k++) {
      const [label, bundle] = bundles[(round - 1 + k) % bundles.length];
      const f = await measure(bundle, kind, loops, ops, prof);
      figures.get(label)!.push(f);
      console.log(`  round ${round}: ${label.padEnd(12)} server ${f.serverUs.toFixed(2)} µs/op  client ${f.clientUs.toFixed(2)} µs/op  ${Math.round(f.opsPerSecond).toLocaleString('en')} ops/s`);
    }
  }
  console.log('medians (range):');
  for (const [label] of bundles) {
    const xs = figures.get(label)!;
    const range = (pick: (f: Figures) => number): string => `${median(xs.map(pick)).toFixed(2)} (${Math.min(...xs.map(pick)).toFixed(2)}–${Math.max(...xs.map(pick)).toFixed(2)})`;
    console.log(`  ${label.padEnd(12)} server ${range((f) => f.serverUs)} µs/op  client ${range((f) => f.clientUs)} µs/op  ${Math.round(median(xs.map((f) => f.opsPerSecond))).toLocaleString('en')} ops/s`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

const [mode, ...rest] = process.argv.slice(2);
const fail = (error: unknown): void => {
  console.error(error);
  process.exit(1);
};
if (mode === 'serve') serve(rest[0]).catch(fail);
else if (mode === 'client') client(rest[0], rest[1], Number(rest[2]), Number(rest[3]), Number(rest[4] ?? 0)).catch(fail);
else main().then(() => process.exit(0), fail);
