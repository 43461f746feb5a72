/**
 * Peer: bare Node TCP echo, the floor for a request/response round trip over loopback in Node.
 * The server writes back every chunk it reads. The client sends a 4-byte-length-prefixed message
 * about the size of one of our JSON-RPC calls and matches echoes to requests in order; it does no
 * JSON parsing of the reply.
 */

import net from 'node:net';
import type { ClientConn, Served } from '../harness';
import { closeSocket, listenLoopback, openSocket } from './net-util';

export async function serve(): Promise<Served> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  });
  const address = await listenLoopback(server);
  return { address, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Waiter {
  resolve(body: Buffer): void;
  reject(error: Error): void;
}

export async function connect(address: string): Promise<ClientConn> {
  const socket = await openSocket(address);
  const waiters: Waiter[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let closed: Error | undefined;

  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    while (buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (buffer.length < 4 + length) break;
      const body = buffer.subarray(4, 4 + length);
      buffer = buffer.subarray(4 + length);
      waiters.shift()?.resolve(body);
    }
  });
  const fail = (error: Error) => {
    closed ??= error;
    for (const waiter of waiters.splice(0)) waiter.reject(closed);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('echo connection closed')));

  let id = 0;
  return {
    echo(value: number): Promise<unknown> {
      if (closed) return Promise.reject(closed);
      const body = Buffer.from(`{"jsonrpc":"2.0","id":${++id},"method":"object/call","params":{"id":"1","method":"put","args":[${value}]}}`);
      const frame = Buffer.allocUnsafe(4 + body.length);
      frame.writeUInt32BE(body.length, 0);
      body.copy(frame, 4);
      socket.write(frame);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close: () => closeSocket(socket),
  };
}
