/**
 * The store's scripts sent as ready-made RESP frames (`EVALSHA sha numkeys key… arg…`) on
 * ioredis's own commands connection, skipping its `Command` object: building one (its argument
 * copy and checks, its promise and closures, its flag look-ups when the reply comes) was most of
 * what a call cost the manager beside the socket writes, once per call.
 *
 * The frames of one turn are written to the connection's stream in one write (one string: a
 * corked stream would hand the socket one chunk per frame), and at the same moment a record of
 * each is put in the queue ioredis matches replies with (`commandQueue`, public in its typings),
 * as ioredis does for its own commands: replies still pair with commands in order, and ioredis
 * still fails what is in flight when the connection drops. The scripts of a turn thus reach
 * Redis in the order they were called, after any ioredis command sent in the same turn; what
 * must follow a script's effect is sent once its promise settled. While the connection is not
 * ready, a call goes through ioredis's `sendCommand` instead, which refuses it as any command.
 */

import type { Redis } from 'ioredis';

/** What ioredis's reply matching and connection handling read of a command in flight. */
class ScriptFrameCall {
  /** Read by ioredis to tell subscription and transaction commands apart (never those). */
  readonly name = 'evalsha';
  /** Shown by ioredis in the errors of a call (not kept: the frame holds the arguments). */
  readonly args: string[] = [];
  readonly inTransaction = false;
  readonly promise: Promise<unknown>;
  #resolve!: (reply: unknown) => void;
  #reject!: (error: Error) => void;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** ioredis reads replies as Buffers; ours are text, as `replyEncoding: 'utf8'` would give them. */
  resolve(reply: unknown): void {
    this.#resolve(asText(reply));
  }

  reject(error: Error): void {
    this.#reject(error);
  }
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

/** ioredis's connection as this module uses it (its fields are public in its typings). */
type Connection = Pick<Redis, 'status' | 'stream' | 'commandQueue' | 'condition'>;

/** An entry of ioredis's queue of commands awaiting their replies; `stream` is unset for a command of the connection itself. */
type QueuedCommand = Parameters<Redis['commandQueue']['push']>[0];

/** The scripts called on one ioredis connection in this turn, sent together at its end. */
export class ScriptFrames {
  #frames = '';
  #calls: ScriptFrameCall[] = [];

  constructor(private readonly client: Redis) {}

  /**
   * Sends `EVALSHA sha keyCount keys… args…` (`head` is {@link scriptFrameHead}'s) with the
   * others of this turn; undefined when the connection is not ready (the caller sends the
   * command through ioredis then, which refuses it).
   */
  send(head: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> | undefined {
    if (!ready(this.client)) return undefined;
    let frame = `*${3 + keys.length + args.length}\r\n${head}`;
    for (const key of keys) frame += bulk(key);
    for (const arg of args) frame += bulk(String(arg));
    const call = new ScriptFrameCall();
    if (this.#calls.length === 0) process.nextTick(() => this.#flush());
    this.#frames += frame;
    this.#calls.push(call);
    return call.promise;
  }

  /**
   * Writes this turn's frames in one write, and queues their calls for their replies in the same
   * step: whatever ioredis sends before or after is before or after them on the wire too.
   */
  #flush(): void {
    const frames = this.#frames;
    const calls = this.#calls;
    this.#frames = '';
    this.#calls = [];
    const connection: Connection = this.client;
    if (!ready(connection)) {
      // Lost within the turn: refused as ioredis refuses a command then.
      const error = new Error("Stream isn't writeable and enableOfflineQueue options is false");
      for (const call of calls) call.reject(error);
      return;
    }
    connection.stream.write(frames);
    const select = connection.condition?.select ?? 0;
    for (const call of calls) connection.commandQueue.push({ command: call, stream: undefined, select } as unknown as QueuedCommand);
  }
}

/** Whether ioredis would write a command to the connection now. */
function ready(connection: Connection): boolean {
  return connection.status === 'ready' && connection.stream?.writable === true;
}

/** The part of a script's frame after its length: `EVALSHA`, the script's SHA1 and its number of keys. */
export function scriptFrameHead(sha: string, keyCount: number): string {
  return `${bulk('EVALSHA')}${bulk(sha)}${bulk(String(keyCount))}`;
}
