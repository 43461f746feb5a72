/**
 * How long one costly request keeps every other client waiting, under the server's default
 * limits: for each request kind and size, a fresh `syncmanager serve` (built CLI, child process),
 * a probe client calling `qsize()` back to back, and one raw connection sending the request. The
 * stall is the longest gap between two probe answers while the request was being read and
 * served; peak RSS is the server's VmHWM. Prints a Markdown table (README, "Limits").
 *
 *   npm run build && node --import tsx bench/stall.ts [--quick]
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type QueueProxy } from '../src/client';
import { AUTHKEY_VARIABLE } from '../src/common/environmentVariables';
import { frameMessage } from '../src/common/framing';
import { pythonFrame } from '../src/server/python/framing';
import { RawClient, createOver } from '../test/helpers/manager';

const KEY = 'stall-bench';
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const MiB = 1024 * 1024;

interface Row {
  kind: string;
  size: string;
  bytes: number;
  outcome: string;
  stallMs: number;
  peakRssMiB: number;
}

/** Starts the server; resolves with its address and process. */
function serve(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--address', '127.0.0.1:0', '--no-config', '--json', '--quiet'], { env: { ...process.env, [AUTHKEY_VARIABLE]: KEY }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = /^\{.*\}$/m.exec(out);
      if (line) resolve({ child, address: JSON.parse(line[0]).address });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Sends what `make` builds for a fresh queue id, and measures. */
async function measure(kind: string, size: string, make: (objectId: string) => { bytes: Buffer | string; pickle?: boolean }, typeid = 'Queue'): Promise<Row> {
  const { child, address } = await serve();
  try {
    const probeClient = await connect<{ Queue: QueueProxy<number> }>({ address, authkey: KEY });
    const probeQueue = await probeClient.Queue();
    const raw = await RawClient.open(address, { authkey: KEY });
    const target = await createOver(raw, typeid);
    const request = make(target.id);
    let sender = raw;
    let reply: Promise<string>;
    if (request.pickle) {
      // A Python channel of its own: accept_connection, then the request.
      sender = await RawClient.open(address, { authkey: KEY, initialize: false });
      const received: Buffer[] = [];
      sender.socket.removeAllListeners('data');
      let frames = 0;
      reply = new Promise((resolve) => {
        sender.socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          // Crude but enough here: the second reply frame has arrived when bytes beyond the first are there.
          const all = Buffer.concat(received);
          let at = 0;
          frames = 0;
          while (at + 4 <= all.length && at + 4 + all.readInt32BE(at) <= all.length) {
            frames++;
            at += 4 + all.readInt32BE(at);
          }
          if (frames >= 2) resolve(/#TRACEBACK/.test(all.toString('latin1')) ? `refused: ${/(\w+Error)/.exec(all.toString('latin1'))?.[1]}` : 'served');
        });
      });
      sender.sendRaw(pythonFrame(Buffer.from('8004952b00000000000000284e8c116163636570745f636f6e6e656374696f6e948c0b4d61696e50726f636573739485947d9474942e', 'hex')));
    } else {
      reply = sender.next(120_000).then((m: { error?: { code: number } }) => (m.error ? `refused (${m.error.code})` : 'served'), () => 'connection closed');
    }
    let last = Date.now();
    let worst = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        await probeQueue.qsize();
        const now = Date.now();
        worst = Math.max(worst, now - last);
        last = now;
      }
    })();
    // A few answers first, so the probe is warm.
    for (let i = 0; i < 50; i++) await probeQueue.qsize();
    worst = 0;
    last = Date.now();
    const bytes = typeof request.bytes === 'string' ? Buffer.byteLength(request.bytes) : request.bytes.length;
    sender.sendRaw(request.bytes);
    const outcome = await reply;
    probing = false;
    await probe;
    const row = { kind, size, bytes, outcome, stallMs: worst, peakRssMiB: peakRssMiB(child.pid!) };
    raw.close();
    if (sender !== raw) sender.close();
    await probeClient.close();
    return row;
  } finally {
    child.kill('SIGKILL');
  }
}

const jsonCall = (id: string, method: string, args: string) => frameMessage(`{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":${JSON.stringify(id)},"method":"${method}","args":[${args}]}}`);

/** A pickled `(ident, 'put', ([{} * n],), {})` request. */
function picklePutOfDicts(ident: string, n: number): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0x8c, s.length]), Buffer.from(s)]);
  return pythonFrame(Buffer.concat([Buffer.from([0x80, 0x04, 0x28]), str(ident), str('put'), Buffer.from([0x5d, 0x28]), Buffer.alloc(n, 0x7d), Buffer.from([0x65, 0x85, 0x7d, 0x74, 0x2e])]));
}

/** A pickled `(ident, 'put', ({} <filler> …,), {})` request: one dict, then `count` times an opcode that makes nothing. */
function picklePutOfIdleOpcodes(ident: string, opcode: Buffer, count: number): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0x8c, s.length]), Buffer.from(s)]);
  const filler = Buffer.alloc(opcode.length * count);
  for (let at = 0; at < filler.length; at += opcode.length) opcode.copy(filler, at);
  return pythonFrame(Buffer.concat([Buffer.from([0x80, 0x04, 0x28]), str(ident), str('put'), Buffer.from([0x7d]), filler, Buffer.from([0x85, 0x7d, 0x74, 0x2e])]));
}

/** A pickled `(ident, 'put', ([0, 1, …],), {})` request whose list gets its `n` items one APPEND each. */
function picklePutOfAppends(ident: string, n: number): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0x8c, s.length]), Buffer.from(s)]);
  const items = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) items.set([0x4b, i & 0xff, 0x61], 3 * i);
  return pythonFrame(Buffer.concat([Buffer.from([0x80, 0x04, 0x28]), str(ident), str('put'), Buffer.from([0x5d]), items, Buffer.from([0x85, 0x7d, 0x74, 0x2e])]));
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rows: Row[] = [];
  const dictSizes = quick ? [99_990] : [50_000, 99_990, 1_000_000];
  for (const n of dictSizes) {
    const entries = Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',');
    rows.push(await measure('JSON dict.update', `${n.toLocaleString('en')} keys`, (id) => ({ bytes: jsonCall(id, 'update', `{${entries}}`) }), 'dict'));
  }
  for (const n of quick ? [49_990] : [49_990, 20 * MiB]) {
    rows.push(await measure('JSON put [{}, {}, …]', `${n.toLocaleString('en')} objects`, (id) => ({ bytes: jsonCall(id, 'put', `[${'{},'.repeat(n).slice(0, -1)}]`) })));
  }
  rows.push(await measure('JSON put of one string', '60 MiB', (id) => ({ bytes: jsonCall(id, 'put', JSON.stringify('x'.repeat(60 * MiB))) })));
  for (const n of quick ? [99_000] : [99_000, 32 * MiB]) {
    rows.push(await measure('pickle put [{}, {}, …]', `${n.toLocaleString('en')} dicts`, (id) => ({ bytes: picklePutOfDicts(id, n), pickle: true })));
  }
  // A list of 99,990 ints appended one at a time (protocol 0's way; a list made again for each item was quadratic: 30 s).
  rows.push(await measure('pickle put of a list appended one at a time', '99,990 ints', (id) => ({ bytes: picklePutOfAppends(id, 99_990), pickle: true })));
  // Opcodes that make nothing, 32 MiB of each (MEMOIZE fills the memo, BINPUT 0 writes one entry again).
  for (const [name, opcode] of [['MEMOIZE', [0x94]], ['BINPUT 0', [0x71, 0x00]], ['PROTO', [0x80, 0x04]], ['MARK, POP_MARK', [0x28, 0x31]]] as const) {
    if (quick && name !== 'MEMOIZE') continue;
    rows.push(await measure(`pickle put of a dict, then ${name} repeated`, '32 MiB', (id) => ({ bytes: picklePutOfIdleOpcodes(id, Buffer.from(opcode), (32 * MiB) / opcode.length), pickle: true })));
  }
  console.log('| request | size | bytes | outcome | other clients stalled (ms) | server peak RSS (MiB) |');
  console.log('|---|---|---:|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.kind} | ${r.size} | ${(r.bytes / MiB).toFixed(1)} MiB | ${r.outcome} | ${r.stallMs} | ${r.peakRssMiB.toFixed(0)} |`);
}

void main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
