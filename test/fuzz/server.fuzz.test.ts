/**
 * Fuzzing a real in-process manager over real sockets. Proves that one misbehaving client can
 * neither crash the server nor lose anyone's data:
 *
 * - After a correct handshake, connections send byte soup, truncated frames, odd and malformed
 *   headers, huge/negative/non-numeric Content-Lengths, invalid UTF-8, 100k-deep JSON, random
 *   JSON-RPC messages (real and junk methods, ids, params, object ids, inspection requests),
 *   random and targeted `$/cancelRequest`s, and disconnect mid-frame. Every message the server
 *   sends back is well-formed protocol (schema-valid, known error codes, `data.type`; notifications
 *   only `inspect/changed`, only to subscribers), answers only ids that were sent, at most once per
 *   request, answers every request that cannot block and every cancelled one, and closes a
 *   connection only after a framing error (having sent an error with `id: null`) or the client's
 *   own `shutdown`.
 * - Meanwhile a witness client (the real TypeScript client) puts and gets items on its own queue
 *   and gets every item back exactly once, in order; the manager still answers it at the end, and
 *   its table holds only the witness's queue once the fuzz connections are gone.
 * - Handshake garbage (random bytes, random 4-byte-length frames, wrong keys, bad challenges and
 *   verdicts, stalls, pickle and junk after the handshake) gets the connection closed, or timed
 *   out, without disturbing the witness.
 * - A client that never reads its answers is throttled rather than buffered without bound, and
 *   gets every answer once it reads; the witness is served all along.
 *
 * Every loop is bounded in count and time. Failures print the seed; `FUZZ_SEED=<seed> npm test --
 * fuzz` replays the same inputs (object ids and the interleaving of connections may differ).
 * Bugs found are kept as `todo` tests at the end, and the ones fixed since as regression tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { connect, type Connected, type QueueProxy } from '../../src/client';
import { ErrorCodes, errorCodeNames } from '../../src/common/errorCodes';
import { ContentLengthDecoder, frameMessage } from '../../src/common/framing';
import { requestMethods } from '../../src/common/protocol';
import { CHALLENGE, clientHandshake, createResponse, FAILURE, frameHandshake, makeChallenge, verifyResponse, WELCOME } from '../../src/common/handshake';
import { encodeValue } from '../../src/common/valueCodec';
import { tuple } from '../../src/common/valueTypes';
import { Dict, List, Namespace, Queue, Value, type Manager } from '../../src/server';
import { AUTHKEY, openSocket, RawClient, startManager } from '../helpers/manager';
import { validateMessage } from '../protocol/schemaValidator';
import { BASE_SEED, NASTY_STRINGS, replayHint, Rng, scaled, seedFor, show } from './prng';

const ERROR_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCodes));
const FRAMING_CLOSE_CODES: ReadonlySet<number> = new Set([ErrorCodes.ParseError, ErrorCodes.MessageTooLarge]);
const MAX_MESSAGE_BYTES = 1 << 20;
const REAL_METHODS: readonly string[] = requestMethods;

// ---------------------------------------------------------------------------------------------
// The shared objects the fuzz manager serves, besides the built-in typeids.
// ---------------------------------------------------------------------------------------------

/** A registered class whose methods return and throw awkward things. None blocks; inputs are clamped. */
class Gadget {
  n = 0;
  increment(by: unknown = 1) {
    this.n += typeof by === 'number' && Number.isFinite(by) ? by : 1;
    return this.n;
  }
  value() {
    return this.n;
  }
  echo(x: unknown) {
    return x;
  }
  fail() {
    throw new RangeError('gadget exploded');
  }
  failString() {
    // Not an Error: the server must still answer, with InternalError.
    throw 'a thrown string';
  }
  failNull() {
    throw null;
  }
  child() {
    return new Gadget();
  }
  orphan() {
    return 1;
  }
  unsendable() {
    return () => 1;
  }
  symbol() {
    return Symbol('gadget');
  }
  deep(levels: unknown) {
    const n = typeof levels === 'number' && Number.isFinite(levels) ? Math.max(0, Math.min(600, Math.floor(levels))) : 520;
    let v: unknown = 0;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  }
  cyclic() {
    const a: unknown[] = [];
    a.push(a);
    return a;
  }
  badToJSON() {
    return {
      toJSON() {
        throw new Error('toJSON exploded');
      },
    };
  }
  async asyncEcho(x: unknown) {
    return x;
  }
  async asyncFail() {
    throw new Error('async gadget exploded');
  }
}

const GADGET_EXPOSED = [
  'increment', 'value', 'echo', 'fail', 'failString', 'failNull', 'child', 'orphan', 'unsendable', 'symbol', 'deep', 'cyclic', 'badToJSON',
  'asyncEcho', 'asyncFail', 'notAMethod',
];

function registerFuzzTypes(m: Manager): void {
  m.register('Gadget', { callable: Gadget, exposed: GADGET_EXPOSED, methodToTypeid: { child: 'Gadget', orphan: 'NotRegistered' } });
  m.register('get_shared', { shared: 'Queue' });
  m.register('get_bounded', { shared: 'Queue', kwargs: { maxsize: 2 } });
  m.register('get_list', { shared: 'list' });
  m.register('Hidden', {});
}

const TYPEIDS = ['Queue', 'dict', 'list', 'Namespace', 'Value', 'Gadget', 'get_shared', 'get_bounded', 'get_list', 'Hidden', 'NotRegistered', '', 'constructor', '__proto__', 'toString', 'queue'];
const CALL_METHODS = [...new Set([...Queue.exposed, ...Dict.exposed, ...List.exposed, ...Namespace.exposed, ...Value.exposed, ...GADGET_EXPOSED])];
const JUNK_CALL_METHODS = ['__class__', '__init__', 'constructor', 'toString', '__proto__', '_private', 'hasOwnProperty', 'valueOf', 'toJSON', '#GETVALUE', '__str__', '__repr__', '', 'then', 'sortValues', 'snapshot', 'peekAll', 'entries', 'merge', 'n'];
/** Calls that may wait (so their answer may come after later requests' answers, or never before the close). */
const MAY_WAIT = new Set(['get', 'put', 'join', 'asyncEcho', 'asyncFail']);
/**
 * Repetition methods get counts that fail or finish fast: the server allows repetitions of up to
 * 10 million items, which would make the run slow, not wrong. `__imul__` (in place, on lists other
 * connections share) never grows a list.
 */
const REPEAT_METHODS = new Set(['__mul__', '__rmul__', '__imul__']);
const SAFE_REPEAT_COUNTS: readonly unknown[] = [0, 1, -1, true, false, null, 'x', 1.5, 2 ** 40, 2 ** 63, 10_000_001, { $int: '1' + '0'.repeat(30) }, { $float: 2 }, []];
const GROWING_REPEAT_COUNTS: readonly unknown[] = [2, 3, { $int: '2' }];

// ---------------------------------------------------------------------------------------------
// Log watching: sessions opened and closed, for event-driven waits.
// ---------------------------------------------------------------------------------------------

class LogWatch extends EventEmitter {
  readonly opened = new Set<string>();
  readonly closed = new Set<string>();
  readonly lines: string[] = [];

  readonly log = (line: string): void => {
    if (this.lines.length < 5000) this.lines.push(line);
    // A client's name is printed as it is, newlines and all: match across lines.
    const m = /^session (s\d+) .*\b(opened|closed)$/s.exec(line);
    if (m) (m[2] === 'opened' ? this.opened : this.closed).add(m[1]);
    this.emit('line');
  };

  /** Resolves true once `check()` holds (re-checked on every log line), false after `ms`. */
  until(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onLine = () => {
        if (!check()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('line', onLine);
        resolve(ok);
      };
      this.on('line', onLine);
    });
  }

  /** Whether every session opened (but `except`) has closed. */
  allClosedBut(except: string): boolean {
    for (const id of this.opened) if (id !== except && !this.closed.has(id)) return false;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// The witness: the real client, putting and getting on its own queue all along.
// ---------------------------------------------------------------------------------------------

class Witness {
  private stopped = false;
  rounds = 0;
  items = 0;
  failure: unknown;
  private loop: Promise<void> | undefined;

  private constructor(
    readonly client: Connected,
    readonly queue: QueueProxy<unknown>,
  ) {}

  static async start(address: string): Promise<Witness> {
    const client = await connect({ address, authkey: AUTHKEY, name: 'witness', timeout: 5 });
    const queue = await client.create<QueueProxy<unknown>>('Queue');
    return new Witness(client, queue);
  }

  get sessionId(): string {
    return this.client.sessionId;
  }

  /** The object ids the witness holds: fuzz connections must never name them. */
  get ids(): string[] {
    return [this.queue.id];
  }

  run(rng: Rng): void {
    this.loop = (async () => {
      let next = 0;
      try {
        while (!this.stopped && this.rounds < 1_000_000) {
          const batch = Array.from({ length: rng.int(1, 8) }, (_, i) => this.item(rng, next + i));
          await Promise.all(batch.map((item) => this.queue.put(item)));
          for (const [i, sent] of batch.entries()) {
            const got = await this.queue.get({ timeout: 5 });
            const want = JSON.stringify(encodeValue(sent));
            const have = JSON.stringify(encodeValue(got));
            if (want !== have) throw new Error(`witness item ${next + i}: put ${show(want)}, got ${show(have)}`);
          }
          next += batch.length;
          this.items += batch.length;
          this.rounds++;
        }
      } catch (error) {
        this.failure = error;
      }
    })();
  }

  private item(rng: Rng, n: number): unknown {
    const s = rng.string(10);
    return { n, s, bytes: Buffer.from(rng.bytes(rng.int(0, 6))), big: BigInt(n) * 10n ** 20n, pair: tuple<unknown>(n, s), map: new Map<unknown, unknown>([[tuple(1, n), s]]) };
  }

  /** Stops after the current round; rethrows what went wrong, if anything. */
  async stop(): Promise<void> {
    this.stopped = true;
    await bounded(this.loop ?? Promise.resolve(), 10_000, 'the witness stopping');
    if (this.failure) throw this.failure;
  }

  /** For cleanup after a failure: stops and disconnects, never throws. */
  async halt(): Promise<void> {
    this.stopped = true;
    await bounded(this.loop ?? Promise.resolve(), 10_000, 'the witness stopping').catch(() => {});
    await bounded(this.client.close(), 5000, 'closing the witness').catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// A fuzz connection: raw bytes out, every server message kept for checking.
// ---------------------------------------------------------------------------------------------

interface SentRequest {
  id: number | string;
  method: string;
  /**
   * Whether the server must answer it, soon after a later request is answered: one that cannot
   * wait, though it may answer a turn later than the later one (an object first fetched back
   * into the table answers after a microtask; answers may come in any order, SPEC 6).
   */
  required: boolean;
}

/** How a request id is keyed: 1 and "1" are different ids. */
function idKey(id: number | string): string {
  return `${typeof id}:${id}`;
}

class FuzzConnection {
  readonly received: unknown[] = [];
  readonly problems: string[] = [];
  /** How many bodies the server saw with each valid id. */
  readonly sentIds = new Map<string, number>();
  readonly requests = new Map<string, SentRequest[]>();
  /** Objects whose tokens the server sent: id → exposed. */
  readonly objects = new Map<string, readonly string[]>();
  sentShutdown = false;
  subscribed = false;
  closedByUs = false;
  isClosed = false;
  readonly closed: Promise<void>;
  private readonly waiters: { match: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];

  private constructor(
    readonly socket: Socket,
    head: Buffer,
  ) {
    const decoder = new ContentLengthDecoder((body) => this.onBody(body), 1 << 28);
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        this.problems.push(`the server's own framing is broken: ${(error as Error).message}`);
        this.destroy();
      }
    });
    socket.on('error', () => {
      // A reset after our own destroy, or the server's: the close event tells what matters.
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.resolve(undefined);
        resolve();
      }),
    );
    if (head.length) decoder.push(head);
    socket.resume();
  }

  static async open(address: string): Promise<FuzzConnection> {
    const socket = await openSocket(address);
    const head = await clientHandshake(socket, Buffer.from(AUTHKEY), { timeoutMs: 5000 });
    return new FuzzConnection(socket, head);
  }

  private onBody(body: string): void {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (error) {
      this.problems.push(`the server sent a body that is not JSON: ${show(body)} (${(error as Error).message})`);
      return;
    }
    this.received.push(message);
    const result = (message as { result?: unknown })?.result as { id?: unknown; typeid?: unknown; exposed?: unknown; $proxy?: { id?: unknown; exposed?: unknown } } | null | undefined;
    const token = typeof result === 'object' && result !== null ? (result.$proxy ?? result) : undefined;
    if (token && typeof token.id === 'string' && Array.isArray(token.exposed)) this.objects.set(token.id, token.exposed.filter((e): e is string => typeof e === 'string'));
    for (let i = 0; i < this.waiters.length; i++) {
      if (this.waiters[i].match(message)) {
        this.waiters.splice(i, 1)[0].resolve(message);
        break;
      }
    }
  }

  /** The answer to request `id`, or undefined when the connection closes or `ms` pass first. */
  answerTo(id: number | string, ms: number): Promise<unknown> {
    const match = (m: unknown) => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id && !('method' in m);
    const already = this.received.find(match);
    if (already !== undefined || this.isClosed) return Promise.resolve(already);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      }, ms);
      const waiter = {
        match,
        resolve: (m: unknown) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Whether the connection is closed within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Records what the server will make of a body: its id (if valid) and the request it is. */
  noteBody(body: Buffer): void {
    // A body that is not UTF-8 is refused whole, a ParseError with "id": null (SPEC 5).
    if (!isUtf8(body)) return;
    let m: unknown;
    try {
      m = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return;
    const message = m as { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown };
    // An id JSON.parse made ±Infinity of (1e999), or an integer beyond ±(2^53 − 1) that a double
    // cannot hold exactly, is no valid id: it is answered with "id": null.
    const unusable = typeof message.id === 'number' && (!Number.isFinite(message.id) || (Number.isInteger(message.id) && !Number.isSafeInteger(message.id)));
    if (!('id' in message) || (typeof message.id !== 'number' && typeof message.id !== 'string') || unusable) return;
    const key = idKey(message.id);
    this.sentIds.set(key, (this.sentIds.get(key) ?? 0) + 1);
    if (typeof message.method !== 'string') return;
    if (message.method === 'shutdown') this.sentShutdown = true;
    if (message.method === 'inspect/subscribe') this.subscribed = true;
    const params = message.params as { method?: unknown } | undefined;
    const mayWait = message.method === 'object/call' && typeof params === 'object' && params !== null && typeof params.method === 'string' && MAY_WAIT.has(params.method);
    const list = this.requests.get(key) ?? [];
    list.push({ id: message.id, method: message.method, required: message.jsonrpc === '2.0' && !mayWait });
    this.requests.set(key, list);
  }

  write(data: Buffer | string): void {
    if (!this.socket.destroyed && !this.isClosed) this.socket.write(data);
  }

  /** Sends one well-framed request and waits for its answer (undefined on close or after `ms`). */
  request(id: number | string, method: string, params: unknown, ms = 5000): Promise<unknown> {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    this.noteBody(body);
    this.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    return this.answerTo(id, ms);
  }

  destroy(): void {
    this.closedByUs = true;
    this.socket.destroy();
  }

  /** Whether the server sent a framing error (id null, ParseError of a header or MessageTooLarge). */
  get sawFramingError(): boolean {
    return this.received.some((m) => {
      const e = m as { id?: unknown; error?: { code?: number; message?: string } };
      return e.id === null && e.error !== undefined && FRAMING_CLOSE_CODES.has(e.error.code ?? 0) && !String(e.error.message).startsWith('invalid JSON');
    });
  }

  /** Whether the server answered one of our `shutdown` requests with success (it then closes). */
  get sawShutdownResult(): boolean {
    return this.received.some((m) => {
      const r = m as { id?: unknown; result?: unknown };
      if (!('result' in r) || (typeof r.id !== 'number' && typeof r.id !== 'string')) return false;
      return (this.requests.get(idKey(r.id)) ?? []).some((q) => q.method === 'shutdown');
    });
  }

  /** Every problem with what the server sent, as sentences. */
  check(): string[] {
    const out = [...this.problems];
    const answered = new Map<string, number>();
    for (const m of this.received) {
      const problem = (why: string) => out.push(`${why}: ${show(m, 400)}`);
      if (typeof m !== 'object' || m === null || Array.isArray(m)) {
        problem('a message that is not a JSON object');
        continue;
      }
      const message = m as { id?: unknown; method?: unknown; error?: { code?: unknown; data?: { type?: unknown } } };
      if ('method' in message) {
        // The one server-to-client message: inspect/changed, to a session that subscribed.
        if (message.method !== 'inspect/changed' || 'id' in message) problem('the server sent a request, or a notification other than inspect/changed');
        else if (!this.subscribed) problem('inspect/changed to a session that never sent inspect/subscribe');
        const errors = validateMessage(m);
        if (errors.length) problem(`not a valid protocol message (${errors.slice(0, 4).join('; ')})`);
        continue;
      }
      let method: string | undefined;
      if (message.id === null) {
        if (!message.error || ![ErrorCodes.ParseError, ErrorCodes.InvalidRequest, ErrorCodes.MessageTooLarge].includes(message.error.code as never)) {
          problem('"id": null on something other than a ParseError, InvalidRequest or MessageTooLarge error');
        }
      } else if (typeof message.id === 'number' || typeof message.id === 'string') {
        const key = idKey(message.id);
        const count = (answered.get(key) ?? 0) + 1;
        answered.set(key, count);
        const sent = this.sentIds.get(key) ?? 0;
        if (sent === 0) problem('an answer to an id that was never sent');
        else if (count > sent) problem(`id answered ${count} times but sent ${sent} times`);
        const requests = this.requests.get(key) ?? [];
        if (sent === 1 && requests.length === 1 && (REAL_METHODS as readonly string[]).includes(requests[0].method)) method = requests[0].method;
      }
      const errors = validateMessage(m, 'result' in message ? method : undefined);
      if (errors.length) problem(`not a valid protocol message (${errors.slice(0, 4).join('; ')})`);
      if (message.error) {
        if (!ERROR_CODES.has(message.error.code as number)) problem('an error code not in ErrorCodes');
        if (typeof message.error.data?.type !== 'string' || message.error.data.type === '') problem('an error without data.type');
      }
    }
    return out;
  }

  /** Requests that cannot block, sent once, and never answered. */
  unanswered(): SentRequest[] {
    const answeredKeys = new Set<string>();
    for (const m of this.received) {
      const id = (m as { id?: unknown }).id;
      if (typeof id === 'number' || typeof id === 'string') answeredKeys.add(idKey(id));
    }
    const out: SentRequest[] = [];
    for (const [key, list] of this.requests) {
      if (this.sentIds.get(key) === 1 && list.length === 1 && list[0].required && !answeredKeys.has(key)) out.push(list[0]);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Generators of requests, params and frames.
// ---------------------------------------------------------------------------------------------

/** What the generators share during one fuzz run. */
interface FuzzContext {
  /** Object ids seen in tokens, from every fuzz connection. */
  readonly realIds: Set<string>;
  /** Ids no fuzz connection may name (the witness's objects). */
  readonly forbiddenIds: Set<string>;
  /** The objects this connection holds tokens for: id → exposed methods. */
  readonly objects?: ReadonlyMap<string, readonly string[]>;
}

function pickObjectId(rng: Rng, ctx: FuzzContext): unknown {
  const real = [...ctx.realIds];
  const own = [...(ctx.objects?.keys() ?? [])];
  return rng.weighted<() => unknown>([
    [own.length ? 8 : 0, () => rng.pick(own)],
    [real.length ? 3 : 0, () => rng.pick(real)],
    [2, () => rng.pick(['1', '2', '3', 'a', 'ff', '0', '-1', '10000', ''])],
    [1, () => rng.string(6)],
    [1, () => rng.json(1)],
  ])();
}

/** Argument values: random JSON values with tags, sometimes malformed, sometimes a client-side $proxy. */
function randomArgs(rng: Rng, max = 3): unknown[] {
  return Array.from({ length: rng.int(0, max) }, () => rng.json(rng.int(0, 3), { malformedTags: 0.15 }));
}

function randomKwargs(rng: Rng): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const names = ['block', 'timeout', 'item', 'key', 'value', 'default', 'index', 'object', 'maxsize', 'reverse', 'name', 'typecode', 'lock', 'iterable', 'start', 'stop'];
  for (let i = rng.int(0, 3); i > 0; i--) {
    const name = rng.chance(0.8) ? rng.pick(names) : rng.pick(NASTY_STRINGS);
    Object.defineProperty(out, name, { value: rng.json(2, { malformedTags: 0.1 }), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Reasonable blocking arguments: short timeouts mostly, so blocked calls come and go. */
function blockingKwargs(rng: Rng): Record<string, unknown> {
  return rng.weighted<() => Record<string, unknown>>([
    [3, () => ({ timeout: rng.pick([0, 0.001, 0.01, 0.05]) })],
    [2, () => ({ block: false })],
    [1, () => ({})],
    [1, () => ({ timeout: rng.pick([-1, 'x', null, { $float: 'nan' }, { $float: 'inf' }, 1e12, { $int: '99999999999999999999' }]) })],
  ])();
}

/** Params for a method: mostly the right shape with random values, then sometimes mutated. */
function paramsFor(rng: Rng, method: string, ctx: FuzzContext): unknown {
  let params: unknown;
  switch (method) {
    case 'initialize':
      params = {
        protocolVersion: rng.pick(['1.0', '1.1', '1.7', '1', '01.0', '1.0.0', 'x.y', '', '1.99999999999999999999', '0.9', '2.0', '99999999999999999999.1']),
        ...(rng.chance(0.5) ? { clientInfo: rng.chance(0.8) ? { name: rng.string(8), version: rng.string(4) } : rng.json(1) } : {}),
        ...(rng.chance(0.3) ? { processId: rng.pick([1, null, -1, 1.5, 'x']) } : {}),
        ...(rng.chance(0.3) ? { capabilities: rng.chance(0.7) ? { cancellation: true, inspection: rng.chance(0.7) } : rng.json(2) } : {}),
      };
      break;
    case 'shutdown':
      params = rng.pick([{ server: true }, { server: false }, { server: 'yes' }, { other: 1 }, {}]);
      break;
    case 'manager/describe':
      params = rng.pick([{}, {}, undefined, { x: 1 }]);
      break;
    case 'object/create':
      params = {
        typeid: rng.pick(TYPEIDS),
        ...(rng.chance(0.5) ? { args: randomArgs(rng, 2) } : {}),
        ...(rng.chance(0.3) ? { kwargs: randomKwargs(rng) } : {}),
      };
      break;
    case 'object/call': {
      // Mostly an object this connection holds, with one of its exposed methods.
      const own = [...(ctx.objects ?? [])];
      let id: unknown;
      let name: string;
      if (own.length && rng.chance(0.75)) {
        const [ownId, exposed] = rng.pick(own);
        id = ownId;
        name = exposed.length && rng.chance(0.85) ? rng.pick(exposed) : rng.chance(0.5) ? rng.pick(CALL_METHODS) : rng.pick(JUNK_CALL_METHODS);
      } else {
        id = pickObjectId(rng, ctx);
        name = rng.chance(0.9) ? rng.pick(CALL_METHODS) : rng.pick(JUNK_CALL_METHODS);
      }
      const call: Record<string, unknown> = { id, method: name };
      if (MAY_WAIT.has(name) && name !== 'asyncEcho' && name !== 'asyncFail') {
        if (name === 'put') call.args = randomArgs(rng, 1).concat([rng.json(1)]).slice(0, 1);
        if (name !== 'join' || rng.chance(0.3)) call.kwargs = blockingKwargs(rng);
      } else {
        if (rng.chance(0.8)) call.args = randomArgs(rng);
        if (rng.chance(0.2)) call.kwargs = randomKwargs(rng);
      }
      params = call;
      break;
    }
    case 'object/incref':
    case 'object/decref':
      params = { id: pickObjectId(rng, ctx) };
      break;
    case 'inspect/snapshot':
    case 'inspect/unsubscribe':
      params = rng.pick([{}, {}, undefined]);
      break;
    case 'inspect/peek':
      params = {
        id: pickObjectId(rng, ctx),
        ...(rng.chance(0.4) ? { offset: rng.pick<unknown>([0, 1, 5, 1000, -1, 1.5, 2 ** 53, 'x', null]) } : {}),
        ...(rng.chance(0.4) ? { limit: rng.pick<unknown>([1, 2, 100, 1000, 0, 1001, -5, 1.5, 'x', null]) } : {}),
      };
      break;
    case 'inspect/subscribe':
      params = rng.chance(0.5) ? {} : { intervalMs: rng.pick<unknown>([10, 20, 50, 100, 60_000, 9, 60_001, 0, -1, 1.5, 'x', null, 1e300]) };
      break;
    default:
      params = rng.chance(0.5) ? rng.jsonObject(2) : undefined;
  }
  if (rng.chance(0.2)) params = mutateParams(rng, params);
  return sanitize(params, ctx);
}

/** Wrong shapes: a non-object, a dropped member, an unknown member, a member of the wrong type. */
function mutateParams(rng: Rng, params: unknown): unknown {
  if (typeof params !== 'object' || params === null || Array.isArray(params) || rng.chance(0.15)) {
    return rng.pick<unknown>([null, 5, 'params', [], [1, 2], true, rng.json(2)]);
  }
  const out: Record<string, unknown> = { ...(params as Record<string, unknown>) };
  const keys = Object.keys(out);
  const what = rng.below(3);
  if (what === 0 && keys.length) delete out[rng.pick(keys)];
  else if (what === 1 && keys.length) out[rng.pick(keys)] = rng.json(2, {});
  else {
    const extra = rng.pick([...NASTY_STRINGS, 'extra', 'ID', 'Method', 'args2']);
    Object.defineProperty(out, extra, { value: rng.json(1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Keeps the fuzz off the witness's objects, and list repetition counts small (see SAFE_REPEAT_COUNTS). */
function sanitize(params: unknown, ctx: FuzzContext): unknown {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return params;
  const p = params as Record<string, unknown>;
  if (typeof p.id === 'string' && ctx.forbiddenIds.has(p.id)) p.id = `${p.id}-not-the-witness`;
  if (typeof p.method === 'string' && REPEAT_METHODS.has(p.method)) {
    const rng = new Rng(p.method.length + (typeof p.id === 'string' ? p.id.length : 0) + (Array.isArray(p.args) ? p.args.length : 0));
    p.args = [rng.pick(p.method === '__imul__' ? SAFE_REPEAT_COUNTS : [...SAFE_REPEAT_COUNTS, ...GROWING_REPEAT_COUNTS])];
    delete p.kwargs;
  }
  return p;
}

/** Request ids: fresh numbers and strings mostly, sometimes odd but valid, reused, or invalid. */
function requestId(rng: Rng, counter: number, recent: readonly (number | string)[]): unknown {
  return rng.weighted<() => unknown>([
    [10, () => counter],
    [4, () => `r${counter}`],
    [recent.length ? 2 : 0, () => rng.pick(recent)],
    [1, () => rng.pick([0, -1, 1.5, -0, 1e300, 2 ** 53, '', '💥', '\uD800', 'x'.repeat(2000), 'sentinel'])],
    [1, () => rng.pick([null, true, [], {}, [1], { id: 1 }])],
  ])();
}

/** One JSON-RPC message body: mostly a request, else a notification, a response, a batch or junk. */
function randomMessage(rng: Rng, counter: number, recent: readonly (number | string)[], ctx: FuzzContext): Buffer {
  const kind = rng.weighted<string>([
    [14, 'request'],
    [2, 'cancel'],
    [1, 'notification'],
    [1, 'response'],
    [1, 'batch'],
    [1, 'bad-jsonrpc'],
    [1, 'no-method'],
    [1, 'scalar'],
    [1, 'unrepresentable-id'],
  ]);
  const method = () =>
    rng.chance(0.92)
      ? rng.weighted<string>([
          [1, 'initialize'],
          [1, 'shutdown'],
          [2, 'manager/describe'],
          [5, 'object/create'],
          [14, 'object/call'],
          [2, 'object/incref'],
          [2, 'object/decref'],
          [1, 'inspect/snapshot'],
          [2, 'inspect/peek'],
          [1, 'inspect/subscribe'],
          [1, 'inspect/unsubscribe'],
        ])
      : rng.pick(['$/cancelRequest', 'inspect/changed', 'object/frobnicate', 'Initialize', 'object/', '', 'manager/describe ', 'inspect/', rng.string(8)]);
  let message: unknown;
  switch (kind) {
    case 'request': {
      const m = method();
      // A session shutdown ends the connection: keep it rare.
      const name = m === 'shutdown' && rng.chance(0.8) ? 'manager/describe' : m;
      const params = paramsFor(rng, name, ctx);
      message = { jsonrpc: '2.0', id: requestId(rng, counter, recent), method: name, ...(params === undefined ? {} : { params }) };
      break;
    }
    case 'cancel':
      message = { jsonrpc: '2.0', method: '$/cancelRequest', params: rng.chance(0.8) ? { id: recent.length ? rng.pick(recent) : counter } : rng.json(1) };
      break;
    case 'notification':
      message = { jsonrpc: '2.0', method: rng.pick([...REAL_METHODS, 'inspect/changed', 'x/y', '$/progress', rng.string(6)]), params: rng.jsonObject(1) };
      break;
    case 'response':
      message = { jsonrpc: '2.0', id: counter, ...(rng.chance(0.5) ? { result: rng.json(2) } : { error: { code: -1, message: 'x' } }) };
      break;
    case 'batch':
      message = Array.from({ length: rng.int(0, 3) }, () => ({ jsonrpc: '2.0', id: counter, method: 'manager/describe' }));
      break;
    case 'bad-jsonrpc':
      message = { jsonrpc: rng.pick(['1.0', 2, null, '2.0 ', undefined]), id: requestId(rng, counter, recent), method: method() };
      break;
    case 'no-method':
      message = { jsonrpc: '2.0', id: counter, method: rng.pick([null, 5, [], {}, undefined]), params: {} };
      break;
    case 'scalar':
      message = rng.pick<unknown>([42, 'text', null, true, [], {}]);
      break;
    case 'unrepresentable-id':
      return Buffer.from(`{"jsonrpc":"2.0","id":${rng.pick(['1e999', '-1e400', '123456789012345678901234567890'])},"method":"manager/describe"}`);
  }
  return Buffer.from(JSON.stringify(message) ?? 'null');
}

/** Body-level damage that keeps the framing intact: invalid JSON or invalid UTF-8. */
function damageBody(rng: Rng, body: Buffer): Buffer {
  return rng.weighted<() => Buffer>([
    // Bytes >= 0x80 only: they cannot turn an object id into another valid one (the witness's, say).
    [3, () => {
      const at = rng.int(0, body.length);
      const junk = Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe]]));
      return Buffer.concat([body.subarray(0, at), junk, body.subarray(at)]);
    }],
    [2, () => body.subarray(0, rng.int(0, Math.max(0, body.length - 1)))],
    [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])],
    [1, () => rng.bytes(rng.int(0, 64))],
    [1, () => Buffer.from(rng.pick(['', ' ', '{', '}', '[', 'nul', '{"jsonrpc":"2.0",', 'undefined', 'NaN', "{'a':1}", '{"a":1}{"b":2}', '\u0000']))],
  ])();
}

/** A 100k-deep JSON body: complete (a batch), cut short (invalid JSON), or deep inside call arguments. */
function deepBody(rng: Rng, counter: number, ctx: FuzzContext): Buffer {
  const depth = rng.int(50_000, 100_000);
  return rng.weighted<() => Buffer>([
    [1, () => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)],
    [1, () => Buffer.from('['.repeat(depth))],
    [1, () => Buffer.from(`${'{"a":'.repeat(depth / 5)}1${'}'.repeat(depth / 5)}`)],
    [2, () => {
      const target = sanitize({ id: pickObjectId(rng, ctx) }, ctx) as { id: unknown };
      const where = rng.pick(['args', 'kwargs']);
      const inner = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const value = where === 'args' ? `[${inner}]` : `{"x":${inner}}`;
      return Buffer.from(`{"jsonrpc":"2.0","id":${counter},"method":"object/call","params":{"id":${JSON.stringify(target.id) ?? 'null'},"method":"append","${where}":${value}}}`);
    }],
    [1, () => Buffer.from(`{"jsonrpc":"2.0","id":${counter},"method":"initialize","params":{"protocolVersion":"1.0","capabilities":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}}`)],
  ])();
}

/** A valid header for a body of `length` bytes, plain or with the variations the spec allows. */
function validHeader(rng: Rng, length: number): string {
  if (rng.chance(0.7)) return `Content-Length: ${length}\r\n\r\n`;
  const lines = [
    rng.pick([`Content-Length: ${length}`, `content-length:${length}`, `CONTENT-LENGTH :  ${String(length).padStart(rng.int(1, 15), '0')}  `]),
    ...(rng.chance(0.5) ? [rng.pick(['Content-Type: application/vscode-jsonrpc; charset=utf-8', 'Content-Type: application/json; charset=UTF8', 'X-Junk: ' + rng.ascii(40, 0x20, 0x7e), 'Accept: */*'])] : []),
  ];
  if (rng.chance(0.5)) lines.reverse();
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A header that breaks the framing: the server must answer ParseError (id null), then close. */
function badHeader(rng: Rng): Buffer {
  return Buffer.from(
    rng.pick([
      'Content-Length: abc\r\n\r\n{}',
      'Content-Length: -5\r\n\r\n{}',
      'Content-Length: 1e3\r\n\r\n{}',
      'Content-Length: 0x10\r\n\r\n{}',
      `Content-Length: ${'9'.repeat(16)}\r\n\r\n`,
      'Content-Length:\r\n\r\n{}',
      'Content-Length 2\r\n\r\n{}',
      'Content-Length: 2\r\nno colon\r\n\r\n{}',
      'Content-Type: application/json\r\n\r\n{}',
      'Content-Length: 2\r\nContent-Type: application/json; charset=latin1\r\n\r\n{}',
      'X: y\r\n\r\n',
      // Non-letter starts.
      '\u0000garbage',
      '{"jsonrpc":"2.0"}',
      ' Content-Length',
      '0123',
      // A header that never ends, past 8 KiB.
      `Content-Length: 2\r\nX-Pad: ${'p'.repeat(9000)}`,
    ]),
    'latin1',
  );
}

// ---------------------------------------------------------------------------------------------
// One fuzz connection's life.
// ---------------------------------------------------------------------------------------------

type Ending = 'sentinel' | 'bad-header' | 'too-large' | 'soup' | 'disconnect' | 'shutdown';

/** Writes bytes, sometimes in pieces with turns of the event loop between (to vary the server's chunks). */
async function writeSplit(rng: Rng, conn: FuzzConnection, data: Buffer): Promise<void> {
  if (data.length < 2 || rng.chance(0.6)) {
    conn.write(data);
    return;
  }
  const pieces = rng.int(2, 5);
  let from = 0;
  for (let i = 1; i <= pieces; i++) {
    const to = i === pieces ? data.length : rng.int(from, data.length);
    conn.write(data.subarray(from, to));
    from = to;
    if (rng.chance(0.5)) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** What one connection got back, by kind: `result`, an error code's name, or `inspect/changed`. */
function tally(received: readonly unknown[], into: Map<string, number>): void {
  for (const m of received) {
    const message = m as { method?: unknown; error?: { code?: number }; result?: unknown };
    const kind = typeof message.method === 'string' ? message.method : message.error ? (errorCodeNames.get(message.error.code as number) ?? 'unknown code') : 'result';
    into.set(kind, (into.get(kind) ?? 0) + 1);
  }
}

async function runConnection(index: number, address: string, ctx: FuzzContext): Promise<{ problems: string[]; ending: Ending; messages: number; received: readonly unknown[] }> {
  const rng = new Rng(seedFor(`server fuzz connection ${index}`));
  const conn = await FuzzConnection.open(address);
  const what = replayHint(`fuzz connection ${index}`);
  const problems: string[] = [];
  let counter = 1;
  const recent: (number | string)[] = [];
  const send = async (body: Buffer, header?: string) => {
    conn.noteBody(body);
    await writeSplit(rng, conn, Buffer.concat([Buffer.from(header ?? validHeader(rng, body.length), 'latin1'), body]));
  };

  const local: FuzzContext = { ...ctx, objects: conn.objects };
  // The first message, answered before anything else, so the session surely exists.
  const inspecting = rng.chance(0.5);
  const first = rng.chance(0.92)
    ? { jsonrpc: '2.0', id: counter, method: 'initialize', params: { protocolVersion: inspecting ? '1.1' : rng.pick(['1.0', '1.1']), clientInfo: { name: `fuzz-${index}` }, capabilities: { cancellation: true, inspection: inspecting } } }
    : { jsonrpc: '2.0', id: counter, method: 'manager/describe' };
  await send(Buffer.from(JSON.stringify(first)));
  const firstAnswer = await conn.answerTo(counter++, 5000);
  if (firstAnswer === undefined) {
    conn.destroy();
    return { problems: [`${what} the first request got no answer within 5 s (closed: ${conn.isClosed})`, ...conn.check()], ending: 'sentinel', messages: conn.received.length, received: conn.received };
  }
  // Half the inspecting sessions watch the table from the start: notifications then flow all along
  // (the witness changes its queue all the time), up to and past the connection's end.
  if (inspecting && rng.chance(0.5)) await conn.request(counter++, 'inspect/subscribe', { intervalMs: rng.pick([10, 10, 25, 100]) });
  // A few objects of its own to work on, made with sensible arguments.
  for (let i = rng.int(0, 4); i > 0; i--) {
    const [typeid, params] = rng.pick<[string, Record<string, unknown>]>([
      ['Queue', {}],
      ['Queue', { args: [rng.int(1, 3)] }],
      ['dict', { args: [{ a: 1, b: [2] }] }],
      ['list', { args: [[1, 'two', 3.5]] }],
      ['Namespace', { kwargs: { x: 1 } }],
      ['Value', { args: ['i', 7] }],
      ['Gadget', {}],
      ['get_shared', {}],
      ['get_bounded', {}],
      ['get_list', {}],
    ]);
    await conn.request(counter++, 'object/create', { typeid, ...params });
  }

  const actions = rng.int(3, 40);
  let usedDeep = false;
  /** Requests followed by their $/cancelRequest: each must be answered. */
  const cancelled: (number | string)[] = [];
  for (let a = 0; a < actions && !conn.isClosed; a++) {
    const action = rng.weighted<string>([
      [20, 'message'],
      [2, 'block-cancel'],
      [3, 'burst'],
      [3, 'damaged'],
      [2, 'truncated'],
      [usedDeep ? 0 : 1, 'deep'],
      [1, 'empty'],
    ]);
    switch (action) {
      case 'message':
        await send(randomMessage(rng, counter++, recent, local));
        break;
      case 'burst': {
        const bodies = Array.from({ length: rng.int(2, 8) }, () => randomMessage(rng, counter++, recent, local));
        for (const b of bodies) conn.noteBody(b);
        await writeSplit(rng, conn, Buffer.concat(bodies.flatMap((b) => [Buffer.from(validHeader(rng, b.length), 'latin1'), b])));
        break;
      }
      case 'damaged':
        await send(damageBody(rng, randomMessage(rng, counter++, recent, local)));
        break;
      case 'truncated': {
        // The header promises more than comes at first; the rest arrives later as random bytes.
        const body = randomMessage(rng, counter++, recent, local);
        const cut = rng.int(0, body.length);
        const padding = rng.bytes(body.length - cut);
        const seen = Buffer.concat([body.subarray(0, cut), padding]);
        conn.noteBody(seen);
        conn.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body.subarray(0, cut)]));
        await new Promise<void>((resolve) => setImmediate(resolve));
        conn.write(padding);
        break;
      }
      case 'deep':
        usedDeep = true;
        await send(deepBody(rng, counter++, local));
        break;
      case 'empty':
        await send(Buffer.alloc(0));
        break;
      case 'block-cancel': {
        // A call that may block on a queue this connection holds, then its $/cancelRequest: it must
        // be answered (RequestCancelled, or its result if it completed first), and soon.
        const queues = [...conn.objects].filter(([, exposed]) => exposed.includes('get'));
        if (!queues.length) break;
        const id = rng.chance(0.7) ? counter++ : `c${counter++}`;
        const method = rng.pick(['get', 'get', 'join', 'put']);
        const params = sanitize({ id: rng.pick(queues)[0], method, ...(method === 'put' ? { args: [rng.json(1)] } : {}), ...(rng.chance(0.5) ? { kwargs: { timeout: 30 } } : {}) }, local);
        await send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'object/call', params })));
        if (rng.chance(0.6)) await new Promise<void>((resolve) => setImmediate(resolve));
        for (let n = rng.chance(0.2) ? 2 : 1; n > 0; n--) await send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } })));
        cancelled.push(id);
        break;
      }
    }
    if (typeof counter === 'number') recent.push(counter - 1, `r${counter - 1}`);
    if (recent.length > 12) recent.splice(0, recent.length - 12);
  }

  const ending = rng.weighted<Ending>([
    [10, 'sentinel'],
    [3, 'bad-header'],
    [2, 'too-large'],
    [3, 'soup'],
    [4, 'disconnect'],
    [1, 'shutdown'],
  ]);
  const sentinel = `sentinel-${index}`;
  const sendSentinel = async () => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: sentinel, method: 'manager/describe' }));
    conn.noteBody(body);
    conn.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    return conn.answerTo(sentinel, 5000);
  };
  switch (ending) {
    case 'sentinel': {
      const answer = await sendSentinel();
      // A connection closed by the protocol's own rule (an earlier message refused with an "id": null
      // error, as one of too many values is) has no answer to give: checked below like any close.
      if (answer === undefined && !conn.sawShutdownResult && !(conn.isClosed && conn.sawFramingError)) {
        problems.push(conn.isClosed ? `${what} the server closed the connection without a framing error` : `${what} the final request got no answer within 5 s`);
      }
      break;
    }
    case 'bad-header':
    case 'too-large': {
      const bytes = ending === 'too-large' ? Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + rng.int(1, 10 ** 9)}\r\n\r\n`) : badHeader(rng);
      await writeSplit(rng, conn, bytes);
      if (!(await conn.closesWithin(5000))) problems.push(`${what} the server kept the connection open after a framing error (${show(bytes.toString('latin1'), 80)})`);
      else if (!conn.sawFramingError && !conn.sawShutdownResult) problems.push(`${what} the server closed after a framing error without answering it with an "id": null error`);
      break;
    }
    case 'soup': {
      conn.write(rng.bytes(rng.int(1, 300)));
      const answer = await sendSentinel();
      if (answer === undefined) {
        if (!(await conn.closesWithin(3000))) problems.push(`${what} after byte soup the server neither answered nor closed`);
        else if (!conn.sawFramingError && !conn.sawShutdownResult) problems.push(`${what} after byte soup the server closed without an "id": null framing error`);
      }
      break;
    }
    case 'disconnect': {
      const body = randomMessage(rng, counter++, recent, local);
      const frame = Buffer.concat([Buffer.from(validHeader(rng, body.length), 'latin1'), body]);
      conn.write(frame.subarray(0, rng.int(0, frame.length - 1)));
      break;
    }
    case 'shutdown': {
      const id = counter++;
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'shutdown', params: {} }));
      await send(body);
      const answer = (await conn.answerTo(id, 5000)) as { result?: unknown } | undefined;
      if (answer !== undefined && 'result' in answer && !(await conn.closesWithin(5000))) problems.push(`${what} the server did not close after answering shutdown`);
      break;
    }
  }

  // A close the client did not ask for must follow a framing error or a shutdown.
  if (conn.isClosed && !conn.closedByUs && !conn.sawFramingError && !conn.sawShutdownResult && !problems.length) {
    problems.push(`${what} the server closed the connection, with no framing error and no shutdown`);
  }
  // Requests that cannot block must all be answered once a later one was (unless the session ended),
  // and cancelled ones within 5 s.
  if (!conn.isClosed && !conn.sentShutdown && ending !== 'disconnect') {
    const missing: string[] = [];
    for (const request of conn.unanswered().slice(0, 20)) {
      if ((await conn.answerTo(request.id, 5000)) === undefined && !conn.isClosed) missing.push(`${idKey(request.id)} (${request.method})`);
    }
    if (missing.length) problems.push(`${what} requests never answered: ${missing.slice(0, 5).join(', ')}`);
    for (const id of cancelled) {
      if (conn.isClosed) break;
      if ((await conn.answerTo(id, 5000)) === undefined && !conn.isClosed) problems.push(`${what} request ${JSON.stringify(id)} was cancelled but not answered within 5 s`);
    }
  }
  conn.destroy();
  await conn.closed;
  for (const p of conn.check()) problems.push(`${what} ${p}`);
  // Collect real ids from tokens, for later connections to use.
  for (const m of conn.received) {
    const result = (m as { result?: unknown }).result as { id?: unknown; typeid?: unknown; $proxy?: { id?: unknown } } | undefined;
    if (result && typeof result === 'object') {
      if (typeof result.id === 'string' && typeof result.typeid === 'string') ctx.realIds.add(result.id);
      if (typeof result.$proxy?.id === 'string') ctx.realIds.add(result.$proxy.id);
    }
  }
  for (const id of ctx.forbiddenIds) ctx.realIds.delete(id);
  return { problems, ending, messages: conn.received.length, received: conn.received };
}

/** Runs `run(i)` for i = 0, 1, ... with `width` at a time, until `count` or `ms` is reached. */
async function pool<T>(count: number, ms: number, width: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const deadline = Date.now() + ms;
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && Date.now() < deadline) results.push(await run(next++));
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/**
 * Awaits `promise` for at most `ms`, with a timer that keeps the process alive meanwhile: a
 * cleanup step that never finishes fails its test clearly instead of letting it hang.
 */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

test('no sequence of bytes from fuzz connections crashes the server, breaks the protocol, or disturbs a witness client', async (t) => {
  const watch = new LogWatch();
  const manager = await startManager({ maxMessageBytes: MAX_MESSAGE_BYTES, allowRemoteShutdown: false, handshakeTimeoutMs: 5000, log: watch.log }, registerFuzzTypes);
  let toHalt: Witness | undefined;
  try {
    const witness = (toHalt = await Witness.start(manager.address));
    witness.run(new Rng(seedFor('server fuzz witness')));
    const ctx: FuzzContext = { realIds: new Set(), forbiddenIds: new Set(witness.ids) };
    const started = Date.now();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const results = await pool(scaled(400), scaled(6000), 6, (i) =>
      runConnection(i, manager.address, ctx).catch((error: unknown) => ({
        problems: [`${replayHint(`fuzz connection ${i}`)} the harness failed: ${(error as Error)?.stack ?? String(error)}`],
        ending: 'sentinel' as Ending,
        messages: 0,
        received: [],
      })),
    );
    delay.disable();
    const problems = results.flatMap((r) => r.problems);
    const endings = new Map<string, number>();
    for (const r of results) endings.set(r.ending, (endings.get(r.ending) ?? 0) + 1);
    const summary = `${results.length} connections in ${Date.now() - started} ms (${[...endings].map(([k, v]) => `${k} ${v}`).join(', ')}), witness ${witness.items} items`;
    const kinds = new Map<string, number>();
    for (const r of results) tally(r.received, kinds);
    t.diagnostic(`seed ${BASE_SEED}: ${summary}, ${results.reduce((n, r) => n + r.messages, 0)} server messages checked`);
    t.diagnostic(`event loop delay: max ${Math.round(delay.max / 1e6)} ms, p99 ${Math.round(delay.percentile(99) / 1e6)} ms`);
    t.diagnostic(`answers: ${[...kinds].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.deepEqual(problems.slice(0, 20), [], `${replayHint('server fuzz')} ${summary}`);
    assert.ok(results.length >= 10, summary);

    await witness.stop();
    assert.ok(witness.items > 0, `${replayHint('server fuzz')} the witness got no item through in ${summary}`);
    // Every fuzz session has gone: what the table holds is the witness's, and nothing else.
    const settled = await watch.until(() => watch.allClosedBut(witness.sessionId) && manager.connectedSessions.size === 1, 10_000);
    if (!settled) {
      const stuck = [...watch.opened].filter((s) => !watch.closed.has(s) && s !== witness.sessionId);
      const details = [...manager.connectedSessions].filter((s) => stuck.includes(s.id)).map((s) => `${s.id} ${s.clientInfo?.name ?? 'uninitialized'} from ${s.remoteAddress}, ${s.pendingCount} blocked`);
      const lines = watch.lines.filter((l) => stuck.some((s) => l.includes(`${s} `) || l.includes(`${s}:`)));
      assert.fail(`${replayHint('server fuzz')} fuzz sessions still open 10 s after their sockets were destroyed: ${details.join('; ')}; log: ${lines.slice(-10).join(' | ')}`);
    }
    assert.equal(manager.table.size, witness.ids.length, `${replayHint('server fuzz')} objects left in the table: ${[...manager.table.all()].map((e) => `${e.id}:${e.typeid}`).join(', ')}`);
    const typeids = await witness.client.describe();
    assert.ok(typeids.some((t) => t.typeid === 'Gadget'), 'the server still answers manager/describe');
    assert.equal(await witness.queue.qsize(), 0, 'every item the witness put came back');
  } finally {
    await toHalt?.halt();
    await bounded(manager.shutdown(), 10_000, 'manager.shutdown()');
  }
});

/** Reads 4-byte-length handshake frames from what the server sends; ends with undefined on close. */
class HandshakeReader {
  private buffer = Buffer.alloc(0);
  readonly all: Buffer[] = [];
  private waiter: (() => void) | undefined;
  isClosed = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.all.push(chunk);
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.waiter?.();
        resolve();
      }),
    );
  }

  /** The next frame, or undefined if the connection closes (or `ms` pass) first. */
  async frame(ms = 3000): Promise<Buffer | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.buffer.length >= 4) {
        const length = this.buffer.readInt32BE(0);
        if (length >= 0 && this.buffer.length >= 4 + length) {
          const frame = this.buffer.subarray(4, 4 + length);
          this.buffer = this.buffer.subarray(4 + length);
          return frame;
        }
      }
      if (this.isClosed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** Everything received so far. */
  get bytes(): Buffer {
    return Buffer.concat(this.all);
  }
}

type HandshakeScenario =
  | 'silent'
  | 'random-bytes'
  | 'random-frames'
  | 'bad-length'
  | 'wrong-key'
  | 'bad-challenge'
  | 'bad-verdict'
  | 'stall-after-welcome'
  | 'legacy-then-pickle'
  | 'full-then-pickle'
  | 'full-then-garbage'
  | 'abort';

/** Checks that what the server sent is a well-formed handshake, plus what may follow it. */
function checkHandshakeBytes(bytes: Buffer, scenario: HandshakeScenario, jsonAfter = scenario === 'full-then-garbage'): string | undefined {
  let at = 0;
  let index = 0;
  while (at + 4 <= bytes.length) {
    const length = bytes.readInt32BE(at);
    const payload = bytes.subarray(at + 4, at + 4 + length);
    if (index === 0 && !payload.subarray(0, CHALLENGE.length + 8).equals(Buffer.concat([CHALLENGE, Buffer.from('{sha256}')]))) return `the first frame is not a challenge: ${show(payload.toString('latin1'))}`;
    if (index > 0 && length > 256) {
      // Only the pickle refusal after a complete handshake may be longer.
      if (!scenario.endsWith('pickle') || !payload.toString('latin1').includes('#TRACEBACK')) return `a handshake frame of ${length} bytes`;
    }
    if (length < 0) return `a negative frame length ${length}`;
    at += 4 + length;
    index++;
    if (jsonAfter && index === 3) return undefined; // then Content-Length frames
  }
  return at === bytes.length ? undefined : `${bytes.length - at} trailing bytes that are not a frame`;
}

async function runHandshake(index: number, address: string, watch: LogWatch): Promise<string[]> {
  const rng = new Rng(seedFor(`handshake fuzz connection ${index}`));
  const what = replayHint(`handshake connection ${index}`);
  const key = Buffer.from(AUTHKEY);
  const scenario = rng.pick<HandshakeScenario>([
    'silent', 'random-bytes', 'random-bytes', 'random-frames', 'random-frames', 'bad-length', 'wrong-key', 'bad-challenge',
    'bad-verdict', 'stall-after-welcome', 'legacy-then-pickle', 'full-then-pickle', 'full-then-garbage', 'abort',
  ]);
  const socket = await openSocket(address);
  // Read now: a closed socket no longer tells its port.
  const localPort = socket.localPort;
  const reader = new HandshakeReader(socket);
  const problems: string[] = [];
  const fail = (why: string) => problems.push(`${what} ${scenario}: ${why}`);
  const write = (data: Buffer) => {
    if (!socket.destroyed) socket.write(data);
  };
  const challenge = await reader.frame();
  if (!challenge) {
    socket.destroy();
    return [`${what} ${scenario}: no challenge from the server`];
  }
  const message = challenge.subarray(CHALLENGE.length);
  const answer = async (legacy = false) => {
    // A Python 3.11 client answers a modern challenge with a bare HMAC-MD5 over the whole message.
    write(frameHandshake(legacy ? createHmac('md5', key).update(message).digest() : createResponse(key, message)));
    const verdict = await reader.frame();
    if (!verdict?.equals(WELCOME)) fail(`a correct response got ${verdict ? show(verdict.toString('latin1')) : 'no verdict'}`);
  };
  const challengeServer = async () => {
    const ours = makeChallenge();
    write(frameHandshake(ours));
    const response = await reader.frame();
    if (!response || !verifyResponse(key, ours.subarray(CHALLENGE.length), response)) fail('the server did not prove the key');
  };
  /** The first byte after the handshake, for the pickle scenarios. */
  let firstByte = 0;
  switch (scenario) {
    case 'silent':
      break;
    case 'random-bytes':
      write(rng.bytes(rng.int(1, 300)));
      break;
    case 'random-frames':
      for (let i = rng.int(1, 4); i > 0; i--) {
        const payload = rng.chance(0.5) ? rng.bytes(rng.int(0, 80)) : Buffer.concat([rng.pick([CHALLENGE, Buffer.from('{sha256}'), WELCOME, FAILURE, Buffer.from('{md5}')]), rng.bytes(rng.int(0, 60))]);
        const frame = frameHandshake(payload);
        write(rng.chance(0.2) ? frame.subarray(0, rng.int(1, frame.length)) : frame);
      }
      break;
    case 'bad-length': {
      const header = Buffer.alloc(4);
      header.writeInt32BE(rng.pick([-1, 257, 2 ** 31 - 1, -(2 ** 31), 100_000]));
      write(Buffer.concat([header, rng.bytes(rng.int(0, 20))]));
      break;
    }
    case 'wrong-key':
      write(frameHandshake(createResponse(Buffer.from(`not-${AUTHKEY}`), message)));
      break;
    case 'bad-challenge':
      await answer();
      write(
        frameHandshake(
          rng.pick([
            Buffer.from('#CHALLENGE#short'),
            Buffer.concat([Buffer.from('#CHALLENGE#{sha1}'), rng.bytes(40)]),
            Buffer.concat([Buffer.from('#CHALLENGE#{sha256'), rng.bytes(40)]),
            Buffer.concat([Buffer.from('#CHALLENGX#{sha256}'), rng.bytes(40)]),
            rng.bytes(rng.int(0, 100)),
          ]),
        ),
      );
      break;
    case 'bad-verdict':
      await answer();
      await challengeServer();
      write(frameHandshake(rng.pick([FAILURE, Buffer.from('#WELCOME'), Buffer.from('#welcome#'), rng.bytes(9), Buffer.alloc(0)])));
      break;
    case 'stall-after-welcome':
      await answer();
      break;
    case 'legacy-then-pickle':
    case 'full-then-pickle':
      await answer(scenario === 'legacy-then-pickle');
      await challengeServer();
      firstByte = rng.pick([0x00, 0x80, 0x20, 0x7b, 0x31, 0xff]);
      write(Buffer.concat([frameHandshake(WELCOME), Buffer.from([firstByte]), rng.bytes(rng.int(0, 20))]));
      // A Python client may stay idle as long as it likes: it is served (a bad frame is answered
      // with a #TRACEBACK, or closes the connection) until it leaves, so leave.
      socket.end();
      break;
    case 'full-then-garbage':
      await answer();
      await challengeServer();
      write(Buffer.concat([frameHandshake(WELCOME), Buffer.from(rng.pick(['X', 'C', 'content-length: -1', 'Content-Length: x'])), rng.bytes(rng.int(0, 40)), Buffer.from('\r\n\r\n')]));
      break;
    case 'abort': {
      const frame = frameHandshake(createResponse(key, message));
      write(frame.subarray(0, rng.int(0, frame.length - 1)));
      socket.destroy();
      break;
    }
  }
  if (scenario !== 'abort') {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([reader.closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 4000)))]);
    clearTimeout(timer);
    if (!closed) fail('the server did not close the connection within 4 s');
    // Since 1.3 only a first byte below 0x20 selects Python's protocol; any other is this
    // protocol's framing error (SPEC 4): a ParseError with id null, then the close.
    const jsonAfter = scenario === 'full-then-garbage' || (scenario.endsWith('pickle') && firstByte >= 0x20);
    const bad = checkHandshakeBytes(reader.bytes, scenario, jsonAfter);
    if (bad) fail(bad);
    // A loaded machine can stretch a handshake past the test manager's timeout: then the server
    // refuses the connection for time (logged with this socket's port), and no session answers.
    const timedOut = () => watch.lines.some((l) => l.includes(`:${localPort} refused: handshake not completed within`));
    if (jsonAfter && !/"id":null.*-32700/s.test(reader.bytes.toString('latin1')) && !timedOut()) fail('no ParseError with "id": null before the close');
    // After the handshake a pickle client gets only frames: a 4-byte length and a pickle ending in STOP ('.').
    if (scenario.endsWith('pickle') && !jsonAfter) {
      // The server's handshake is three frames (its challenge, its verdict, its answer to ours).
      const bytes = reader.bytes;
      for (let at = 0, frame = 0; at < bytes.length; frame++) {
        const length = bytes.length - at >= 4 ? bytes.readInt32BE(at) : -1;
        const whole = length >= 0 && at + 4 + length <= bytes.length;
        if (!whole || (frame >= 3 && (length < 2 || bytes[at + 4 + length - 1] !== 0x2e))) {
          fail(`the server sent something that is not a frame (or, after the handshake, a pickle): ${bytes.subarray(at, at + 40).toString('hex')}`);
          break;
        }
        at += 4 + length;
      }
    }
  }
  socket.destroy();
  await reader.closed;
  return problems;
}

test('handshake garbage is refused or timed out, and the server keeps serving a witness', async (t) => {
  const watch = new LogWatch();
  // Short enough that the silent and stalled connections time out well within the 4 s each is
  // given to close, long enough that a loaded machine does not time out the honest ones.
  const manager = await startManager({ handshakeTimeoutMs: 1000, log: watch.log });
  let toHalt: Witness | undefined;
  try {
    const witness = (toHalt = await Witness.start(manager.address));
    witness.run(new Rng(seedFor('handshake fuzz witness')));
    const started = Date.now();
    const results = await pool(scaled(120), scaled(3500), 8, (i) =>
      runHandshake(i, manager.address, watch).catch((error: unknown) => [`${replayHint(`handshake connection ${i}`)} the harness failed: ${(error as Error)?.stack ?? String(error)}`]),
    );
    const problems = results.flat();
    t.diagnostic(`seed ${BASE_SEED}: ${results.length} handshake connections in ${Date.now() - started} ms, witness ${witness.items} items`);
    assert.deepEqual(problems.slice(0, 20), [], `${replayHint('handshake fuzz')} ${results.length} connections in ${Date.now() - started} ms`);
    await witness.stop();
    assert.ok(witness.items > 0, 'the witness got items through');
    const settled = await watch.until(() => watch.allClosedBut(witness.sessionId) && manager.connectedSessions.size === 1, 10_000);
    assert.ok(settled, 'every session of a handshake-fuzz connection closed');
    assert.equal(manager.table.size, witness.ids.length);
    assert.ok((await witness.client.describe()).length > 0);
  } finally {
    await toHalt?.halt();
    await bounded(manager.shutdown(), 10_000, 'manager.shutdown()');
  }
});

test('a client that does not read its answers is throttled, then gets every answer once it reads, while a witness goes on', async (t) => {
  const rng = new Rng(seedFor('slow reader'));
  const watch = new LogWatch();
  const manager = await startManager({ log: watch.log });
  let toHalt: Witness | undefined;
  try {
    const witness = (toHalt = await Witness.start(manager.address));
    witness.run(new Rng(seedFor('slow reader witness')));
    const conn = await FuzzConnection.open(manager.address);
    const init = (await conn.request('init', 'initialize', { protocolVersion: '1.1' })) as { result: { sessionId: string } };
    const session = [...manager.connectedSessions].find((s) => s.id === init.result.sessionId);
    assert.ok(session, 'the session is listed');
    const value = (await conn.request('make', 'object/create', { typeid: 'Value', args: ['u', 'x'.repeat(rng.int(8_000, 12_000))] })) as { result: { id: string } };
    // Stop reading, and ask for far more answer bytes than the server buffers (8 MiB).
    conn.socket.pause();
    const ids = Array.from({ length: scaled(2000) }, (_, i) => (rng.chance(0.5) ? i : `q${i}`));
    const frames = ids.map((id) => {
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'object/call', params: { id: value.result.id, method: 'get' } }));
      conn.noteBody(body);
      return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
    });
    // Sometimes a broken header after them: it must be answered (and the connection closed) only
    // after every request before it, once the server reads again.
    const broken = rng.chance(0.5);
    conn.write(Buffer.concat([...frames, ...(broken ? [Buffer.from('Content-Length: abc\r\n\r\n')] : [])]));
    // The witness's round trips are the clock: the session must stop reading within a bounded number.
    let turns = 0;
    while (!session.isThrottled && turns < 500 && !witness.failure) {
      await witness.client.describe();
      turns++;
    }
    assert.ok(session.isThrottled, `${replayHint('slow reader')} the server went on reading a client that reads nothing (${turns} witness round trips)`);
    assert.ok((await witness.client.describe()).length > 0, 'the witness is served while the other session is throttled');
    conn.socket.resume();
    const answers = await Promise.all(ids.map((id) => conn.answerTo(id, 15_000)));
    const missing = ids.filter((_, i) => answers[i] === undefined);
    assert.deepEqual(missing.slice(0, 10), [], `${replayHint('slow reader')} ${missing.length} of ${ids.length} requests unanswered after reading resumed`);
    if (broken) {
      assert.ok(await conn.closesWithin(5000), 'closed after the broken header');
      assert.ok(conn.sawFramingError, 'the broken header was answered with an "id": null ParseError');
      const last = conn.received.findIndex((m) => (m as { id?: unknown }).id === null);
      assert.ok(last >= ids.length, 'the ParseError came after the answers to every request before it');
    }
    assert.deepEqual(conn.check().slice(0, 5), []);
    t.diagnostic(`seed ${BASE_SEED}: ${ids.length} answers of ~${Math.round((ids.length * 10) / 1024)} MiB${broken ? ' and a broken header' : ''}, throttled after ${turns} witness round trips`);
    conn.destroy();
    await witness.stop();
    assert.ok(await watch.until(() => manager.connectedSessions.size === 1, 10_000), 'the throttled session closed');
    assert.equal(manager.table.size, witness.ids.length);
  } finally {
    await toHalt?.halt();
    await bounded(manager.shutdown(), 10_000, 'manager.shutdown()');
  }
});

/** The params each method accepts, and a valid set of them to start from. */
const VALID_PARAMS: readonly (readonly [string, readonly string[], (id: string) => Record<string, unknown>])[] = [
  ['manager/describe', [], () => ({})],
  ['shutdown', ['server'], () => ({})],
  ['object/create', ['typeid', 'args', 'kwargs'], () => ({ typeid: 'Value', args: ['i', 1] })],
  ['object/call', ['id', 'method', 'args', 'kwargs'], (id) => ({ id, method: 'qsize' })],
  ['object/incref', ['id'], (id) => ({ id })],
  ['object/decref', ['id'], (id) => ({ id })],
  ['inspect/snapshot', [], () => ({})],
  ['inspect/peek', ['id', 'offset', 'limit'], (id) => ({ id })],
  ['inspect/subscribe', ['intervalMs'], () => ({ intervalMs: 1000 })],
  ['inspect/unsubscribe', [], () => ({})],
];

test('every request whose params have an unknown member is refused with InvalidParams naming it', async () => {
  const rng = new Rng(seedFor('unknown params members'));
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  assert.ok((await c.request('initialize', { protocolVersion: '1.1', capabilities: { inspection: true } })).result);
  const { id } = (await c.request('object/create', { typeid: 'Queue' })).result as { id: string };
  const deadline = Date.now() + 1500;
  for (let i = 0; i < 300 && (i < 10 || Date.now() < deadline); i++) {
    const [method, fields, make] = rng.pick(VALID_PARAMS);
    const params = make(id);
    let name = rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : rng.string(8);
    if (fields.includes(name)) name = `x${name}`;
    if (fields.includes(name)) continue;
    Object.defineProperty(params, name, { value: rng.json(1), enumerable: true, writable: true, configurable: true });
    const reply = await c.request(method, params);
    assert.equal(reply.error?.code, ErrorCodes.InvalidParams, `${replayHint(`case ${i}`)} ${method} with member ${JSON.stringify(name)}: ${show(reply)}`);
    assert.ok(String(reply.error.message).includes(name), `the message names the member: ${reply.error.message}`);
  }
  c.close();
});

// ---------------------------------------------------------------------------------------------
// Bugs found by the fuzzing: minimal reproductions (`todo` while open, plain tests once fixed).
// ---------------------------------------------------------------------------------------------

// Found by this fuzzing and fixed since (kept as regression tests): UnsupportedProtocolVersion was sent
// with data { supported } only; params members named like Object.prototype members were accepted; an
// id of 1e999 (Infinity once parsed) was answered with "id": null and a result; a "__proto__"
// keyword argument set the prototype of the keywords object and was lost.

test('UnsupportedProtocolVersion carries data.type and data.message like every error', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address, { initialize: false });
  const reply = await c.request('initialize', { protocolVersion: '2.0' });
  c.close();
  assert.deepEqual(validateMessage(reply), [], show(reply));
});

test('params members named like Object.prototype members are refused as unknown', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const member = (params: Record<string, unknown>, name: string) => Object.defineProperty(params, name, { value: 1, enumerable: true, writable: true, configurable: true });
  const replies = [
    await c.request('object/create', member({ typeid: 'Queue' }, 'constructor')),
    await c.request('manager/describe', member({}, 'toString')),
    await c.request('object/incref', member({ id: '1' }, '__proto__')),
  ];
  c.close();
  for (const reply of replies) assert.equal(reply.error?.code, ErrorCodes.InvalidParams, show(reply, 160));
});

test('a request id that JSON numbers cannot hold as a double is not answered with "id": null and a result', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  c.sendRaw(frameMessage('{"jsonrpc":"2.0","id":1e999,"method":"manager/describe"}'));
  const reply = await c.next();
  c.close();
  assert.deepEqual(validateMessage(reply), [], show(reply, 120));
});

test('a request id beyond 2^53 is echoed exactly, or refused', async () => {
  // SPEC 6: "A response carries the id of its request exactly". 123456789012345678901234567890
  // comes back as 1.2345678901234568e+29. Either echo the id's own digits or refuse it (InvalidRequest, "id": null).
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const bodies: string[] = [];
  const decoder = new ContentLengthDecoder((body) => bodies.push(body));
  c.socket.removeAllListeners('data');
  const first = new Promise<void>((resolve) =>
    c.socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      if (bodies.length) resolve();
    }),
  );
  c.sendRaw(frameMessage('{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"manager/describe"}'));
  await bounded(first, 5000, 'the answer');
  c.close();
  const body = bodies[0];
  const exact = body.includes('"id":123456789012345678901234567890,');
  const refused = (JSON.parse(body) as { id?: unknown; error?: { code?: number } }).id === null;
  assert.ok(exact || refused, `answer: ${show(body, 120)}`);
});

test('a keyword argument named __proto__ reaches a **kwargs method like any other', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const { id } = (await c.request('object/create', { typeid: 'dict' })).result as { id: string };
  c.sendRaw(frameMessage(`{"jsonrpc":"2.0","id":100,"method":"object/call","params":{"id":"${id}","method":"update","kwargs":{"__proto__":1,"a":2}}}`));
  assert.equal((await c.next()).result, null);
  const copy = (await c.request('object/call', { id, method: 'copy' })).result as Record<string, unknown>;
  c.close();
  // Python: d.update(__proto__=1, a=2) gives {'__proto__': 1, 'a': 2}.
  assert.deepEqual(Object.keys(copy).sort(), ['__proto__', 'a'], show(copy));
});

/** The first line a stream prints, within `ms`. */
function firstLine(stream: NodeJS.ReadableStream, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line within ${ms} ms (got ${show(text)})`)), ms);
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(text.slice(0, end));
      }
    });
  });
}

// Found by this fuzzing and fixed since (kept as a regression test): list repetition was bounded only
// at 2^32-1 items, so one `[0] * 2**31` filled memory until V8 aborted the whole manager (16 s with
// the default heap).
test('one list.__mul__ with a huge count is refused with MemoryError and the manager lives on', { timeout: 30_000 }, async () => {
  // A manager in a child process with a small heap: were the repetition attempted, it would die at once.
  const child = spawn(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', join(__dirname, '..', '..', 'src', 'server', 'cli.ts'), 'serve', '--address', '127.0.0.1:0', '--authkey', AUTHKEY, '--json', '--no-config', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  try {
    const { address } = JSON.parse(await firstLine(child.stdout, 15_000)) as { address: string };
    const c = await FuzzConnection.open(address);
    await c.request(1, 'initialize', { protocolVersion: '1.0' });
    const created = (await c.request(2, 'object/create', { typeid: 'list', args: [[0]] })) as { result: { id: string } };
    const reply = await c.request(3, 'object/call', { id: created.result.id, method: '__mul__', args: [2 ** 31] }, 10_000);
    const closed = c.isClosed;
    c.destroy();
    assert.equal((reply as { error?: { data?: { type?: string } } } | undefined)?.error?.data?.type, 'MemoryError', closed ? 'the connection closed: the manager died' : show(reply));
  } finally {
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
});
