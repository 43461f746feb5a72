/**
 * Peer: Redis lists as queues, through a minimal RESP2 client written here (the project does not
 * depend on ioredis). put = LPUSH key value, get = BRPOP key 0 (blocking, like Queue.get(); it
 * answers at once when the list has items). Replies come back in request order, so requests are
 * pipelined on one connection and matched first in, first out, as ioredis does.
 *
 * The server is redis-server itself, started by run.ts; `serve` is not used.
 */

import type { Socket } from 'node:net';
import type { ClientConn, QueueOps, Served } from '../harness';
import { closeSocket, openSocket } from './net-util';

type Reply = string | number | null | Reply[];

class RedisError extends Error {
  override name = 'RedisError';
}

const CRLF = 0x0d;

/** Parses one reply at `pos`; undefined when more bytes are needed. */
function parseReply(buf: Buffer, pos: number): { value: Reply | RedisError; end: number } | undefined {
  if (pos >= buf.length) return undefined;
  const lineEnd = buf.indexOf(CRLF, pos);
  if (lineEnd < 0 || lineEnd + 1 >= buf.length) return undefined;
  const type = buf[pos];
  const line = buf.toString('latin1', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b /* + */:
      return { value: line, end: next };
    case 0x2d /* - */:
      return { value: new RedisError(line), end: next };
    case 0x3a /* : */:
      return { value: Number(line), end: next };
    case 0x24 /* $ */: {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case 0x2a /* * */: {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let k = 0; k < count; k++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        if (item.value instanceof RedisError) return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RedisError(`unexpected RESP type byte 0x${type.toString(16)}`);
  }
}

function encodeCommand(args: (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

class RespClient {
  private readonly waiters: { resolve(value: Reply): void; reject(error: Error): void }[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closed: Error | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('redis connection closed')));
  }

  command(...args: (string | number)[]): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    this.socket.write(encodeCommand(args));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const reply = parseReply(this.buffer, pos);
      if (!reply) break;
      pos = reply.end;
      const waiter = this.waiters.shift();
      if (reply.value instanceof RedisError) waiter?.reject(reply.value);
      else waiter?.resolve(reply.value);
    }
    this.buffer = this.buffer.subarray(pos);
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closed);
  }
}

export async function serve(): Promise<Served> {
  throw new Error('the redis peer is served by redis-server, started by run.ts');
}

export async function connect(address: string): Promise<ClientConn> {
  const client = new RespClient(await openSocket(address));
  const pong = await client.command('PING');
  if (pong !== 'PONG') throw new Error(`redis answered PING with ${JSON.stringify(pong)}`);
  return {
    async queue(typeid: string): Promise<QueueOps> {
      const key = `bench:${typeid}`;
      return {
        put: (value) => client.command('LPUSH', key, value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : (value as string | number)),
        get: async () => {
          const reply = await client.command('BRPOP', key, 0);
          return Array.isArray(reply) ? Number(reply[1]) : reply;
        },
      };
    },
    close: () => closeSocket(client.socket),
  };
}
