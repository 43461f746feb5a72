/**
 * Peer: stock vscode-jsonrpc (the library VS Code's language servers use) over TCP, a request
 * `echo` answered with its parameter. Same framing (Content-Length) and message format (JSON-RPC
 * 2.0) as ours, without the handshake or any object semantics.
 */

import net from 'node:net';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { ClientConn, Served } from '../harness';
import { closeSocket, listenLoopback, openSocket } from './net-util';

export async function serve(): Promise<Served> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    connection.onRequest('echo', (value: unknown) => value);
    connection.onError(() => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => connection.dispose());
    connection.listen();
  });
  const address = await listenLoopback(server);
  return { address, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function connect(address: string): Promise<ClientConn> {
  const socket = await openSocket(address);
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  return {
    echo: (value: number) => connection.sendRequest('echo', value),
    close: async () => {
      connection.dispose();
      await closeSocket(socket);
    },
  };
}
