/**
 * Entry point of the benchmark's TypeScript child processes, started by `run.ts`:
 *
 *   node --import tsx bench/child.ts server <impl>
 *       starts that implementation's server and prints `READY host:port` (or `UNAVAILABLE why`)
 *   node --expose-gc --import tsx bench/child.ts client <impl> <host:port> <config-json>
 *       runs the workloads against that server and prints `RESULT {json}`
 *
 * <impl> is `ours`, `ours-redis`, `tcp-echo`, `vscode-jsonrpc` or `redis`, ... (see IMPLS; redis
 * has no server here: run.ts starts redis-server itself, and gives `ours-redis` its URL in
 * BENCH_STORE). `ours-redis-2`'s client gets two addresses, `host:port,host:port`. Servers and clients live in separate processes so they never share
 * an event loop.
 */

import type { BenchConfig, ImplModule, Outcome, WorkloadId } from './harness';
import { UnavailableError, runLatencyWorkload, runSeedWorkload } from './harness';
// ours.ts loads src/server and src/client lazily, so importing it here is safe before they exist.
import * as ours from './ours';
import * as ioredis from './peers/ioredis';
import * as redis from './peers/redis';
import * as tcpEcho from './peers/tcp-echo';
import * as vscodeJsonrpc from './peers/vscode-jsonrpc-echo';

const IMPLS: Record<string, ImplModule> = {
  ours,
  'ours-watched': { serve: ours.serveWatched, connect: ours.connect },
  'ours-ack': { serve: ours.serve, connect: ours.connectAcknowledging },
  'ours-unhooked': { serve: ours.serveWithoutActivityHook, connect: ours.connect },
  'ours-redis': { serve: ours.serveInRedisStore, connect: ours.connect },
  'ours-redis-2': { serve: ours.serveInRedisStore, connect: ours.connectSpread },
  'tcp-echo': tcpEcho,
  'vscode-jsonrpc': vscodeJsonrpc,
  redis,
  'redis-ioredis': ioredis,
};

async function loadImpl(name: string): Promise<ImplModule> {
  const impl = IMPLS[name];
  if (!impl) throw new Error(`unknown implementation ${JSON.stringify(name)}`);
  return impl;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const prefix = error.name === 'Error' || error instanceof UnavailableError ? '' : `${error.name}: `;
    return `${prefix}${error.message}`.split('\n')[0];
  }
  return String(error);
}

async function server(implName: string): Promise<void> {
  const impl = await loadImpl(implName);
  let served;
  try {
    served = await impl.serve();
  } catch (error) {
    const unavailable = error instanceof UnavailableError;
    process.stdout.write(`${unavailable ? 'UNAVAILABLE' : 'FAILED'} ${describe(error)}\n`);
    if (!unavailable) console.error(error);
    process.exit(3);
  }
  const stop = () => {
    // Exit even when a close hangs on open connections.
    setTimeout(() => process.exit(0), 1000).unref();
    served.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent going away closes our stdin: do not outlive it.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.stdout.write(`READY ${served.address}\n`);
}

async function client(implName: string, address: string, config: BenchConfig): Promise<void> {
  const impl = await loadImpl(implName);
  const results: Partial<Record<WorkloadId, Outcome>> = {};
  const connect = () => impl.connect(address);

  for (const workload of config.workloads) {
    const t0 = Date.now();
    try {
      if (workload === 'seed') {
        const probe = await connect();
        const hasQueues = typeof probe.queue === 'function';
        await probe.close();
        results.seed = hasQueues ? await runSeedWorkload(connect, config) : { kind: 'n/a', reason: 'echo peer: no queues' };
      } else {
        const conn = await connect();
        try {
          results[workload] = await runLatencyWorkload(conn, workload === 'in-flight' ? config.concurrency : 1, config);
        } finally {
          await conn.close();
        }
      }
    } catch (error) {
      results[workload] = { kind: error instanceof UnavailableError ? 'unavailable' : 'error', reason: describe(error) };
      if (!(error instanceof UnavailableError)) console.error(error);
    }
    process.stderr.write(`  ${implName}: ${workload} ${Date.now() - t0} ms\n`);
  }
  process.stdout.write(`RESULT ${JSON.stringify({ results })}\n`);
}

async function main(): Promise<void> {
  const [mode, implName, address, configJson] = process.argv.slice(2);
  if (mode === 'server' && implName) return server(implName);
  if (mode === 'client' && implName && address && configJson) {
    // Do not outlive run.ts (it holds our stdin open).
    process.stdin.on('end', () => process.exit(1));
    process.stdin.resume();
    await client(implName, address, JSON.parse(configJson) as BenchConfig);
    // Blocked gets left by a failed round would keep the process alive.
    process.exit(0);
  }
  console.error('usage: child.ts server <impl> | child.ts client <impl> <host:port> <config-json>');
  process.exit(2);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
