/**
 * What the server's own JavaScript costs a call, without the kernel: one JSON-RPC session of a
 * server bundle, fed framed put and get requests as its socket reader hands them over (views of
 * one reused buffer), answering into a fake socket that takes every write at once. The sockets'
 * system calls, Node's stream layers and the process switches, which `serverCost.ts` includes and
 * which swing with the machine's load, are left out: what remains is the session's reading,
 * dispatch, the queue's work, the answer's text and the garbage they make, steady to a few percent.
 *
 *   node esbuild.js && node --import tsx bench/sessionCost.ts [--bundle LABEL=PATH ...] [--ops N] [--rounds N]
 *        [--node-options LABEL=FLAGS ...]
 *
 * Each bundle (default: this build's `dist/server.js`) is measured in processes of its own, the
 * bundles taking turns, `--rounds` processes each (3); a process warms up, then times five windows
 * of `--ops` calls (200,000) and reports their median CPU time per call (`process.cpuUsage()`),
 * from which the cost of the driving loop alone, timed the same way, is taken off. `--node-options
 * LABEL=FLAGS` starts the processes of the bundle labelled LABEL with those Node options (see
 * `cpuProbe.ts`), for one build run with different V8 settings.
 */

import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type * as ServerModule from '../src/server';
import { nodeOptionsByLabel, option } from './cpuProbe';

const THIS = __filename;
const WINDOWS = 5;
/** Distinct put and get frames fed in turn (their ids and items), each copied into the read buffer before it is handed over. */
const FRAMES = 1024;

/** A socket as far as a session writes to it: every write taken at once. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  written = 0;
  last: string | Uint8Array = '';
  write(data: string | Uint8Array): boolean {
    this.last = data;
    this.written++;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
}

const frame = (message: object): Buffer => {
  const json = JSON.stringify(message);
  return Buffer.from(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
};

/** The part of a Manager this bench reaches beyond its API: the handler its listener gives each authenticated connection. */
interface WithHandler {
  listener: { handler: { onJsonRpc(socket: unknown, head: Buffer, remote: string): { onData(chunk: Buffer): void } } };
}

/** A session of `bundle`'s manager on a fake socket, initialized, with a queue created; its put and get frames. */
async function session(bundle: string): Promise<{ feed(chunk: Buffer): void; put(k: number): Buffer; get(k: number): Buffer; socket: FakeSocket }> {
  const { Manager, Queue } = (await import(bundle)) as typeof ServerModule;
  const manager = new Manager({ address: '127.0.0.1:0', authkey: 'bench' });
  const queue = new Queue();
  manager.register('get_queue', { callable: () => queue });
  await manager.listen();
  const socket = new FakeSocket();
  const served = (manager as unknown as WithHandler).listener.handler.onJsonRpc(socket, Buffer.alloc(0), 'bench');
  const turn = (): Promise<void> => new Promise((done) => setImmediate(done));
  served.onData(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1.3', processId: 1, clientInfo: { name: 'bench' }, capabilities: {} } }));
  await turn();
  served.onData(frame({ jsonrpc: '2.0', id: 2, method: 'object/create', params: { typeid: 'get_queue' } }));
  await turn();
  const answer = String(socket.last);
  const objectId = (JSON.parse(answer.slice(answer.indexOf('{'))) as { result?: { id?: string } }).result?.id;
  if (!objectId) throw new Error(`no object created: ${answer}`);
  const read = Buffer.alloc(64 * 1024);
  const puts: Buffer[] = [];
  const gets: Buffer[] = [];
  for (let k = 0; k < FRAMES; k++) {
    puts.push(frame({ jsonrpc: '2.0', id: 100_000 + 2 * k, method: 'object/call', params: { id: objectId, method: 'put', args: [k] } }));
    gets.push(frame({ jsonrpc: '2.0', id: 100_001 + 2 * k, method: 'object/call', params: { id: objectId, method: 'get' } }));
  }
  const handOver = (bytes: Buffer): Buffer => read.subarray(0, bytes.copy(read));
  return { feed: (chunk) => served.onData(chunk), put: (k) => handOver(puts[k % FRAMES]), get: (k) => handOver(gets[k % FRAMES]), socket };
}

/** CPU µs per call over `ops` calls, put and get in turn, each answered (the flush runs) before the next. */
async function window(feed: (chunk: Buffer) => void, put: (k: number) => Buffer, get: (k: number) => Buffer, ops: number): Promise<number> {
  const cpu = process.cpuUsage();
  for (let k = 0; k < ops / 2; k++) {
    feed(put(k));
    await null;
    feed(get(k));
    await null;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / ops;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** One process's measure: prints `COST <µs per call of the session> <µs per call of the loop alone>`. */
async function measure(bundle: string, ops: number): Promise<void> {
  const s = await session(resolve(bundle));
  const loopOnly = (): void => {};
  await window(s.feed, s.put, s.get, ops);
  const costs: number[] = [];
  const loops: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    costs.push(await window(s.feed, s.put, s.get, ops));
    loops.push(await window(loopOnly, s.put, s.get, ops));
  }
  const last = String(s.socket.last);
  if (!last.includes('"result":')) throw new Error(`the last answer is not a result: ${last}`);
  process.stdout.write(`COST ${median(costs)} ${median(loops)}\n`);
  process.exit(0);
}

function main(): void {
  const ops = Number(option('--ops', '200000'));
  const rounds = Number(option('--rounds', '3'));
  const bundles: [string, string][] = [];
  process.argv.forEach((arg, i) => arg === '--bundle' && bundles.push(process.argv[i + 1].split('=') as [string, string]));
  if (bundles.length === 0) bundles.push(['this build', join(__dirname, '..', 'dist', 'server.js')]);
  const nodeOptions = nodeOptionsByLabel(bundles.map(([label]) => label));
  console.log(`the session's JavaScript per call (put and get in turn, fake socket), ${rounds} processes of ${WINDOWS} windows of ${ops.toLocaleString('en')} calls each; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const figures = new Map<string, number[]>(bundles.map(([label]) => [label, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [label, bundle] of bundles) {
      const [cost, loop] = execFileSync(process.execPath, [...nodeOptions(label), '--import', 'tsx', THIS, 'measure', bundle, String(ops)]).toString().trim().split(' ').slice(1).map(Number);
      figures.get(label)!.push(cost - loop);
      console.log(`  round ${round}: ${label.padEnd(12)} ${(cost - loop).toFixed(3)} µs a call (the loop alone ${loop.toFixed(3)} taken off)`);
    }
  }
  for (const [label, xs] of figures) console.log(`  ${label.padEnd(12)} median ${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}) µs a call`);
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'measure')
  measure(rest[0], Number(rest[1])).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
else main();
