/**
 * What a call costs the server as CPU time, for builds compared interleaved: on a shared machine
 * the wall-clock rows of run.ts swing by more than a change to the server does, while the CPU the
 * server spends on a fixed number of ops swings far less.
 *
 *   node esbuild.js && node --import tsx bench/serverCost.ts [--bundle LABEL=PATH ...]
 *        [--client ts|python|python-json] [--workload 1|2|seed] [--ops N] [--rounds N] [--pin same]
 *        [--client-bundle PATH] [--python PATH] [--prof DIR] [--peer redis,ioredis,tcp-echo] [--payload BYTES]
 *        [--node-options LABEL=FLAGS ...]
 *
 * Each round serves the bench queues from each server bundle in turn (default: this build's
 * `dist/server.js`; `--bundle before=/elsewhere/dist/server.js` adds a build to compare), each in
 * a process of its own, to one client process: the TypeScript client (`--client-bundle`, default
 * this build's `dist/client.js`; give both builds the same one to measure the server alone) or an
 * unmodified CPython BaseManager client (`--python`, default pyenv's 3.11), or the JSON client of
 * clients/python on that Python (`--client python-json`; not against `--bundle python=python`:
 * CPython's server speaks pickle only); `--client python,python-json` measures both in each round.
 * The client makes put
 * and get pairs, one at a time (`--workload 1`) or 100 in flight (`--workload 2`: 100 loops on one
 * connection for ours, 100 threads with a connection each for CPython's, whose proxies have one
 * call out at a time); it warms up with `--ops` ops, then makes `--ops` more, over which the
 * server's CPU time (`process.cpuUsage()` read in its process at both ends) and the client's are
 * divided by the ops. `--workload seed` runs run.ts's seed workload instead (TypeScript client only):
 * the seed example's manager and worker on two connections of the client process, a round of
 * `--ops` / 4 items to warm up and one measured, four calls an item (the worker's gets block
 * whenever it is ahead). `--pin same` runs both on CPU 0. `--prof DIR` writes each server's and
 * each TypeScript client's `--cpu-prof` profile. `--peer redis` (or `ioredis`, or both) adds a row
 * measured the same way in each round: a fresh redis-server (its CPU time read from /proc) and the
 * bench's Redis peer client (`peers/redis.ts`, `peers/ioredis.ts`), LPUSH and BRPOP; `--peer tcp-echo`
 * a row for Node's bare TCP echo (`peers/tcp-echo.ts`, served in a Node process as ours is), the
 * floor of a round trip in Node, against which our server's own work per call shows. `--payload 65536`
 * puts a byte string of that many bytes instead of the loop counter (a Uint8Array from the
 * TypeScript client, `bytes` from CPython's), for the 64 KiB row's CPU per op; `--bundle
 * python=python` serves the queues from CPython's own BaseManager instead of a bundle (its CPU time
 * read from `/proc`, every thread's), for CPython's client to compare with. `--node-options
 * LABEL=FLAGS` starts the server of the bundle labelled LABEL with those Node options (separated by
 * spaces), so that one build served with different V8 settings compares interleaved:
 * `--bundle default=dist/server.js --bundle semi4=dist/server.js --node-options semi4=--max-semi-space-size=4`.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { AUTHKEY, measurePairs, pairOpsFor, runSeedRound, type ClientConn, type ImplModule, type PairOps } from './harness';
import { closeSocket, freePort, openSocket } from './peers/net-util';
import { answerCpuTime, cpuTimeOf, lineOf, nodeOptionsByLabel, option, PIN, pinned, procCpuUs } from './cpuProbe';

const THIS = __filename;
/** How a peer is named where a bundle's path goes (`--peer redis` measures `peer:redis`). */
const PEER = 'peer:';
/** The peers whose server is redis-server (the others are served by their module's `serve`, in a Node process as ours). */
const REDIS_PEERS = new Set(['redis', 'ioredis']);
/** Calls an item of the seed workload makes: the manager's put and get, the worker's get and put. */
const SEED_CALLS = 4;
const PYTHON_CLIENT = join(__dirname, 'peers', 'python_cost_client.py');
const PYTHON_SERVER = join(__dirname, 'peers', 'python_manager_server.py');
/** The `--bundle` path that means CPython's own BaseManager server. */
const PYTHON_BUNDLE = 'python';
/** Bytes each put carries (`--payload`); 0 for the loop counter. */
const PAYLOAD = Number(option('--payload', '0'));

/** The server side: serves the bench queues from `bundle` (or a peer's server, `peer:tcp-echo`) until stdin closes, answering `cpu` with its CPU time in µs. */
async function serve(bundle: string): Promise<void> {
  const served = bundle.startsWith(PEER) ? await ((await import(`./peers/${bundle.slice(PEER.length)}`)) as ImplModule).serve() : await (await import('./ours')).serve(resolve(bundle));
  process.stdout.write(`READY ${served.address}\n`);
  answerCpuTime(() => void served.close().then(() => process.exit(0)));
}

/** A connection through the client build `clientBundle`, or through a peer's client (`peer:redis`, `peer:tcp-echo`). */
async function connectThrough(address: string, clientBundle: string): Promise<ClientConn> {
  if (clientBundle.startsWith(PEER)) return ((await import(`./peers/${clientBundle.slice(PEER.length)}`)) as ImplModule).connect(address);
  const { connect } = (await import(resolve(clientBundle))) as typeof import('../src/client');
  const conn = await connect({ address, authkey: AUTHKEY });
  // Puts carry `--payload` bytes through our client only, as they always have here.
  const value = PAYLOAD > 0 ? new Uint8Array(PAYLOAD).fill(0x61) : undefined;
  return {
    async queue(typeid) {
      const queue = await conn.create<import('../src/client').QueueProxy<unknown>>(typeid);
      return { put: (i) => queue.put(value ?? i), get: () => queue.get() };
    },
    close: () => conn.close(),
  };
}

/** A measured window of the client: `run` warms up once (`measured` false), then, after MARK and a line on stdin, once more measured; DONE with ops/s, CPU µs per op and the op count. */
async function measuredClient(run: (measured: boolean) => Promise<{ ops: number; elapsedMs: number }>, close: () => Promise<void>): Promise<void> {
  await run(false);
  process.stdout.write('MARK\n');
  await new Promise((done) => process.stdin.once('data', done));
  const cpu = process.cpuUsage();
  const result = await run(true);
  const used = process.cpuUsage(cpu);
  process.stdout.write(`DONE ${(result.ops / result.elapsedMs) * 1000} ${(used.user + used.system) / result.ops} ${result.ops}\n`);
  await close();
  process.exit(0);
}

/** The TypeScript (or peer) client side: `ops` ops of `workload` (1, 2 or seed), measured by {@link measuredClient}. */
async function client(address: string, clientBundle: string, workload: string, ops: number): Promise<void> {
  if (workload === 'seed') {
    const manager = await connectThrough(address, clientBundle);
    const worker = await connectThrough(address, clientBundle);
    const items = Math.max(1, Math.round(ops / SEED_CALLS));
    const round = async (): Promise<{ ops: number; elapsedMs: number }> => {
      const result = await runSeedRound(manager, worker, items, 600_000);
      if (!result.verified) throw new Error('the seed round summed its results wrongly');
      return { ops: items * SEED_CALLS, elapsedMs: result.wallMs };
    };
    return measuredClient(round, async () => void (await Promise.all([manager.close(), worker.close()])));
  }
  const conn = await connectThrough(address, clientBundle);
  const pair: PairOps = await pairOpsFor(conn);
  const loops = workload === '2' ? 100 : 1;
  return measuredClient((measured) => measurePairs(pair, loops, 600_000, ops, measured), () => conn.close());
}

/** Node's options for a `--cpu-prof` written into `dir`, if any. */
const profArgs = (dir: string | undefined): string[] => (dir ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir] : []);

interface Figures {
  serverUs: number;
  clientUs: number;
  opsPerSecond: number;
}

/** A fresh redis-server (no persistence, as the bench's Redis peers), its address, and its CPU time in µs read from /proc (10 ms ticks). */
async function startRedis(): Promise<{ server: ChildProcess; address: string; cpu(): Promise<number> }> {
  const port = await freePort();
  const server = spawn(...pinned('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no']), { stdio: ['pipe', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;
  // Ready once it accepts a connection: bounded, 100 tries 50 ms apart.
  for (let attempt = 0; ; attempt++) {
    try {
      await closeSocket(await openSocket(address, 1000));
      break;
    } catch (error) {
      if (attempt >= 100 || server.exitCode !== null) throw error;
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  return { server, address, cpu: async () => procCpuUs(server.pid!) };
}


async function measure(bundle: string, nodeOptions: string[], kind: 'ts' | 'python' | 'python-json', workload: string, ops: number, prof: string | undefined): Promise<Figures> {
  const peer = bundle.startsWith(PEER);
  const redis = peer && REDIS_PEERS.has(bundle.slice(PEER.length));
  let server: ChildProcess;
  let serverCpu: () => Promise<number>;
  let address: string;
  if (redis) {
    const redis = await startRedis();
    [server, serverCpu, address] = [redis.server, redis.cpu, redis.address];
  } else if (bundle === PYTHON_BUNDLE) {
    server = spawn(...pinned(option('--python', pythonPath()), [PYTHON_SERVER, 'bench']), { stdio: ['pipe', 'pipe', 'inherit'] });
    serverCpu = async () => procCpuUs(server.pid!);
    address = '';
  } else {
    server = spawn(...pinned(process.execPath, [...nodeOptions, ...profArgs(prof), '--import', 'tsx', THIS, 'serve', bundle]), { stdio: ['pipe', 'pipe', 'inherit'] });
    serverCpu = () => cpuTimeOf(server);
    address = '';
  }
  try {
    if (!redis) address = await lineOf(server, 'READY ', 30_000);
    const clientBundle = peer ? bundle : resolve(option('--client-bundle', join(__dirname, '..', 'dist', 'client.js')));
    const clientArgs: [string, string[]] =
      kind === 'ts' || peer
        ? // The client process reads `--payload` from its own command line: it makes the puts.
          [process.execPath, [...profArgs(prof), '--import', 'tsx', THIS, 'client', address, clientBundle, workload, String(ops), ...(PAYLOAD > 0 ? ['--payload', String(PAYLOAD)] : [])]]
        : [option('--python', pythonPath()), [PYTHON_CLIENT, ...(kind === 'python-json' ? ['--json-client'] : []), address, workload === '2' ? '100' : '1', String(ops), String(PAYLOAD)]];
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
      // The client exits by itself after DONE (writing its profile), the server when its stdin closes.
      await ended(child);
    }
  } finally {
    // Our server (and a Node peer's) ends when its stdin closes; redis-server is told to.
    if (redis) server.kill('SIGTERM');
    else server.stdin!.end();
    await ended(server);
  }
}

/** Waits for `child` to exit (a profile is written on a normal exit), killing it after 5 s. */
function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

function pythonPath(): string {
  const root = execFileSync('pyenv', ['root']).toString().trim();
  const version = execFileSync('ls', [join(root, 'versions')]).toString().split('\n').find((v) => v.startsWith('3.11'));
  return join(root, 'versions', version!, 'bin', 'python');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const rounds = Number(option('--rounds', '3'));
  // Several clients (`--client python,python-json`) are measured in turn in each round, on each server.
  type Kind = 'ts' | 'python' | 'python-json';
  const kinds = option('--client', 'ts').split(',').map((k): Kind => (k === 'python' || k === 'python-json' ? k : 'ts'));
  const workload = option('--workload', '1');
  if (workload === 'seed' && kinds.some((kind) => kind !== 'ts')) throw new Error('--workload seed runs the TypeScript client only');
  if (workload === 'seed' && option('--peer', '').split(',').includes('tcp-echo')) throw new Error('--peer tcp-echo has no queues: it has no seed workload');
  const ops = Number(option('--ops', workload === '2' ? '200000' : '40000'));
  const prof = process.argv.includes('--prof') ? resolve(option('--prof', '.')) : undefined;
  const bundles: [string, string][] = [];
  process.argv.forEach((arg, i) => arg === '--bundle' && bundles.push(process.argv[i + 1].split('=') as [string, string]));
  if (bundles.length === 0) bundles.push(['this build', join(__dirname, '..', 'dist', 'server.js')]);
  for (const name of option('--peer', '').split(',').filter(Boolean)) bundles.push([name, `${PEER}${name}`]);
  const nodeOptions = nodeOptionsByLabel(bundles.map(([label]) => label));
  // CPython's server speaks pickle only: the JSON client has nothing to talk to there.
  const cases = bundles.flatMap(([label, bundle]) =>
    kinds
      .filter((kind) => !(kind === 'python-json' && bundle === PYTHON_BUNDLE))
      .map((kind) => ({ label: kinds.length > 1 ? `${label}, ${kind}` : label, bundle, kind, nodeOptions: nodeOptions(label) })),
  );
  const width = Math.max(12, ...cases.map((c) => c.label.length));
  const what = workload === 'seed' ? `the seed workload (${SEED_CALLS} calls an item)` : workload === '2' ? '100 in flight' : 'one at a time';
  console.log(`server CPU per op, ${kinds.join(' and ')} client, ${what}, ${rounds} rounds of ${ops.toLocaleString('en')} ops${PAYLOAD ? `, puts of ${PAYLOAD} bytes` : ''}${PIN ? ', pinned to CPU 0' : ''}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const figures = new Map<string, Figures[]>(cases.map(({ label }) => [label, []]));
  for (let round = 1; round <= rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const { label, bundle, kind, nodeOptions } = cases[(round - 1 + k) % cases.length];
      const f = await measure(bundle, nodeOptions, kind, workload, ops, prof);
      figures.get(label)!.push(f);
      console.log(`  round ${round}: ${label.padEnd(width)} server ${f.serverUs.toFixed(2)} µs/op  client ${f.clientUs.toFixed(2)} µs/op  ${Math.round(f.opsPerSecond).toLocaleString('en')} ops/s`);
    }
  }
  console.log('medians (range):');
  for (const { label } of cases) {
    const xs = figures.get(label)!;
    const range = (pick: (f: Figures) => number): string => `${median(xs.map(pick)).toFixed(2)} (${Math.min(...xs.map(pick)).toFixed(2)}–${Math.max(...xs.map(pick)).toFixed(2)})`;
    console.log(`  ${label.padEnd(width)} server ${range((f) => f.serverUs)} µs/op  client ${range((f) => f.clientUs)} µs/op  ${Math.round(median(xs.map((f) => f.opsPerSecond))).toLocaleString('en')} ops/s`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

const [mode, ...rest] = process.argv.slice(2);
const fail = (error: unknown): void => {
  console.error(error);
  process.exit(1);
};
if (mode === 'serve') serve(rest[0]).catch(fail);
else if (mode === 'client') client(rest[0], rest[1], rest[2], Number(rest[3])).catch(fail);
else main().then(() => process.exit(0), fail);
