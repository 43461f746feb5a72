/**
 * The bench's further rows, the ones users ask about beside the three workloads of run.ts:
 *
 *   node --import tsx bench/rows/run.ts [--quick] [--rounds N] [--pin none|same] [--only ROW[,ROW]]
 *
 * rows: `clients` (1 and 4 client processes one at a time, aggregate ops/s and the server's CPU
 * µs per op over the measured window), `payload` (64 KiB put/get pairs, MB/s), `cold` (a fresh
 * process to its first result, beyond the runtime's own start), `memory` (server RSS growth for
 * queued small ints). Peers: ours, Python 3.11's BaseManager, Redis (minimal RESP client and
 * ioredis). See bench/README.md, "More rows".
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AUTHKEY, QUEUE_TYPEIDS, type BenchConfig, type LatencyResult } from '../harness';
import { procCpuUs } from '../cpuProbe';
import { freePort } from '../peers/net-util';
import { AUTHKEY_VARIABLE } from '../../src/common/environmentVariables';
import { IDLE_CHECK_MS } from '../../src/server/idleHeapTrim';

const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(ROOT, 'bench', 'child.ts');
const ROWS = __dirname;
const PY_ROWS = path.join(ROWS, 'python_rows_client.py');
const PY_SERVER = path.join(ROOT, 'bench', 'peers', 'python_manager_server.py');
const ROW_NAMES = ['clients', 'payload', 'cold', 'memory'] as const;
type RowName = (typeof ROW_NAMES)[number];

interface Options {
  quick: boolean;
  rounds: number;
  pin: 'none' | 'same';
  rows: RowName[];
  /** `--cold-also LABEL=PATH`: more cold clients, another build's `client.js` or a folder holding `syncmanager_client`, to compare with in the same run. */
  coldAlso: { label: string; path: string }[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, rounds: 0, pin: 'none', rows: [], coldAlso: [] };
  for (let k = 0; k < argv.length; k++) {
    const [name, ...rest] = argv[k].split('=');
    const inline = rest.length ? rest.join('=') : undefined;
    const value = () => inline ?? argv[++k];
    if (name === '--quick') options.quick = true;
    else if (name === '--rounds') options.rounds = Math.max(1, Math.min(20, Number(value()) || 1));
    else if (name === '--pin') {
      const pin = value();
      if (pin !== 'none' && pin !== 'same') throw new Error(`--pin ${pin}: the rows take none or same`);
      options.pin = pin;
    } else if (name === '--only') {
      for (const row of value().split(',')) {
        if (!(ROW_NAMES as readonly string[]).includes(row)) throw new Error(`--only ${row}: rows are ${ROW_NAMES.join(', ')}`);
        options.rows.push(row as RowName);
      }
    } else if (name === '--cold-also') {
      const [label, file] = value().split(/=(.*)/s);
      if (!label || !file) throw new Error('--cold-also LABEL=PATH: a client.js of another build, or a folder holding syncmanager_client');
      options.coldAlso.push({ label, path: path.resolve(file) });
    } else throw new Error(`unknown argument ${argv[k]}`);
  }
  options.rounds ||= options.quick ? 1 : 3;
  if (options.rows.length === 0) options.rows = [...ROW_NAMES];
  return options;
}

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

let pin: Options['pin'] = 'none';

function start(command: string, args: string[], stdin: 'pipe' | 'ignore' = 'pipe', env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, argv] = pin === 'same' ? ['taskset', ['-c', '0', command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: [stdin, 'pipe', 'pipe'], env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  (child as ChildProcess & { errText: () => string }).errText = () => err.trim();
  return child;
}

/** Resolves with the first stdout line matching `pattern` (bounded by `timeoutMs`). */
function waitLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => done(new Error(`no ${pattern} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer) => {
      pending += d.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const match = pattern.exec(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (match) return done(undefined, match);
      }
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${pattern}: ${(child as ChildProcess & { errText: () => string }).errText?.() ?? ''}`));
    const done = (error?: Error, match?: RegExpMatchArray) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
const cpuMs = (pid: number): number => procCpuUs(pid) / 1000;

/** Resident set size (MB) of a process, from /proc. */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const PYTHON = (() => {
  const root = process.env.PYENV_ROOT ?? spawnSync('pyenv', ['root'], { encoding: 'utf8' }).stdout?.trim();
  const candidate = root ? path.join(root, 'versions', '3.11.7', 'bin', 'python') : '';
  return candidate && existsSync(candidate) ? candidate : 'python3';
})();
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

type Server = 'ours' | 'python' | 'redis';
interface Running {
  child: ChildProcess;
  address: string;
}

async function startServer(kind: Server): Promise<Running> {
  if (kind === 'redis') {
    if (!REDIS) throw new Error('redis-server not installed');
    const port = await freePort();
    const child = start(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']);
    await waitLine(child, /Ready to accept connections/, 30_000);
    return { child, address: `127.0.0.1:${port}` };
  }
  const child = kind === 'ours' ? start(process.execPath, ['--import', 'tsx', CHILD, 'server', 'ours']) : start(PYTHON, [PY_SERVER, 'bench']);
  const match = await waitLine(child, /^READY (\S+)/, 30_000);
  return { child, address: match[1] };
}

/**
 * Our server as it is run, `syncmanager serve` (dist/cli.js) in a plain Node process serving the
 * bench's queue: the bench's own server process (bench/child.ts) runs under tsx, whose loader
 * thread and compiled TypeScript hold tens of MB the memory row would read as the server's and
 * give back at a time of their own.
 */
async function startCliServer(): Promise<Running> {
  const args = [path.join(ROOT, 'dist', 'cli.js'), 'serve', '--address', '127.0.0.1:0', '--no-config', '--register', `${QUEUE_TYPEIDS.queue}=Queue`];
  const child = start(process.execPath, args, 'pipe', { ...process.env, [AUTHKEY_VARIABLE]: AUTHKEY });
  const match = await waitLine(child, /serving on (\S+)$/, 30_000);
  return { child, address: match[1] };
}

/** A client process of the one-at-a-time loop; resolves with its result. */
async function oneAtATimeClient(client: Client, address: string, config: BenchConfig): Promise<LatencyResult> {
  const json = JSON.stringify({ ...config, workloads: ['one-at-a-time'] });
  const child =
    client === 'python' || client === 'python-json'
      ? start(PYTHON, [PY_ROWS, client === 'python' ? 'clients' : 'json-clients', address, json])
      : start(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, 'client', client, address, json]);
  const match = await waitLine(child, /^RESULT (.*)$/, 120_000);
  await stop(child);
  const result = (JSON.parse(match[1]) as { results: Record<string, LatencyResult & { reason?: string }> }).results['one-at-a-time'];
  if (result.kind !== 'latency') throw new Error(result.reason ?? 'no result');
  return result;
}

type Client = 'ours' | 'python' | 'python-json' | 'redis' | 'redis-ioredis';
const SERVER_OF: Record<Client, Server> = { ours: 'ours', python: 'python', 'python-json': 'ours', redis: 'redis', 'redis-ioredis': 'redis' };
const LABEL: Record<Client, string> = {
  ours: 'ours (syncmanager)',
  python: 'Python 3.11 BaseManager',
  'python-json': 'Python 3.11 JSON client → ours',
  redis: 'Redis (minimal RESP client)',
  'redis-ioredis': 'Redis via ioredis',
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ');
  return [line(headers), '  ' + widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Rows

/**
 * One window of warm-up and one measured, the same for every implementation (several processes
 * share one start time, so no process warms up longer than another). 300 ms and 1 s measured four
 * fresh Node processes partly while V8 was still optimizing their path: back to back on a busy
 * machine, ours did 17,783 ops/s with them and 40,527 with 2 s and 3 s (Python 21,940 and 24,345),
 * which measure every row at its own steady pace.
 */
function baseConfig(options: Options): BenchConfig {
  const [warmupMs, durationMs] = options.quick ? [300, 700] : [2000, 3000];
  return { workloads: ['one-at-a-time'], warmupMs, durationMs, maxOps: 2_000_000, concurrency: 1, seedItems: 0, seedWarmupItems: 0, seedTimeoutMs: 0 };
}

/** `processes` clients at once against one server; aggregate ops/s and server CPU µs/op over the measured window. */
async function clientsRound(client: Client, processes: number, options: Options): Promise<{ opsPerSec: number; cpuUsPerOp: number; p99Us: number }> {
  const server = await startServer(SERVER_OF[client]);
  try {
    const config = baseConfig(options);
    // Far enough ahead for every client process to start and connect (tsx start-up on a loaded machine).
    config.startAtMs = Date.now() + 4000 + 500 * processes;
    const windowStart = config.startAtMs + config.warmupMs;
    const pid = server.child.pid!;
    let cpuAtStart = NaN;
    let cpuAtEnd = NaN;
    const t1 = setTimeout(() => (cpuAtStart = cpuMs(pid)), windowStart - Date.now());
    const t2 = setTimeout(() => (cpuAtEnd = cpuMs(pid)), windowStart + config.durationMs - Date.now());
    const results = await Promise.all(Array.from({ length: processes }, () => oneAtATimeClient(client, server.address, config)));
    clearTimeout(t1);
    clearTimeout(t2);
    const late = results.some((r) => r.elapsedMs > config.durationMs * 1.5);
    const ops = results.reduce((sum, r) => sum + r.ops, 0);
    const opsPerSec = results.reduce((sum, r) => sum + r.opsPerSec, 0);
    // The window the CPU was read over is durationMs long: charge it the ops done in that time.
    const cpuUsPerOp = late ? NaN : ((cpuAtEnd - cpuAtStart) * 1000) / ((opsPerSec * config.durationMs) / 1000);
    void ops;
    return { opsPerSec, cpuUsPerOp, p99Us: Math.max(...results.map((r) => r.p99Us)) };
  } finally {
    await stop(server.child);
  }
}

async function clientsRow(options: Options): Promise<void> {
  const clients: Client[] = ['ours', 'python', 'python-json', 'redis', 'redis-ioredis'];
  const rows: string[][] = [];
  const figures: Record<string, { one: number[]; four: number[]; cpuOne: number[]; cpuFour: number[] }> = {};
  for (let round = 1; round <= options.rounds; round++) {
    for (const client of clients) {
      process.stderr.write(`rows: clients, round ${round}/${options.rounds}: ${LABEL[client]} ...\n`);
      const f = (figures[client] ??= { one: [], four: [], cpuOne: [], cpuFour: [] });
      try {
        const one = await clientsRound(client, 1, options);
        const four = await clientsRound(client, 4, options);
        f.one.push(one.opsPerSec);
        f.cpuOne.push(one.cpuUsPerOp);
        f.four.push(four.opsPerSec);
        f.cpuFour.push(four.cpuUsPerOp);
      } catch (error) {
        process.stderr.write(`rows: ${LABEL[client]}: ${(error as Error).message}\n`);
      }
    }
  }
  const oursFour = median(figures.ours?.four ?? [NaN]);
  for (const client of clients) {
    const f = figures[client];
    if (!f || f.one.length === 0) {
      rows.push([LABEL[client], 'failed', '', '', '', '']);
      continue;
    }
    const four = median(f.four);
    rows.push([LABEL[client], fmt(median(f.one)), fmt(median(f.cpuOne), 1), fmt(four), fmt(median(f.cpuFour), 1), client === 'ours' ? '' : `${(oursFour / four).toFixed(2)}×`]);
  }
  console.log('\nRow: 1 and 4 client processes, each one at a time (put, get, put, ...) on one shared queue');
  console.log(table(['implementation', '1 client ops/s', 'server CPU µs/op', '4 clients ops/s (sum)', 'server CPU µs/op', 'ours / it, 4 clients'], rows));
  console.log('  note: server CPU is the server process\'s user+system time (/proc, 10 ms ticks) over the measured window, divided by the ops the clients did in it');
}

async function payloadRow(options: Options): Promise<void> {
  const bytes = 64 * 1024;
  const cases: { label: string; client: Client; as: 'bytes' | 'string' }[] = [
    { label: 'ours, bytes (Uint8Array)', client: 'ours', as: 'bytes' },
    { label: 'ours, text (string)', client: 'ours', as: 'string' },
    { label: 'Python 3.11 BaseManager, bytes', client: 'python', as: 'bytes' },
    { label: 'Redis via ioredis, Buffer', client: 'redis-ioredis', as: 'bytes' },
  ];
  const rates: Record<string, number[]> = {};
  for (let round = 1; round <= options.rounds; round++) {
    for (const c of cases) {
      process.stderr.write(`rows: payload, round ${round}/${options.rounds}: ${c.label} ...\n`);
      const server = await startServer(SERVER_OF[c.client]);
      try {
        // Node's clients warm up as in run.ts's workloads, on past 300 ms while their rate still rises
        // (the server too is a fresh process each round): CPython's needs no warm-up and ignores it.
        const warmupMaxMs = options.quick ? 1500 : 3000;
        const result = await oneAtATimeClient(c.client, server.address, { ...baseConfig(options), warmupMaxMs, payload: { bytes, as: c.as } });
        (rates[c.label] ??= []).push((result.opsPerSec * bytes) / 1e6);
      } catch (error) {
        process.stderr.write(`rows: ${c.label}: ${(error as Error).message}\n`);
      } finally {
        await stop(server.child);
      }
    }
  }
  const python = median(rates['Python 3.11 BaseManager, bytes'] ?? [NaN]);
  console.log('\nRow: 64 KiB payloads, one at a time (put 64 KiB, get it back), MB/s of payload (each put and each get moves 64 KiB once)');
  console.log(
    table(
      ['implementation', 'MB/s', 'vs Python 3.11'],
      cases.map((c) => {
        const mbs = median(rates[c.label] ?? [NaN]);
        return [c.label, fmt(mbs, 1), c.client === 'python' ? '' : `${(mbs / python).toFixed(2)}×`];
      }),
    ),
  );
}

/** One kind of cold process of the cold row. */
interface ColdCase {
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The label of the same runtime alone, whose CPU time this case's is measured beyond (its own for the runtime alone). */
  runtime: string;
}

async function coldRow(options: Options): Promise<void> {
  const runs = options.quick ? 5 : 21;
  const NODE_ALONE = 'node alone (cold-bare.cjs: a script that does nothing)';
  const PYTHON_ALONE = 'Python 3.11 alone (cold_bare.py)';
  // Python as an installed package runs: from bytecode (pip compiles it at install; a checkout
  // writes it on the first run). The environment may forbid writing it (PYTHONDONTWRITEBYTECODE),
  // so it goes to a folder of this run, filled by an untimed first run of each case.
  const pycache = mkdtempSync(path.join(os.tmpdir(), 'bench-cold-pycache-'));
  const pythonEnv: NodeJS.ProcessEnv = { ...process.env, PYTHONPYCACHEPREFIX: pycache };
  delete pythonEnv.PYTHONDONTWRITEBYTECODE;
  const samples: Record<string, Record<string, number>[]> = {};
  const runtimeOf: Record<string, string> = {};
  const once = async (c: ColdCase) => {
    const child = start(c.command, c.args, 'ignore', c.env);
    const match = await waitLine(child, /^COLD (.*)$/, 60_000);
    await stop(child);
    return JSON.parse(match[1]) as Record<string, number>;
  };
  // Rounds interleave the cases, the runtimes alone among them, so that the machine's drift
  // hits them alike; each case's first process is untimed (file cache, bytecode).
  const runAll = async (cases: ColdCase[]) => {
    for (const c of cases) {
      runtimeOf[c.label] = c.runtime;
      await once(c);
    }
    for (let k = 0; k < runs; k++) for (const c of cases) (samples[c.label] ??= []).push(await once(c));
  };
  const node = (label: string, script: string, address?: string): ColdCase => ({ label, command: process.execPath, args: [path.join(ROWS, script), ...(address ? [address] : [])], runtime: NODE_ALONE });
  const nodeAlone = node(NODE_ALONE, 'cold-bare.cjs');
  const pythonAlone: ColdCase = { label: PYTHON_ALONE, command: PYTHON, args: [path.join(ROWS, 'cold_bare.py')], env: pythonEnv, runtime: PYTHON_ALONE };
  process.stderr.write('rows: cold clients ...\n');
  try {
    const ours = await startServer('ours');
    try {
      const python = (label: string, folder?: string): ColdCase => ({ label, command: PYTHON, args: [path.join(ROWS, 'cold_python_json.py'), ours.address, ...(folder ? [folder] : [])], env: pythonEnv, runtime: PYTHON_ALONE });
      const also = options.coldAlso.map(({ label, path: file }) =>
        /\.c?js$/.test(file) ? { ...node(`${label}: node, ${file}`, 'cold-ours.cjs', ours.address), args: [path.join(ROWS, 'cold-ours.cjs'), ours.address, file] } : python(`${label}: Python 3.11 JSON client (${file})`, file),
      );
      await runAll([nodeAlone, node('ours: node, dist/client.js', 'cold-ours.cjs', ours.address), pythonAlone, python('Python 3.11 JSON client (clients/python) → ours'), ...also]);
    } finally {
      await stop(ours.child);
    }
    if (REDIS) {
      const redis = await startServer('redis');
      try {
        await fillRedisList(redis.address, 'bench:cold', runs * 2 + 2);
        await runAll([nodeAlone, node('ioredis: node, BRPOP of a filled list', 'cold-ioredis.cjs', redis.address)]);
      } finally {
        await stop(redis.child);
      }
    }
  } finally {
    rmSync(pycache, { recursive: true, force: true });
  }
  const key = (label: string, field: string) => median((samples[label] ?? []).map((s) => s[field]));
  const labels = Object.keys(samples);
  console.log(`\nRow: cold client to first result, a fresh process each (median of ${runs}, interleaved with the runtime alone); beyond the runtime's own start (Node's own start here: ${fmt(key(NODE_ALONE, 'runtimeMs'), 1)} ms to the script's first line)`);
  console.log(
    table(
      ['client', 'import ms', 'connect ms', 'first result ms', 'total ms', 'process CPU ms', 'CPU beyond the runtime ms', 'CPU from the first line ms'],
      labels.map((label) => {
        const runtime = runtimeOf[label];
        const beyond = label === runtime ? '' : fmt(key(label, 'cpuMs') - key(runtime, 'cpuMs'), 1);
        const own = label === runtime ? '' : fmt(key(label, 'ownCpuMs'), 1);
        return [label, fmt(key(label, 'importMs'), 1), fmt(key(label, 'connectMs'), 1), fmt(key(label, 'firstResultMs'), 1), fmt(key(label, 'totalMs'), 1), fmt(key(label, 'cpuMs'), 1), beyond, own];
      }),
    ),
  );
  console.log("  note: times start at the script's first line, so the runtime's own start is left out; process CPU ms is the whole process's, its start included");
  console.log("  note: CPU beyond the runtime = the client's process CPU less the runtime alone's (median of each, same run); the target is at most 10 ms");
  console.log("  note: CPU from the first line = the client process's CPU from its script's first line to the first result (median): the same cost without two whole processes' start in the difference, which swings it by milliseconds on a busy machine");
  console.log('  note: ours connects, authenticates (HMAC challenge both ways), initializes and describes; the first result is create() then get() of a filled queue');
  console.log('  note: Python runs from bytecode, as an installed package does');
}

/** RPUSHes `count` items with the inline protocol, so each cold BRPOP answers at once. */
function fillRedisList(address: string, key: string, count: number): Promise<void> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(`RPUSH ${key} ${Array.from({ length: count }, () => '1').join(' ')}\r\n`));
    socket.once('data', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** How often, and for how long at most, the memory row reads a filled server's RSS while it settles. */
const SETTLE_POLL_MS = 1000;
const SETTLE_MAX_MS = 30_000;
/**
 * Polls without a new low before the RSS counts as settled: more than the 8 s V8's memory reducer
 * waits after a full collection before it looks at the allocation rate, and than the two checks
 * of the CLI's idle step (src/server/idleHeapTrim.ts) by which its collection has been made after
 * a burst, with 5 s over for the freed pages to leave (a lower figure after that would come from
 * either).
 */
const SETTLE_STILL_POLLS = Math.max(10, (2 * IDLE_CHECK_MS) / SETTLE_POLL_MS + 5);

/**
 * The lowest RSS (MB) of an idle process over a bounded wait: polled every {@link SETTLE_POLL_MS}
 * until it has not fallen for {@link SETTLE_STILL_POLLS} polls or {@link SETTLE_MAX_MS} have passed.
 */
async function settledRssMb(pid: number): Promise<{ mb: number; afterMs: number }> {
  const start = Date.now();
  let low = rssMb(pid);
  let lowAt = start;
  for (let still = 0; still < SETTLE_STILL_POLLS && Date.now() - start < SETTLE_MAX_MS; ) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const now = rssMb(pid);
    if (now < low - 0.05) {
      low = now;
      lowAt = Date.now();
      still = 0;
    } else still++;
  }
  return { mb: low, afterMs: lowAt - start };
}

async function memoryRow(options: Options): Promise<void> {
  const count = options.quick ? 100_000 : 1_000_000;
  const rows: string[][] = [];
  const growth: Record<string, { after: number; settled: number }> = {};
  for (const server of ['ours', 'python'] as const) {
    process.stderr.write(`rows: memory: ${server}, ${count} items ...\n`);
    const running = server === 'ours' ? await startCliServer() : await startServer(server);
    try {
      const child = server === 'ours' ? start(process.execPath, ['--import', 'tsx', path.join(ROWS, 'fill.ts'), running.address, String(count)]) : start(PYTHON, [PY_ROWS, 'fill', running.address, String(count), '16']);
      await waitLine(child, /^WARM/, 60_000);
      // Settled before as after, so that nothing the server frees after its start counts as the puts'.
      const before = (await settledRssMb(running.child.pid!)).mb;
      child.stdin!.write('go\n');
      const filled = await waitLine(child, /^FILLED (\d+)/, 600_000);
      const after = rssMb(running.child.pid!);
      // The client stays connected and idle, its items queued, while the server settles.
      const settled = await settledRssMb(running.child.pid!);
      await stop(child);
      growth[server] = { after: after - before, settled: settled.mb - before };
      rows.push([
        server === 'ours' ? 'ours (syncmanager serve)' : 'Python 3.11 BaseManager',
        fmt(Number(filled[1])),
        fmt(before, 1),
        fmt(after, 1),
        fmt(after - before, 1),
        fmt(settled.mb, 1),
        fmt(settled.mb - before, 1),
        fmt(settled.afterMs / 1000, 0),
        fmt(((settled.mb - before) * 1024 * 1024) / count, 1),
      ]);
    } finally {
      await stop(running.child);
    }
  }
  console.log(`\nRow: server memory for ${fmt(count)} queued small ints (RSS of the server process settled before the puts, right after them, and settled after them: the lowest while idle, polled each ${SETTLE_POLL_MS / 1000} s until ${SETTLE_STILL_POLLS} polls bring no new low, at most ${SETTLE_MAX_MS / 1000} s)`);
  console.log(table(['server', 'queued', 'RSS before MB', 'RSS after MB', 'growth MB', 'RSS settled MB', 'growth settled MB', 'settled after s', 'bytes/item settled'], rows));
  if (growth.ours !== undefined && growth.python !== undefined) {
    const ratio = (key: 'after' | 'settled') => (growth.ours[key] / growth.python[key]).toFixed(2);
    console.log(`  ours / Python growth: right after the puts ${ratio('after')}×, settled ${ratio('settled')}× (the target, at most 1×, is judged on settled growth: what a server left idle keeps)`);
  }
}

export async function runRows(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  pin = options.pin;
  console.log(`\nsyncmanager bench, more rows: ${options.rounds} round(s), ${options.pin === 'same' ? 'all pinned to CPU 0' : 'not pinned'}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} before`);
  for (const row of options.rows) {
    if (row === 'clients') await clientsRow(options);
    else if (row === 'payload') await payloadRow(options);
    else if (row === 'cold') await coldRow(options);
    else await memoryRow(options);
  }
  console.log(`\n  load average after the rows ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

if (require.main === module) {
  runRows(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      console.error(`rows: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
