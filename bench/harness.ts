/**
 * Shared pieces of the benchmark: the workload definitions, the interface every implementation's
 * client adapter offers, the timed loops, and the statistics. Used by `child.ts` (which runs inside
 * the client and server child processes); `run.ts` only orchestrates and prints.
 *
 * Every loop here is bounded twice: by a deadline and by an operation count.
 */

/** The workloads, in the order they are run and printed. */
export const WORKLOADS = [
  {
    id: 'one-at-a-time',
    title: 'Workload 1: one at a time',
    what: 'one connection, each op awaited before the next: put(i), get(), put(i+1), ... (queue peers); echo round trips (echo peers)',
    aliases: ['1', 'one', 'seq', 'sequential'],
    target: 20_000,
  },
  {
    id: 'in-flight',
    title: 'Workload 2: 100 in flight',
    what: '100 ops outstanding on one connection: 100 loops each awaiting put(i) then get(), so about half puts and half gets',
    aliases: ['2', 'inflight', 'pipelined', '100'],
    target: 100_000,
  },
  {
    id: 'seed',
    title: 'Workload 3: seed task queue, end to end',
    what: 'manager puts 0..N-1 into a task queue; one worker (own connection) gets each, squares it, puts it in a result queue; manager gets all N results',
    aliases: ['3', 'seed', 'tasks'],
    target: undefined,
  },
] as const;

export type WorkloadId = (typeof WORKLOADS)[number]['id'];

/** Typeids every queue server registers: one queue for workloads 1 and 2, two for the seed workload. */
export const QUEUE_TYPEIDS = { queue: 'get_queue', tasks: 'get_task_queue', results: 'get_result_queue' } as const;

/** A queue our bench server fills with {@link COLD_ITEMS} items, for bench/rows' cold clients. */
export const COLD_TYPEID = 'get_cold_queue';
export const COLD_ITEMS = 10_000;

/** The authkey every manager-style peer uses. */
export const AUTHKEY = 'bench';

export interface BenchConfig {
  workloads: WorkloadId[];
  /** Warm-up time before each measured latency workload, with the same loop, results discarded. */
  warmupMs: number;
  /**
   * The longest warm-up of a latency workload: after the first `warmupMs`, it goes on window
   * after window of `warmupMs` while the last window's rate is still above the one before by
   * more than {@link STILL_RISING} (a manager whose longer path is not yet at its pace) or fewer
   * than {@link WARM_OPS} ops were made in all, up to this much in all.
   * Undefined: `warmupMs` only. Rows of several processes (`startAtMs`) keep `warmupMs`, so that
   * their measured windows meet.
   */
  warmupMaxMs?: number;
  /** Measured time of each latency workload. */
  durationMs: number;
  /** Largest number of ops measured (and latency samples kept) per latency workload. */
  maxOps: number;
  /** Ops outstanding in workload 2. */
  concurrency: number;
  /** Items in the seed workload (the seed example uses 10000). */
  seedItems: number;
  /** Items in the seed warm-up round. */
  seedWarmupItems: number;
  /** The seed workload fails if it takes longer than this. */
  seedTimeoutMs: number;
  /** Rows of bench/rows: the warm-up starts at this wall-clock time (ms since the epoch), so several client processes measure the same window. */
  startAtMs?: number;
  /** Rows of bench/rows: what `put` sends instead of the loop counter (64 KiB of bytes, say). */
  payload?: PayloadSpec;
}

/** A payload of `bytes` bytes: a byte string (Uint8Array) or an ASCII text of that length. */
export interface PayloadSpec {
  bytes: number;
  as: 'bytes' | 'string';
}

/** The value a {@link PayloadSpec} describes. */
export function makePayload(spec: PayloadSpec): Uint8Array | string {
  return spec.as === 'bytes' ? new Uint8Array(spec.bytes).fill(0x61) : 'a'.repeat(spec.bytes);
}

/** Waits until the wall clock reaches `atMs` (no wait when undefined or past). */
export async function startAt(atMs: number | undefined): Promise<void> {
  const wait = atMs === undefined ? 0 : atMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

export interface LatencyResult {
  kind: 'latency';
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** TCP connections the client used. */
  connections: number;
  /** Ops outstanding at once. */
  inFlight: number;
  /** How long the warm-up took, when longer than its first window (see {@link BenchConfig.warmupMaxMs}). */
  warmedUpMs?: number;
  note?: string;
}

export interface SeedResult {
  kind: 'seed';
  items: number;
  wallMs: number;
  itemsPerSec: number;
  /** Every result came back and they sum to the sum of squares. */
  verified: boolean;
  note?: string;
}

/** What a workload produced for one implementation. */
export type Outcome = LatencyResult | SeedResult | { kind: 'n/a' | 'error' | 'unavailable' | 'skipped'; reason: string };

/** A shared queue as the workloads use it. `get` blocks (server side) until an item is there. */
export interface QueueOps {
  put(value: unknown): Promise<unknown>;
  get(): Promise<unknown>;
}

/** One client connection of an implementation. Queue peers offer `queue`, echo peers `echo`. */
export interface ClientConn {
  queue?(typeid: string): Promise<QueueOps>;
  echo?(value: number): Promise<unknown>;
  close(): Promise<void>;
}

/** A running server inside a child process. */
export interface Served {
  /** `host:port`. */
  address: string;
  close(): Promise<void>;
}

/** What each TypeScript implementation module (`ours.ts`, `peers/*.ts`) exports. */
export interface ImplModule {
  serve(): Promise<Served>;
  connect(address: string): Promise<ClientConn>;
}

/** Thrown when an implementation cannot run at all (e.g. its modules are not written yet). */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

export const now = (): bigint => process.hrtime.bigint();

/** `host:port` → parts; the port is the text after the last colon. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad address ${JSON.stringify(address)}, expected host:port`);
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile of ascending-sorted samples (the Python client uses the same rule). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function summarize(samplesNs: Float64Array, count: number, elapsedNs: bigint, connections: number, inFlight: number): LatencyResult {
  const sorted = samplesNs.slice(0, count).sort();
  let sum = 0;
  for (let k = 0; k < count; k++) sum += sorted[k];
  const elapsedMs = Number(elapsedNs) / 1e6;
  return {
    kind: 'latency',
    ops: count,
    elapsedMs,
    opsPerSec: count / (elapsedMs / 1000),
    p50Us: percentile(sorted, 0.5) / 1000,
    p99Us: percentile(sorted, 0.99) / 1000,
    meanUs: count ? sum / count / 1000 : NaN,
    connections,
    inFlight,
  };
}

// ---------------------------------------------------------------------------------------------
// Workloads 1 and 2

/** Two operations a loop alternates: put then get for queues, echo twice for echo peers. */
export interface PairOps {
  first(i: number): Promise<unknown>;
  second(i: number): Promise<unknown>;
}

export async function pairOpsFor(conn: ClientConn, payload?: PayloadSpec): Promise<PairOps> {
  if (conn.queue) {
    const q = await conn.queue(QUEUE_TYPEIDS.queue);
    if (payload) {
      const value = makePayload(payload);
      return { first: () => q.put(value), second: () => q.get() };
    }
    return { first: (i) => q.put(i), second: () => q.get() };
  }
  if (conn.echo) {
    const echo = conn.echo.bind(conn);
    return { first: echo, second: echo };
  }
  throw new Error('the connection offers neither queue() nor echo()');
}

/**
 * Runs `loops` concurrent loops, each awaiting `first(i)` then `second(i)`, until `durationMs`
 * has passed or `maxOps` ops are done; each loop finishes its current pair before stopping, so a
 * get always follows its own put and a queue never runs dry. With `record`, every op's latency
 * is kept and summarized.
 */
export async function measurePairs(ops: PairOps, loops: number, durationMs: number, maxOps: number, record: boolean): Promise<LatencyResult> {
  // Room for the cap plus the pairs still running when it is reached.
  const samples = new Float64Array(record ? maxOps + 2 * loops : 2);
  let count = 0;
  let stop = false;
  let failure: unknown;
  const start = now();
  const deadline = start + BigInt(Math.round(durationMs * 1e6));

  const loop = async (loopIndex: number): Promise<void> => {
    let i = loopIndex * 1_000_000;
    try {
      while (!stop) {
        const t0 = now();
        await ops.first(i);
        const t1 = now();
        await ops.second(i);
        const t2 = now();
        if (record) {
          samples[count] = Number(t1 - t0);
          samples[count + 1] = Number(t2 - t1);
        }
        count += 2;
        i++;
        if (count >= maxOps || t2 >= deadline) stop = true;
      }
    } catch (error) {
      stop = true;
      failure ??= error;
    }
  };

  const running: Promise<void>[] = [];
  for (let k = 0; k < loops; k++) running.push(loop(k));
  await Promise.all(running);
  const elapsed = now() - start;
  if (failure !== undefined) throw failure;
  if (record) return summarize(samples, count, elapsed, 1, loops);
  // No latencies kept: the count and rate only.
  return { ...summarize(new Float64Array(0), 0, elapsed, 1, loops), ops: count, opsPerSec: count / (Number(elapsed) / 1e9) };
}

/** A warm-up window's rate above the one before by more than this: the workload is not at its pace yet. */
export const STILL_RISING = 1.05;

/**
 * Ops a warm-up makes at the least (within its longest time): a slow row makes few ops in a
 * window, too few for V8 to have optimized its path, and its rate can look flat while it has not.
 */
export const WARM_OPS = 20_000;

/** When a warm-up goes on past its first window, as the bench's usage and notes say it. */
export const WARM_UP_RULE = `while the rate still rises by more than ${Math.round((STILL_RISING - 1) * 100)} % or fewer than ${WARM_OPS.toLocaleString('en-US')} ops were made`;

/** The warm-up of a latency workload (see {@link BenchConfig.warmupMaxMs}); returns how long it took in ms. */
export async function warmUp(ops: PairOps, loops: number, config: BenchConfig): Promise<number> {
  const window = config.warmupMs;
  const first = await measurePairs(ops, loops, window, config.maxOps, false);
  let rate = first.opsPerSec;
  let done = first.ops;
  const most = config.startAtMs === undefined ? (config.warmupMaxMs ?? window) : window;
  let spent = window;
  while (window > 0 && spent + window <= most) {
    const next = await measurePairs(ops, loops, window, config.maxOps, false);
    spent += window;
    done += next.ops;
    if (next.opsPerSec <= rate * STILL_RISING && done >= WARM_OPS) break;
    rate = next.opsPerSec;
  }
  return spent;
}

/** Warm-up (discarded) then a measured run of workload 1 or 2 on one connection. */
export async function runLatencyWorkload(conn: ClientConn, loops: number, config: BenchConfig): Promise<LatencyResult> {
  const ops = await pairOpsFor(conn, config.payload);
  await startAt(config.startAtMs);
  const warmedMs = await warmUp(ops, loops, config);
  collectGarbage();
  const result = await measurePairs(ops, loops, config.durationMs, config.maxOps, true);
  return warmedMs > config.warmupMs ? { ...result, warmedUpMs: warmedMs } : result;
}

// ---------------------------------------------------------------------------------------------
// Workload 3

/**
 * The seed example with two connections: `manager` puts 0..items-1 into the task queue, a worker
 * on `worker` gets each, squares it and puts it into the result queue, and `manager` then gets
 * all the results. Timed from the first put to the last result.
 */
export async function runSeedRound(manager: ClientConn, worker: ClientConn, items: number, timeoutMs: number): Promise<SeedResult> {
  if (!manager.queue || !worker.queue) throw new Error('the seed workload needs queues');
  const tasks = await manager.queue(QUEUE_TYPEIDS.tasks);
  const results = await manager.queue(QUEUE_TYPEIDS.results);
  const workerTasks = await worker.queue(QUEUE_TYPEIDS.tasks);
  const workerResults = await worker.queue(QUEUE_TYPEIDS.results);

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`seed round of ${items} items did not finish within ${timeoutMs} ms`)), timeoutMs);
  });

  const workerDone = (async () => {
    for (let k = 0; k < items; k++) {
      const x = Number(await workerTasks.get());
      await workerResults.put(x * x);
    }
  })();

  const managerDone = (async () => {
    const t0 = now();
    for (let i = 0; i < items; i++) await tasks.put(i);
    let sum = 0;
    for (let k = 0; k < items; k++) sum += Number(await results.get());
    const t1 = now();
    return { sum, elapsed: t1 - t0 };
  })();

  try {
    const [{ sum, elapsed }] = await Promise.race([Promise.all([managerDone, workerDone]), timeout]);
    const wallMs = Number(elapsed) / 1e6;
    const expected = ((items - 1) * items * (2 * items - 1)) / 6;
    return { kind: 'seed', items, wallMs, itemsPerSec: items / (wallMs / 1000), verified: sum === expected };
  } finally {
    clearTimeout(timer);
  }
}

export async function runSeedWorkload(connect: () => Promise<ClientConn>, config: BenchConfig): Promise<SeedResult> {
  const manager = await connect();
  const worker = await connect();
  try {
    if (config.seedWarmupItems > 0) await runSeedRound(manager, worker, config.seedWarmupItems, config.seedTimeoutMs);
    collectGarbage();
    const result = await runSeedRound(manager, worker, config.seedItems, config.seedTimeoutMs);
    result.note = 'worker on its own connection in the same client process';
    return result;
  } finally {
    await Promise.allSettled([manager.close(), worker.close()]);
  }
}

/** Runs a full GC when node was started with --expose-gc, so one phase's garbage is not charged to the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}
