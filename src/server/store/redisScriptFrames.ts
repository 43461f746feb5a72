/**
 * The store's scripts sent as ready-made RESP frames (`EVALSHA sha numkeys key… arg…`) on
 * ioredis's own commands connection, skipping its `Command` object: building one (its argument
 * copy and checks, its promise and closures, its flag look-ups when the reply comes) was most of
 * what a call cost the manager beside the socket writes, once per call.
 *
 * The calls of one turn are sent together at its end: a run of calls the batch script carries
 * (`redisScriptBatch.ts`) as one call of it (its consecutive calls of one script on one queue
 * joined in runs, `redisScriptRuns.ts`), any other call as a script call of its own, all in
 * one write (one string: a corked stream would hand the socket one chunk per frame). At the same
 * moment a record of each frame is put in the queue ioredis matches replies with
 * (`commandQueue`, public in its typings), as ioredis does for its own commands: replies still
 * pair with commands in order, and ioredis still fails what is in flight when the connection
 * drops. The calls of a turn thus reach Redis in the order they were made, after any ioredis
 * command sent in the same turn; what must follow a call's effect is sent once its promise
 * settled. While the connection is not ready, a call is refused without being written
 * ({@link ScriptNotSent}): it was not carried out.
 */

import type { Redis } from 'ioredis';
import type { BatchedRun, BatchedScript } from './redisScriptBatch';

/** A script as this module sends it. */
export interface FramedScript {
  /** Its SHA1, as EVALSHA names it. */
  readonly sha: string;
  readonly keys: number;
  /** `EVALSHA`, its SHA1 and its number of keys as RESP bulk strings: the frame after its length. */
  readonly head: string;
  /** How the batch script carries it, when it can. */
  readonly batched?: BatchedScript;
}

/** What a call whose reply is an error answers instead (see {@link ScriptFrames.send}). */
export type ScriptFailure = (script: FramedScript, keys: readonly string[], args: readonly (string | number)[], error: Error) => Promise<unknown>;

/** What a call makes of its reply, settling its promise with it (or failing it with what it throws). */
export type ReplyReader = (reply: unknown) => unknown;

/** One call of this turn, waiting for its reply. */
interface PendingCall {
  readonly script: FramedScript;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  /** What the call makes of its reply, if not the reply itself. */
  readonly read: ReplyReader | undefined;
  /** Settles the call's promise (with a promise: as that one settles). */
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What a batch carries in one place, with one reply: a call, or a run of calls (`redisScriptRuns.ts`). */
type BatchEntry = PendingCall | readonly PendingCall[];

/**
 * What ioredis's reply matching and connection handling read of a frame in flight (one script
 * call, or one batch of them): its reply, or the error that fails it, goes to its calls.
 */
class FrameInFlight {
  /** Read by ioredis to tell subscription and transaction commands apart (never those). */
  readonly name = 'evalsha';
  /** Shown by ioredis in the errors of a call (not kept: the frame holds the arguments). */
  readonly args: string[] = [];
  readonly inTransaction = false;

  constructor(
    private readonly calls: readonly PendingCall[],
    /** The batch script's entries (each call's, or a run's) when the reply is its: one reply per entry, in an array. */
    private readonly batch: readonly BatchEntry[] | undefined,
    private readonly failed: ScriptFailure,
    /** Told when Redis lacks the batch script (its calls are sent again one by one meanwhile). */
    private readonly batchMissing?: () => void,
  ) {}

  /** ioredis reads replies as Buffers; ours are text, as `replyEncoding: 'utf8'` would give them. */
  resolve(reply: unknown): void {
    const calls = this.calls;
    const entries = this.batch;
    if (entries === undefined) return settle(calls[0], asText(reply));
    if (!Array.isArray(reply) || reply.length !== entries.length) {
      const error = new Error(`the batch of ${calls.length} script calls had a reply of another shape`);
      for (const call of calls) this.#fail(call, error);
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const one: unknown = reply[i];
      if (!isRun(entry)) {
        // An error of one call, nested in the batch's reply, fails that call alone.
        if (one instanceof Error) this.#fail(entry, one);
        else settle(entry, asText(one));
      } else if (one instanceof Error || !Array.isArray(one)) {
        // A run refused fails each of its calls, as each alone would have been.
        const error = one instanceof Error ? one : new Error(`the run of ${entry.length} script calls had a reply of another shape`);
        for (const call of entry) this.#fail(call, error);
      } else {
        const run = entry[0].script.batched!.run!;
        asText(one);
        run.split?.(one);
        for (let j = 0; j < entry.length; j++) settle(entry[j], run.replyOf(one, j, entry.length));
      }
    }
  }

  reject(error: Error): void {
    if (this.batch !== undefined && error.name === 'ReplyError' && error.message.startsWith('NOSCRIPT')) this.batchMissing?.();
    for (const call of this.calls) this.#fail(call, error);
  }

  #fail(call: PendingCall, error: Error): void {
    failCall(call, this.failed, error);
  }
}

/** Whether `entry` is a run of calls. */
function isRun(entry: BatchEntry): entry is readonly PendingCall[] {
  return Array.isArray(entry);
}

/** Settles `call` with what it makes of `reply`. */
function settle(call: PendingCall, reply: unknown): void {
  const read = call.read;
  if (read === undefined) return call.resolve(reply);
  try {
    call.resolve(read(reply));
  } catch (error) {
    call.reject(error);
  }
}

/** Settles `call` with what `failed` answers for `error` (read as a reply would be). */
function failCall(call: PendingCall, failed: ScriptFailure, error: Error): void {
  const answer = failed(call.script, call.keys, call.args, error);
  call.resolve(call.read === undefined ? answer : answer.then(call.read));
}

/** A reply with its Buffers as UTF-8 text (nested arrays included, converted in place: the parser made them for this reply). */
function asText(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) for (let i = 0; i < reply.length; i++) reply[i] = asText(reply[i]);
  return reply;
}

/** One RESP bulk string. */
function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/** How many bulk strings {@link bulkOf} keeps: the keys calls name (a queue's) are far fewer. */
const KEPT_BULKS = 4096;

/**
 * Bulk strings of the keys calls name again and again (each call on a queue names its keys), made
 * once. One map for the process, shared by every store in it: a key's bulk string is the same
 * whichever store writes it, and the bound holds for all of them together.
 */
const keptBulks = new Map<string, string>();

/** Key `key` as a RESP bulk string, made once. */
function bulkOf(key: string): string {
  let made = keptBulks.get(key);
  if (made !== undefined) return made;
  made = bulk(key);
  if (keptBulks.size >= KEPT_BULKS) keptBulks.clear();
  keptBulks.set(key, made);
  return made;
}

/** A script call's argument as a RESP bulk string. */
function bulkArg(arg: string | number): string {
  return bulk(typeof arg === 'number' ? String(arg) : arg);
}

/** ioredis's connection as this module uses it (its fields are public in its typings). */
type Connection = Pick<Redis, 'status' | 'stream' | 'commandQueue' | 'condition'>;

/** An entry of ioredis's queue of commands awaiting their replies; `stream` is unset for a command of the connection itself. */
type QueuedCommand = Parameters<Redis['commandQueue']['push']>[0];

/** The scripts called on one ioredis connection in this turn, sent together at its end. */
export class ScriptFrames {
  #calls: PendingCall[] = [];

  constructor(
    private readonly client: Redis,
    /** What a call whose reply is an error answers instead: a script Redis lacks is sent again with EVAL; any other error is refused. */
    private readonly failed: ScriptFailure,
    /** The batch script (`redisScriptBatch.ts`): its SHA1. */
    private readonly batchSha: string,
    /** Loads the batch script again, when a batch found Redis without it (flushed, or Redis restarted). */
    private readonly batchMissing: () => void,
  ) {}

  /**
   * Sends a call of `script` with the others of this turn: its promise settles with what `read`
   * makes of the reply (the reply itself without `read`), or, when the reply is an error, with
   * what the constructor's `failed` answers (so a call that succeeds pays for no error handling).
   * The reply is read as it comes, so that the call's caller needs no promise of its own to
   * read it. Undefined when the connection is not ready (the caller sends the command through
   * ioredis then, which refuses it).
   */
  send(script: FramedScript, keys: readonly string[], args: readonly (string | number)[], read?: ReplyReader): Promise<unknown> | undefined {
    if (!ready(this.client)) return undefined;
    if (this.#calls.length === 0) process.nextTick(() => this.#flush());
    return new Promise((resolve, reject) => {
      this.#calls.push({ script, keys, args, read, resolve, reject });
    });
  }

  /**
   * Writes this turn's calls in one write, and queues their frames for their replies in the same
   * step: whatever ioredis sends before or after is before or after them on the wire too.
   */
  #flush(): void {
    const calls = this.#calls;
    this.#calls = [];
    const connection: Connection = this.client;
    if (!ready(connection)) {
      // Lost within the turn: refused as ioredis refuses a command then, nothing written.
      const error = new ScriptNotSent();
      for (const call of calls) failCall(call, this.failed, error);
      return;
    }
    let frames = '';
    const inFlight: FrameInFlight[] = [];
    for (let i = 0; i < calls.length; ) {
      // A run of calls the batch script carries, each with the arguments it takes there.
      let end = i;
      while (end < calls.length && carried(calls[end])) end++;
      if (end - i >= 2) {
        const carriedCalls = calls.slice(i, end);
        const entries = batchEntries(carriedCalls);
        frames += batchFrame(this.batchSha, entries);
        inFlight.push(new FrameInFlight(carriedCalls, entries, this.failed, this.batchMissing));
        i = end;
      } else {
        frames += scriptFrame(calls[i]);
        inFlight.push(new FrameInFlight([calls[i]], undefined, this.failed));
        i++;
      }
    }
    connection.stream.write(frames);
    const select = connection.condition?.select ?? 0;
    for (const frame of inFlight) connection.commandQueue.push({ command: frame, stream: undefined, select } as unknown as QueuedCommand);
  }
}

/** Whether the batch script can carry `call`: its script is one it carries, given the keys and arguments it takes there. */
function carried(call: PendingCall): boolean {
  const batched = call.script.batched;
  return batched !== undefined && batched.args === call.args.length && batched.keys === call.keys.length;
}

/** `EVALSHA sha keyCount keys… args…` for one call. */
function scriptFrame(call: PendingCall): string {
  let frame = `*${3 + call.keys.length + call.args.length}\r\n${call.script.head}`;
  for (const key of call.keys) frame += bulkOf(key);
  for (const arg of call.args) frame += bulkArg(arg);
  return frame;
}

/** `calls` as the batch carries them: each run of two or more that can be joined (see `redisScriptRuns.ts`) as one entry, any other call as its own. */
function batchEntries(calls: readonly PendingCall[]): BatchEntry[] {
  const entries: BatchEntry[] = [];
  for (let i = 0; i < calls.length; ) {
    const first = calls[i];
    const run = first.script.batched!.run;
    let end = i + 1;
    if (run !== undefined) while (end < calls.length && joins(run, first, calls[end])) end++;
    entries.push(end - i >= 2 ? calls.slice(i, end) : first);
    i = end;
  }
  return entries;
}

/** Whether `next` joins the run `first` starts: the same script and keys, and the same arguments but the item. */
function joins(run: BatchedRun, first: PendingCall, next: PendingCall): boolean {
  if (next.script !== first.script) return false;
  if (next.keys !== first.keys) for (let j = 0; j < first.keys.length; j++) if (next.keys[j] !== first.keys[j]) return false;
  for (let j = 0; j < first.args.length; j++) if (j !== run.item && next.args[j] !== first.args[j]) return false;
  return true;
}

/** One call of the batch script carrying `entries` in turn (see `redisScriptBatch.ts`). */
function batchFrame(batchSha: string, entries: readonly BatchEntry[]): string {
  let keyCount = 0;
  let argCount = 0;
  let keys = '';
  let args = '';
  for (const entry of entries) {
    if (!isRun(entry)) {
      for (const key of entry.keys) keys += bulkOf(key);
      args += entry.script.batched!.opBulk;
      for (const arg of entry.args) args += bulkArg(arg);
      keyCount += entry.keys.length;
      argCount += 1 + entry.args.length;
      continue;
    }
    // A run: its keys once; its number, count and common arguments, then each call's item.
    const first = entry[0];
    const run = first.script.batched!.run!;
    for (const key of first.keys) keys += bulkOf(key);
    args += run.opBulk + bulkArg(entry.length);
    for (let j = 0; j < first.args.length; j++) if (j !== run.item) args += bulkArg(first.args[j]);
    if (run.item !== undefined) for (const call of entry) args += bulkArg(call.args[run.item]);
    keyCount += first.keys.length;
    argCount += 2 + first.args.length - (run.item === undefined ? 0 : 1) + (run.item === undefined ? 0 : entry.length);
  }
  return `*${3 + keyCount + argCount}\r\n${scriptFrameHead(batchSha, keyCount)}${keys}${args}`;
}

/**
 * The error of a script call never written to Redis, its connection not ready: the call was not
 * carried out. Any other failure of a call once written (the connection dropped before its reply
 * came) leaves its effect unknown: Redis may have run it. This is the one place the two are told
 * apart: a call is written at once when {@link ready}, and refused with this error otherwise.
 */
export class ScriptNotSent extends Error {
  constructor() {
    super('not sent: the connection to Redis is not ready');
    this.name = 'ScriptNotSent';
  }
}

/** Whether ioredis would write a command to the connection now (a call sent now is written at once). */
export function ready(connection: Pick<Redis, 'status' | 'stream'>): boolean {
  return connection.status === 'ready' && connection.stream?.writable === true;
}

/** The part of a script's frame after its length: `EVALSHA`, the script's SHA1 and its number of keys. */
export function scriptFrameHead(sha: string, keyCount: number): string {
  return `${bulk('EVALSHA')}${bulk(sha)}${bulk(String(keyCount))}`;
}
