/**
 * The benchmark: our manager against its peers, side by side.
 *
 *   node --import tsx bench/run.ts [--quick] [--rounds N] [--only NAME[,NAME]] [--json FILE]
 *                                  [--pin none|same|split] [--with-redis] [--verbose]
 *
 * For each implementation this starts its server in a child process (127.0.0.1, port chosen by the
 * OS), waits for its ready line, runs the client workloads in another child process, and kills
 * both; that is one round, and rounds interleave the implementations. Prints machine facts, then
 * one table per workload with ops/s, p50/p99 latency and the ratio of ours to each peer (medians
 * over the rounds). See bench/README.md.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './peers/net-util';
import { runRows } from './rows/run';
import { STORE_ENV } from './ours';
import { WARM_UP_RULE, WORKLOADS, type BenchConfig, type LatencyResult, type Outcome, type SeedResult, type WorkloadId } from './harness';

const ROOT = path.resolve(__dirname, '..');
const BENCH = __dirname;
const CHILD = path.join(BENCH, 'child.ts');
const SERVER_READY_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  quick: boolean;
  only: string[];
  json?: string;
  withRedis: boolean;
  verbose: boolean;
  pin: PinMode;
  rounds?: number;
  /** Warm-up of each latency workload in ms (300 unless given). */
  warmupMs?: number;
  /** The longest warm-up of a TypeScript client's latency workload (see BenchConfig.warmupMaxMs). */
  warmupMaxMs?: number;
  /** Also run the rows of bench/rows (4 clients, 64 KiB, cold start, memory, server CPU). */
  rows: boolean;
}

/** CPU placement of the server and client processes (see README: it matters a lot in a VM). */
type PinMode = 'none' | 'same' | 'split';
let pinMode: PinMode = 'none';

/** Prefixes a command with `taskset -c CPU` according to --pin. */
function pinned(role: 'server' | 'client', command: string, args: string[]): [string, string[]] {
  if (pinMode === 'none') return [command, args];
  const cpu = pinMode === 'same' || role === 'server' ? '0' : '1';
  return ['taskset', ['-c', cpu, command, ...args]];
}

const USAGE = `usage: node --import tsx bench/run.ts [options]

  --quick            one short round instead of three (seed workload with 2000 items)
  --rounds N         rounds to run (default 3, or 1 with --quick); each round restarts every process
  --only NAME        run only matching implementations and/or workloads; repeatable or comma-separated.
                     implementations: ours, ours-watched, ours-ack, ours-unhooked, ours-redis (ours-redis, ours-redis-2), python (python-3.11, python-3.12, python-json), tcp-echo, vscode-jsonrpc, redis (redis, redis-ioredis)
                     workloads: one-at-a-time (1), in-flight (2), seed (3)
  --json FILE        also write the results as JSON to FILE
  --warmup MS        warm-up of each latency workload before it is measured (default 300 ms)
  --warmup-max MS    TypeScript clients go on warming up, MS at most in all (default 3000, --quick 1500),
                     window after window of --warmup ${WARM_UP_RULE}
  --pin MODE         CPU placement of each server and client process (needs taskset):
                       none  (default) let the scheduler place them
                       same  both on CPU 0: cost per op with no cross-CPU wake-ups
                       split server on CPU 0, client on CPU 1
  --with-redis       if redis-server is missing, apt-get install it (not when CI is set)
  --rows             then run the rows of bench/rows too (1 and 4 client processes with server CPU per op,
                     64 KiB payloads, cold client to first result, memory for queued ints), pinned as --pin
                     (none or same); bench/rows/run.ts runs them alone
  --verbose          pass the children's stderr through
  --help             this text`;

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, only: [], withRedis: false, verbose: false, pin: 'none', rows: false };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    const value = (): string => {
      const inline = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined;
      const next = inline ?? argv[++k];
      if (next === undefined || next === '') fail(`${arg} needs a value`);
      return next;
    };
    const name = arg.split('=')[0];
    if (name === '--quick') options.quick = true;
    else if (name === '--only') options.only.push(...value().split(',').map((s) => s.trim()).filter(Boolean));
    else if (name === '--json') options.json = value();
    else if (name === '--with-redis') options.withRedis = true;
    else if (name === '--rounds') {
      const rounds = Number(value());
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) fail('--rounds takes a whole number from 1 to 20');
      options.rounds = rounds;
    } else if (name === '--warmup') {
      const ms = Number(value());
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) fail('--warmup takes a whole number of ms from 0 to 60000');
      options.warmupMs = ms;
    } else if (name === '--warmup-max') {
      const ms = Number(value());
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) fail('--warmup-max takes a whole number of ms from 0 to 60000');
      options.warmupMaxMs = ms;
    } else if (name === '--pin') {
      const mode = value();
      if (mode !== 'none' && mode !== 'same' && mode !== 'split') fail(`--pin ${mode}: expected none, same or split`);
      options.pin = mode;
    } else if (name === '--rows') options.rows = true;
    else if (name === '--verbose' || name === '-v') options.verbose = true;
    else if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(arg)}`);
  }
  return options;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function configFor(options: Options, workloads: WorkloadId[]): BenchConfig {
  const warmupMs = options.warmupMs ?? 300;
  const warmupMaxMs = Math.max(warmupMs, options.warmupMaxMs ?? (options.quick ? 1500 : 3000));
  return options.quick
    ? { workloads, warmupMs, warmupMaxMs, durationMs: 700, maxOps: 500_000, concurrency: 100, seedItems: 2000, seedWarmupItems: 200, seedTimeoutMs: 30_000 }
    : { workloads, warmupMs, warmupMaxMs, durationMs: 1000, maxOps: 500_000, concurrency: 100, seedItems: 10_000, seedWarmupItems: 500, seedTimeoutMs: 60_000 };
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered here and killed at the end, also on errors and signals.

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Keeps the last few KB of a stream (for error messages) and optionally echoes it. */
function tail(stream: NodeJS.ReadableStream | null, echo: boolean): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    if (echo) process.stderr.write(chunk);
    text = (text + chunk.toString()).slice(-4000);
  });
  return () => text.trim();
}

/** Calls `onLine` for each stdout line. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let pending = '';
  stream?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
    }
  });
}

class Unavailable extends Error {}

interface ServerHandle {
  address: string;
  child: ChildProcess;
  /** More processes the row needs (a second manager, the redis-server under them), stopped after `child`, in this order. */
  others?: ChildProcess[];
}

/**
 * Spawns a server and waits for a stdout line matching `ready` (group 1 = address, or the
 * `address` function derives it). `UNAVAILABLE why` on stdout means the implementation cannot run.
 */
function startServer(
  command: string,
  args: string[],
  verbose: boolean,
  ready: RegExp,
  address?: (match: RegExpMatchArray) => string,
  env?: NodeJS.ProcessEnv,
): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(...pinned('server', command, args), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: env && { ...process.env, ...env } }));
    const stderr = tail(child.stderr, verbose);
    let settled = false;
    const settle = (error?: Error, handle?: ServerHandle) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else resolve(handle!);
    };
    const timer = setTimeout(() => settle(new Error(`server not ready within ${SERVER_READY_TIMEOUT_MS / 1000} s. stderr: ${stderr() || '(empty)'}`)), SERVER_READY_TIMEOUT_MS);
    lines(child.stdout, (line) => {
      const match = ready.exec(line);
      if (match) settle(undefined, { address: address ? address(match) : match[1], child });
      else if (line.startsWith('UNAVAILABLE ')) settle(new Unavailable(line.slice('UNAVAILABLE '.length)));
      else if (line.startsWith('FAILED ')) settle(new Error(`server failed: ${line.slice('FAILED '.length)}`));
      else if (verbose) process.stderr.write(`[server] ${line}\n`);
    });
    child.once('error', (error) => settle(new Error(`cannot start ${command}: ${error.message}`)));
    child.once('exit', (code, signal) => settle(new Error(`server exited (${signal ?? `code ${code}`}) before it was ready. stderr: ${stderr() || '(empty)'}`)));
  });
}

/** Runs a client child to completion (bounded by `timeoutMs`) and returns its RESULT. */
function runClient(command: string, args: string[], timeoutMs: number, verbose: boolean): Promise<Partial<Record<WorkloadId, Outcome>>> {
  return new Promise((resolve, reject) => {
    // stdin stays open so the child can tell when we are gone (it exits when stdin ends).
    const child = track(spawn(...pinned('client', command, args), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
    const stderr = tail(child.stderr, verbose);
    let result: Partial<Record<WorkloadId, Outcome>> | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client did not finish within ${Math.round(timeoutMs / 1000)} s. stderr: ${stderr() || '(empty)'}`));
    }, timeoutMs);
    lines(child.stdout, (line) => {
      if (line.startsWith('RESULT ')) {
        try {
          result = (JSON.parse(line.slice('RESULT '.length)) as { results: Partial<Record<WorkloadId, Outcome>> }).results;
        } catch (error) {
          reject(new Error(`client printed an unreadable result: ${(error as Error).message}`));
        }
      } else if (verbose) process.stderr.write(`[client] ${line}\n`);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`client exited (${signal ?? `code ${code}`}) without a result. stderr: ${stderr() || '(empty)'}`));
    });
  });
}

/** A note of the rounds whose warm-up went past its first window, and how long it took. */
function warmUpNote(rounds: readonly LatencyResult[]): string[] {
  const longer = rounds.map((r) => r.warmedUpMs).filter((ms): ms is number => ms !== undefined);
  if (longer.length === 0) return [];
  const [least, most] = [Math.min(...longer), Math.max(...longer)];
  return [`warmed up ${least === most ? least : `${least}–${most}`} ms in ${longer.length} of ${rounds.length} rounds (${WARM_UP_RULE})`];
}

function clientTimeoutMs(config: BenchConfig): number {
  let total = 20_000;
  for (const workload of config.workloads) {
    total += workload === 'seed' ? 2 * config.seedTimeoutMs + 10_000 : (config.warmupMaxMs ?? config.warmupMs) + config.durationMs + 30_000;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Implementations

interface Impl {
  id: string;
  label: string;
  kind: 'queue' | 'echo';
  /** Version and how it is run, for the header. */
  detail: string;
  /** Set when it cannot run here at all. */
  skip?: string;
  /** The id of the row that runs the same client against another server: its ratio compares the servers. */
  sameClientAs?: string;
  /** The id of a row this one is compared with instead of ours: its ratio is this row's ops/s over that row's. */
  ratioTo?: string;
  start(verbose: boolean): Promise<ServerHandle>;
  client(address: string, config: BenchConfig, verbose: boolean): Promise<Partial<Record<WorkloadId, Outcome>>>;
}

const TS_NODE = [process.execPath, '--import', 'tsx'];

/** Starts `child.ts server <id>` (with `env` added to its environment). */
function startTsServer(id: string, verbose: boolean, env?: NodeJS.ProcessEnv): Promise<ServerHandle> {
  return startServer(TS_NODE[0], [...TS_NODE.slice(1), CHILD, 'server', id], verbose, /^READY (\S+)$/, undefined, env);
}

function tsImpl(id: string, label: string, kind: 'queue' | 'echo', detail: string): Impl {
  return {
    id,
    label,
    kind,
    detail,
    start: (verbose) => startTsServer(id, verbose),
    client: (address, config, verbose) =>
      runClient(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, 'client', id, address, JSON.stringify(config)], clientTimeoutMs(config), verbose),
  };
}

function pythonInfo(executable: string): { executable: string; version: string } | undefined {
  const probe = spawnSync(executable, ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.status !== 0) return undefined;
  const [resolved, version] = probe.stdout.trim().split('\n');
  return { executable: resolved, version };
}

function pythonImpl(executable: string, version: string): Impl {
  const short = version.split('.').slice(0, 2).join('.');
  return {
    id: `python-${short}`,
    label: `Python ${short} BaseManager`,
    kind: 'queue',
    detail: `CPython ${version} (${executable}), multiprocessing.managers.BaseManager + queue.Queue, pickle protocol`,
    start: (verbose) => startServer(executable, [path.join(BENCH, 'peers', 'python_manager_server.py'), 'bench'], verbose, /^READY (\S+)$/),
    client: (address, config, verbose) => runClient(executable, [path.join(BENCH, 'peers', 'python_manager_client.py'), address, JSON.stringify(config)], clientTimeoutMs(config), verbose),
  };
}

/** CPython's unmodified BaseManager client against our server: the same client as `python-X.Y`, another server. */
function pythonOnOursImpl(executable: string, version: string): Impl {
  const python = pythonImpl(executable, version);
  const short = version.split('.').slice(0, 2).join('.');
  return {
    ...python,
    id: `python-${short}-on-ours`,
    label: `Python ${short} client → ours`,
    detail: `CPython ${version} BaseManager client, unmodified (bench/peers/python_manager_client.py), against dist/server.js (pickle protocol on the same port)`,
    start: (verbose) => startServer(TS_NODE[0], [...TS_NODE.slice(1), CHILD, 'server', 'ours'], verbose, /^READY (\S+)$/),
    sameClientAs: python.id,
  };
}

/** The JSON client of clients/python against our server, running the same workloads as `python-X.Y` (bench/peers/python_manager_client.py --json-client). */
function pythonJsonImpl(executable: string, version: string): Impl {
  const python = pythonImpl(executable, version);
  const short = version.split('.').slice(0, 2).join('.');
  return {
    ...python,
    id: 'python-json',
    label: `Python ${short} JSON client → ours`,
    detail: `CPython ${version}, the JSON client of clients/python (syncmanager_client), against dist/server.js`,
    start: (verbose) => startServer(TS_NODE[0], [...TS_NODE.slice(1), CHILD, 'server', 'ours'], verbose, /^READY (\S+)$/),
    client: (address, config, verbose) =>
      runClient(executable, [path.join(BENCH, 'peers', 'python_manager_client.py'), '--json-client', address, JSON.stringify(config)], clientTimeoutMs(config), verbose),
    ratioTo: python.id,
  };
}

function findOnPath(program: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  for (const dir of dirs) {
    const candidate = path.join(dir, program);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Finds redis-server, installing it with apt-get only when asked to and not under CI. */
function findRedis(options: Options): { path?: string; skip?: string } {
  const found = findOnPath('redis-server');
  if (found) return { path: found };
  if (!options.withRedis) return { skip: 'skipped: redis-server not installed (pass --with-redis to apt-get install it)' };
  if (process.env.CI) return { skip: 'skipped: redis-server not installed (not installing under CI)' };
  if (process.getuid?.() !== 0) return { skip: 'skipped: redis-server not installed (apt-get needs root)' };
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  console.error('bench: installing redis-server with apt-get ...');
  if (!apt(['install', '-y', 'redis-server'])) {
    apt(['update']);
    apt(['install', '-y', 'redis-server']);
  }
  const installed = findOnPath('redis-server');
  return installed ? { path: installed } : { skip: 'skipped: redis-server not installed (apt-get install failed)' };
}

/** redis-server's path and version, or why it cannot run. */
function redisServer(options: Options): { path?: string; version: string; skip?: string } {
  const found = findRedis(options);
  if (!found.path) return { version: '', skip: found.skip };
  const probe = spawnSync(found.path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return { path: found.path, version: /v=(\S+)/.exec(probe.stdout ?? '')?.[1] ?? '?' };
}

/** A fresh redis-server on a free port with no persistence (every Redis row starts one per round). */
async function startRedisServer(redisPath: string, verbose: boolean): Promise<ServerHandle> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  return startServer(redisPath, args, verbose, /Ready to accept connections/, () => `127.0.0.1:${port}`);
}

function redisImpl(options: Options, id = 'redis', label = 'Redis (lists)', client = 'minimal RESP client in bench/peers/redis.ts'): Impl {
  const found = redisServer(options);
  const base = tsImpl(id, label, 'queue', `redis-server ${found.version} (${found.path}), no persistence; ${client}; LPUSH / BRPOP`);
  return {
    ...base,
    skip: found.skip,
    detail: found.path ? base.detail : found.skip!,
    start: (verbose) => startRedisServer(found.path!, verbose),
  };
}

/**
 * Our server with its queues in a Redis store: `managers` manager processes on one fresh
 * redis-server (no persistence, as the Redis peers') and one key prefix; the client process gets
 * every manager's address (`ours-redis-2` spreads its calls over them).
 */
function redisStoreImpl(options: Options, id: 'ours-redis' | 'ours-redis-2', managers: number, label: string, detail: string): Impl {
  const found = redisServer(options);
  const base = tsImpl(id, label, 'queue', `${detail}; redis-server ${found.version}, no persistence, started fresh each round`);
  return {
    ...base,
    skip: found.skip,
    detail: found.path ? base.detail : found.skip!,
    start: async (verbose) => {
      const redis = await startRedisServer(found.path!, verbose);
      const started: ServerHandle[] = [];
      try {
        for (let m = 0; m < managers; m++) started.push(await startTsServer(id, verbose, { [STORE_ENV]: `redis://${redis.address}/0` }));
      } catch (error) {
        for (const handle of [...started, redis]) await stopChild(handle.child);
        throw error;
      }
      return { address: started.map((s) => s.address).join(','), child: started[0].child, others: [...started.slice(1).map((s) => s.child), redis.child] };
    },
  };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function pyenvRoot(): string | undefined {
  if (process.env.PYENV_ROOT) return process.env.PYENV_ROOT;
  const probe = spawnSync('pyenv', ['root'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

function implementations(options: Options, wanted: (id: string) => boolean): Impl[] {
  const impls: Impl[] = [];
  impls.push(tsImpl('ours', 'ours (syncmanager)', 'queue', 'dist/server.js Manager + Queue in one process, dist/client.js connect() in another (the shipped bundles); glue in bench/ours.ts'));
  impls.push(tsImpl('ours-unhooked', 'ours, no activity hook', 'queue', 'as ours, built from the same sources with the activity test taken out of the object service (bench/withoutActivityHook.ts): what ours would cost if Activity did not exist'));
  impls.push(tsImpl('ours-watched', 'ours, calls watched', 'queue', 'as ours, with one session in the server process watching calls (inspect/watchCalls, the Activity view): every call timed, summarised and sent to it'));
  impls.push(tsImpl('ours-ack', 'ours, get with ack', 'queue', 'as ours, each get an acknowledged get: get({ ack: true }) then ack(), two round trips counted as one op'));
  if (wanted('ours-redis')) impls.push(redisStoreImpl(options, 'ours-redis', 1, 'ours, Redis store', 'as ours, the queues kept in a Redis store (Manager option store: redis://…, registered shared: Queue)'));
  if (wanted('ours-redis-2')) {
    impls.push(
      redisStoreImpl(
        options,
        'ours-redis-2',
        2,
        'ours, Redis store, 2 managers',
        'two manager processes as ours-redis on one Redis and prefix; the client holds a connection to each and sends its calls to them in turn, so an item put through one is got through the other',
      ),
    );
  }

  {
    const pythons: { executable: string; version: string }[] = [];
    const system = pythonInfo('python3');
    if (system) pythons.push(system);
    const root = pyenvRoot();
    const candidate = root && path.join(root, 'versions', '3.12.1', 'bin', 'python');
    if (candidate && existsSync(candidate)) {
      const info = pythonInfo(candidate);
      if (info && !pythons.some((p) => p.version === info.version)) pythons.push(info);
    }
    for (const info of pythons) impls.push(pythonImpl(info.executable, info.version), pythonOnOursImpl(info.executable, info.version));
    if (pythons[0]) impls.push(pythonJsonImpl(pythons[0].executable, pythons[0].version));
    if (pythons.length === 0) impls.push({ ...pythonImpl('python3', '?'), id: 'python', skip: 'skipped: python3 not found' });
  }

  impls.push(tsImpl('tcp-echo', 'Node TCP echo', 'echo', `node ${process.version} net, 4-byte length prefix, ~100-byte message, no parsing of the echo`));
  impls.push(tsImpl('vscode-jsonrpc', 'vscode-jsonrpc echo', 'echo', `vscode-jsonrpc ${packageVersion('vscode-jsonrpc')}, StreamMessageReader/Writer over TCP, request "echo"`));
  if (wanted('redis')) impls.push(redisImpl(options));
  if (wanted('redis-ioredis')) impls.push(redisImpl(options, 'redis-ioredis', 'Redis via ioredis', `ioredis ${packageVersion('ioredis')} (bench/peers/ioredis.ts)`));
  return impls.filter((impl) => wanted(impl.id));
}

// ---------------------------------------------------------------------------------------------
// Selection (--only)

function resolveOnly(names: string[]): { impl: (id: string) => boolean; workloads: WorkloadId[] } {
  const implIds = ['ours', 'ours-unhooked', 'ours-watched', 'ours-ack', 'ours-redis', 'ours-redis-2', 'python-3.11', 'python-3.11-on-ours', 'python-3.12', 'python-3.12-on-ours', 'python-json', 'tcp-echo', 'vscode-jsonrpc', 'redis', 'redis-ioredis'];
  // "python" selects every Python; "python3.12", "py312" or "python-3.12" one of them.
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^py(thon)?/, 'python');
  const implNames: string[] = [];
  const workloads = new Set<WorkloadId>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    const workload = WORKLOADS.find((w) => w.id === name || (w.aliases as readonly string[]).includes(name));
    if (workload) workloads.add(workload.id);
    else if (implIds.some((id) => norm(id).startsWith(norm(name)))) implNames.push(norm(name));
    else fail(`--only ${raw}: not an implementation (${implIds.join(', ')}) or workload (${WORKLOADS.map((w) => w.id).join(', ')}, or 1, 2, 3)`);
  }
  return {
    impl: (id) => implNames.length === 0 || implNames.some((name) => norm(id).startsWith(name)),
    workloads: workloads.size ? WORKLOADS.map((w) => w.id).filter((id) => workloads.has(id)) : WORKLOADS.map((w) => w.id),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function commandLine(): string {
  const script = path.relative(process.cwd(), process.argv[1] ?? '') || process.argv[1];
  const parts = ['node', ...process.execArgv, script, ...process.argv.slice(2)];
  const viaNpm = process.env.npm_lifecycle_event ? `   (via npm run ${process.env.npm_lifecycle_event})` : '';
  return parts.map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`)).join(' ') + viaNpm;
}

function gitCommit(): string {
  const probe = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 });
  return probe.status === 0 ? probe.stdout.trim() : '?';
}

function machineFacts() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? '?',
    cores: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: gitCommit(),
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function us(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} ms`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} ms`;
  if (value >= 100) return `${value.toFixed(0)} µs`;
  return `${value.toFixed(1)} µs`;
}

function table(headers: string[], rows: string[][], rightAligned: boolean[]): string {
  // Rows of one cell (a message instead of figures) span the whole line and do not set widths.
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r.length === 1 ? 0 : (r[c] ?? '').length))));
  const fmt = (cells: string[]) => {
    if (cells.length === 1) return `  ${cells[0]}`;
    return '  ' + cells.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('   ').trimEnd();
  };
  return [fmt(headers), '  ' + widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(fmt)].join('\n');
}

/** One implementation's outcomes, one entry per round. */
interface ImplRun {
  impl: Impl;
  rounds: Partial<Record<WorkloadId, Outcome>>[];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** A workload's figures over the rounds that succeeded: medians, and the range of throughput. */
interface Summary {
  okRounds: number;
  totalRounds: number;
  rate: number;
  minRate: number;
  maxRate: number;
  p50Us?: number;
  p99Us?: number;
  ops: number;
  connections?: number;
  wallMs?: number;
  items?: number;
  verified?: boolean;
  notes: string[];
  /** The first failure, when no round succeeded (or the reason some failed). */
  failure?: Outcome;
}

function summarizeRounds(outcomes: (Outcome | undefined)[]): Summary | { failure: Outcome } {
  const latency = outcomes.filter((o): o is LatencyResult => o?.kind === 'latency');
  const seed = outcomes.filter((o): o is SeedResult => o?.kind === 'seed');
  const failure = outcomes.find((o) => o && o.kind !== 'latency' && o.kind !== 'seed') ?? (outcomes.length ? undefined : { kind: 'error', reason: 'not run' });
  if (latency.length) {
    const rates = latency.map((r) => r.opsPerSec);
    return {
      okRounds: latency.length,
      totalRounds: outcomes.length,
      rate: median(rates),
      minRate: Math.min(...rates),
      maxRate: Math.max(...rates),
      p50Us: median(latency.map((r) => r.p50Us)),
      p99Us: median(latency.map((r) => r.p99Us)),
      ops: latency.reduce((sum, r) => sum + r.ops, 0),
      connections: latency[0].connections,
      notes: [...new Set(latency.map((r) => r.note).filter((n): n is string => !!n)), ...warmUpNote(latency)],
      failure,
    };
  }
  if (seed.length) {
    const rates = seed.map((r) => r.itemsPerSec);
    return {
      okRounds: seed.length,
      totalRounds: outcomes.length,
      rate: median(rates),
      minRate: Math.min(...rates),
      maxRate: Math.max(...rates),
      wallMs: median(seed.map((r) => r.wallMs)),
      items: seed[0].items,
      verified: seed.every((r) => r.verified),
      ops: seed.reduce((sum, r) => sum + r.items, 0),
      notes: [...new Set(seed.map((r) => r.note).filter((n): n is string => !!n))],
      failure,
    };
  }
  return { failure: failure ?? { kind: 'error', reason: 'no result' } };
}

function ratio(ours: number | undefined, peer: number, peerLabel: string): string {
  if (ours === undefined || !(peer > 0)) return '';
  return `ours / ${peerLabel} = ${(ours / peer).toFixed(2)}×`;
}

/** What a Redis-store row should reach, as a fraction of the in-memory row (`ours`) in the same run. */
const REDIS_STORE_TARGETS: Partial<Record<WorkloadId, number>> = { 'one-at-a-time': 0.5, 'in-flight': 0.7 };

/** A Redis-store row's rate as a fraction of the in-memory row's, and whether it meets its target. */
function vsInMemory(rate: number, inMemory: number | undefined, target: number | undefined): string {
  if (inMemory === undefined || !(inMemory > 0)) return '';
  const fraction = rate / inMemory;
  return `this / ours in memory = ${fraction.toFixed(2)}×${target === undefined ? '' : `; target ≥ ${target}×: ${fraction >= target ? 'met' : 'NOT met'}`}`;
}

function shortLabel(impl: Impl): string {
  return impl.label.replace(/ BaseManager$/, '').replace(/ \(lists\)$/, '');
}

function range(summary: Summary): string {
  if (summary.totalRounds < 2) return '';
  return `${int(summary.minRate)}–${int(summary.maxRate)}`;
}

function printWorkload(workload: (typeof WORKLOADS)[number], runs: ImplRun[]): Record<string, unknown> {
  console.log(`\n${workload.title}`);
  console.log(`  ${workload.what}`);
  const summaries = runs.map((run) => ({ impl: run.impl, summary: summarizeRounds(run.rounds.map((r) => r[workload.id])) }));
  const oursSummary = summaries.find((s) => s.impl.id === 'ours')?.summary;
  const oursRate = oursSummary && 'rate' in oursSummary ? oursSummary.rate : undefined;
  const notes: string[] = [];
  const multi = runs.some((r) => r.rounds.length > 1);
  const rows = summaries.map(({ impl, summary }) => {
    if (!('rate' in summary)) return [`${impl.label}: ${describeOutcome(summary.failure)}`];
    for (const note of summary.notes) notes.push(`${impl.label}: ${note}`);
    if (summary.okRounds < summary.totalRounds) notes.push(`${impl.label}: only ${summary.okRounds} of ${summary.totalRounds} rounds succeeded; ${describeOutcome(summary.failure)}`);
    let vs: string;
    const sameClient = impl.sameClientAs ? summaries.find((s) => s.impl.id === impl.sameClientAs) : undefined;
    const other = impl.ratioTo ? summaries.find((s) => s.impl.id === impl.ratioTo) : undefined;
    if (other) vs = 'rate' in other.summary && other.summary.rate > 0 ? `this / ${shortLabel(other.impl)} = ${(summary.rate / other.summary.rate).toFixed(2)}×` : '';
    else if (impl.id === 'ours') vs = workload.target ? `target ≥ ${int(workload.target)} ops/s: ${summary.rate >= workload.target ? 'met' : 'NOT met'}` : '';
    else if (impl.id.startsWith('ours-redis')) vs = vsInMemory(summary.rate, oursRate, REDIS_STORE_TARGETS[workload.id]);
    else if (sameClient && 'rate' in sameClient.summary && sameClient.summary.rate > 0) {
      // The same Python client on both servers: the ratio compares our server with Python's.
      vs = `ours / Python's own server, same client = ${(summary.rate / sameClient.summary.rate).toFixed(2)}×`;
    } else vs = ratio(oursRate, summary.rate, shortLabel(impl));
    if (workload.id === 'seed') {
      return [impl.label, int(summary.items!), `${int(summary.wallMs!)} ms`, int(summary.rate), ...(multi ? [range(summary)] : []), summary.verified ? 'yes' : 'NO', vs];
    }
    return [impl.label, int(summary.rate), ...(multi ? [range(summary)] : []), us(summary.p50Us!), us(summary.p99Us!), String(summary.connections), vs];
  });
  const rangeHeader = multi ? ['range'] : [];
  if (workload.id === 'seed') {
    console.log(
      table(
        ['implementation', 'items', 'wall time', 'items/s', ...rangeHeader, 'ok', 'vs ours (items/s, higher is better)'],
        rows,
        [false, true, true, true, ...rangeHeader.map(() => true), false, false],
      ),
    );
  } else {
    console.log(
      table(['implementation', 'ops/s', ...rangeHeader, 'p50', 'p99', 'conns', 'vs ours (ops/s, higher is better)'], rows, [false, true, ...rangeHeader.map(() => true), true, true, true, false]),
    );
  }
  for (const note of notes) console.log(`  note: ${note}`);
  return Object.fromEntries(summaries.map(({ impl, summary }) => [impl.id, summary]));
}

function describeOutcome(outcome: Outcome | undefined): string {
  if (!outcome) return 'not run';
  if (outcome.kind === 'latency' || outcome.kind === 'seed') return 'ok';
  if (outcome.kind === 'error') return `ERROR: ${outcome.reason}`;
  return /^(skipped|not available|n\/a)/.test(outcome.reason) ? outcome.reason : `${outcome.kind}: ${outcome.reason}`;
}

// ---------------------------------------------------------------------------------------------

async function runImpl(impl: Impl, config: BenchConfig, round: string, verbose: boolean): Promise<Partial<Record<WorkloadId, Outcome>>> {
  const all = (outcome: Outcome) => Object.fromEntries(config.workloads.map((w) => [w, outcome])) as Partial<Record<WorkloadId, Outcome>>;
  if (impl.skip) return all({ kind: 'skipped', reason: impl.skip });
  const workloads = impl.kind === 'echo' ? config.workloads.filter((w) => w !== 'seed') : config.workloads;
  const results: Partial<Record<WorkloadId, Outcome>> = {};
  if (workloads.length < config.workloads.length) results.seed = { kind: 'n/a', reason: 'n/a: echo peer, no queues' };
  if (workloads.length === 0) return results;

  process.stderr.write(`bench: ${round}${impl.label} ...\n`);
  const t0 = Date.now();
  let server: ServerHandle | undefined;
  try {
    server = await impl.start(verbose);
    Object.assign(results, await impl.client(server.address, { ...config, workloads }, verbose));
  } catch (error) {
    const reason = (error as Error).message.split('\n').slice(0, 3).join(' | ');
    const outcome: Outcome = error instanceof Unavailable ? { kind: 'unavailable', reason } : { kind: 'error', reason };
    for (const w of workloads) results[w] ??= outcome;
  } finally {
    if (server) for (const child of [server.child, ...(server.others ?? [])]) await stopChild(child);
  }
  process.stderr.write(`bench: ${round}${impl.label} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return results;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  pinMode = options.pin;
  if (pinMode !== 'none') {
    if (!findOnPath('taskset')) fail('--pin needs taskset (util-linux)');
    if (pinMode === 'split' && os.cpus().length < 2) fail('--pin split needs two CPUs');
  }
  const selection = resolveOnly(options.only);
  const config = configFor(options, selection.workloads);
  const rounds = options.rounds ?? (options.quick ? 1 : 3);
  const machine = machineFacts();
  const impls = implementations(options, selection.impl);
  if (impls.length === 0) fail('--only selected no implementation');

  console.log('syncmanager benchmark');
  console.log(`  command:  ${commandLine()}`);
  console.log(`  date:     ${new Date().toISOString()}   commit ${machine.commit}`);
  console.log(`  node:     ${machine.node} (V8 ${machine.v8}), ${machine.os}`);
  console.log(`  cpu:      ${machine.cpuModel}, ${machine.cores} cores (available parallelism ${machine.availableParallelism}), ${machine.memoryGiB} GiB RAM`);
  console.log(`  load:     ${machine.loadAverage.join(' ')} (1/5/15 min, before the run)`);
  console.log(
    `  mode:     ${options.quick ? 'quick' : 'full'}: ${rounds} round${rounds > 1 ? 's' : ''}, each with fresh processes; per round and latency workload ${config.warmupMs} ms warm-up (TypeScript clients: up to ${config.warmupMaxMs} ms ${WARM_UP_RULE}) + ${config.durationMs} ms measured (at most ${int(config.maxOps)} ops); ${config.concurrency} in flight; seed ${int(config.seedItems)} items after a ${int(config.seedWarmupItems)}-item warm-up`,
  );
  const placement = { none: 'not pinned (the scheduler places them)', same: 'all pinned to CPU 0', split: 'servers pinned to CPU 0, clients to CPU 1' }[pinMode];
  console.log(`  setup:    every server in its own child process, every client in another, on 127.0.0.1 (TCP_NODELAY on the Node peers); ${placement}`);
  console.log('  implementations:');
  for (const impl of impls) console.log(`    ${impl.label.padEnd(26)} ${impl.detail}`);
  if (rounds > 1) console.log(`  figures:  median over the ${rounds} rounds (ops/s, p50, p99 each); "range" is the lowest–highest round`);

  const runs: ImplRun[] = impls.map((impl) => ({ impl, rounds: [] }));
  const started = Date.now();
  // Rounds interleave the implementations, so slow drift of the machine hits all of them alike.
  for (let round = 1; round <= rounds; round++) {
    for (const run of runs) run.rounds.push(await runImpl(run.impl, config, rounds > 1 ? `round ${round}/${rounds}: ` : '', options.verbose));
  }

  const summaries: Record<string, unknown> = {};
  for (const workload of WORKLOADS) {
    if (config.workloads.includes(workload.id)) summaries[workload.id] = printWorkload(workload, runs);
  }
  const loadAfter = os.loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(`\n  total time ${((Date.now() - started) / 1000).toFixed(1)} s; load average after the run ${loadAfter.join(' ')} (the benchmark itself keeps about 2 processes busy; more means other work competed)`);

  if (options.json) {
    const out = {
      command: commandLine(),
      date: new Date().toISOString(),
      machine,
      loadAverageAfter: loadAfter,
      config,
      rounds,
      pin: pinMode,
      summaries,
      implementations: runs.map(({ impl, rounds: results }) => ({ id: impl.id, label: impl.label, kind: impl.kind, detail: impl.detail, rounds: results })),
    };
    writeFileSync(options.json, JSON.stringify(out, null, 2) + '\n');
    console.log(`  results written to ${options.json}`);
  }
  if (options.rows) await runRows([...(options.quick ? ['--quick'] : []), '--rounds', String(rounds), '--pin', pinMode === 'same' ? 'same' : 'none']);
  const failed = runs.some(({ rounds: results }) => results.some((r) => Object.values(r).some((o) => o?.kind === 'error')));
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
