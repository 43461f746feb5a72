/**
 * The listening socket: accepts TCP or local-socket connections, runs the authentication
 * handshake before reading anything else, then tells the two protocols apart by the first byte
 * (a letter starts a `Content-Length` header; anything else is CPython's pickle framing).
 */

import { existsSync, statSync, unlinkSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { formatAddress, type Address } from '../common/address';
import { serverHandshake, HandshakeError } from '../common/handshake';
import { tlsWrapper, type ServerTlsOptions } from './tlsWrap';
import { ConnectionGuard, type ConnectionGuardOptions, type GuardedSession } from './connectionGuard';
import { dropChunks, readerOf, takeOverReads } from './acceptedReads';

/** What to do with an authenticated connection. */
export interface ConnectionHandler {
  /** A JSON-RPC client: `head` holds the bytes already read. Returns its session. */
  onJsonRpc(socket: Socket, head: Buffer, remote: string): GuardedSession | void;
  /** A Python manager client (pickle frames): `head` holds the bytes already read. Returns its session. */
  onPickle(socket: Socket, head: Buffer, remote: string): GuardedSession | void;
  log(message: string): void;
}

/** Listener options. */
export interface ListenerOptions extends ConnectionGuardOptions {
  authkey: Buffer;
  handshakeTimeoutMs: number;
  /** Serve TLS: every connection is wrapped before the authkey handshake. */
  tls?: ServerTlsOptions;
}

/** Describes a peer for logs. */
function remoteOf(socket: Socket, address: Address): string {
  return address.kind === 'tcp' ? `${socket.remoteAddress}:${socket.remotePort}` : `${address.path} (local)`;
}

/** A bound listener. */
export class Listener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly guard: ConnectionGuard;
  private readonly wrapTls: ((socket: Socket) => Socket) | undefined;
  private boundAddress: Address | undefined;

  constructor(
    private readonly options: ListenerOptions,
    private readonly handler: ConnectionHandler,
  ) {
    // Accepted unread, so that a plain connection can be read into the server's buffer (acceptedReads.ts).
    this.server = createServer({ noDelay: true, pauseOnConnect: !options.tls }, (socket) => this.accept(socket));
    this.guard = new ConnectionGuard(options, (message) => handler.log(message));
    this.wrapTls = options.tls ? tlsWrapper(options.tls) : undefined;
  }

  /** The address actually bound (the real port when asked for port 0). */
  get address(): Address | undefined {
    return this.boundAddress;
  }

  /** Binds; resolves with the bound address. */
  async listen(address: Address): Promise<Address> {
    if (address.kind === 'ipc' && !address.path.startsWith('\\\\')) await removeStaleSocket(address.path);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(new Error(`cannot listen on ${formatAddress(address)}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`, { cause: error }));
      };
      this.server.once('error', onError);
      const done = () => {
        this.server.off('error', onError);
        resolve();
      };
      if (address.kind === 'tcp') this.server.listen(address.port, address.host, done);
      else this.server.listen(address.path, done);
    });
    this.server.on('error', (error) => this.handler.log(`listener error: ${error.message}`));
    const bound = this.server.address();
    this.boundAddress = typeof bound === 'object' && bound !== null ? { kind: 'tcp', host: address.kind === 'tcp' ? address.host : bound.address, port: bound.port } : address;
    return this.boundAddress;
  }

  /** Stops accepting, and destroys every connection still open after `graceMs`. */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const timer = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, graceMs);
    timer.unref();
    for (const socket of this.sockets) socket.end();
    await closed;
    clearTimeout(timer);
  }

  private accept(accepted: Socket): void {
    const tcp = this.wrapTls ? accepted : takeOverReads(accepted);
    const address = this.boundAddress!;
    const remote = remoteOf(tcp, address);
    if (address.kind === 'tcp') tcp.setNoDelay(true);
    // With TLS, the TLS socket takes over the connection (its handle): from here on it is the
    // one counted, shed, timed out and served, and the one whose 'close' frees its place.
    const socket = this.wrapTls ? this.wrapTls(tcp) : tcp;
    socket.on('error', (error) => {
      // Reported by whoever owns the socket next; an error before that only ends the connection.
      if (socket !== tcp) this.handler.log(`connection from ${remote}: TLS: ${error.message}`);
    });
    if (!this.guard.admit(socket, remote)) return;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    serverHandshake(socket, this.options.authkey, { timeoutMs: this.options.handshakeTimeoutMs, input: readerOf(socket) }).then(
      (head) => this.route(socket, head, remote),
      (error: unknown) => {
        const reason = error instanceof HandshakeError ? error.message : String(error);
        this.handler.log(`connection from ${remote} refused: ${reason}`);
        // A peer that left is gone: nothing more to say to it (a TLS socket would linger otherwise).
        if (error instanceof HandshakeError && error.reason === 'closed') return void socket.destroy();
        // Read (and drop) what comes, so that the peer's end is seen: a socket reading into the
        // server's buffer reads nothing while paused, as the handshake left it.
        dropChunks(socket);
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      },
    );
  }

  /** Picks the protocol from the first byte after the handshake. */
  private route(socket: Socket, head: Buffer, remote: string): void {
    const decide = (first: Buffer) => {
      const byte = first[0];
      // A Python frame starts with the high byte of its 4-byte length: below 0x20 for any frame
      // under 512 MiB. Any other byte goes to the JSON-RPC session, which answers a byte that is
      // not a letter with ParseError before it closes (SPEC 4, since 1.3), instead of silence.
      this.guard.authenticate(socket, byte < 0x20 ? this.handler.onPickle(socket, first, remote) : this.handler.onJsonRpc(socket, first, remote));
    };
    if (head.length > 0) {
      decide(head);
      socket.resume();
      return;
    }
    const reader = readerOf(socket);
    const first = (chunk: Buffer) => {
      socket.pause();
      reader?.stop();
      decide(reader ? Buffer.from(chunk) : chunk);
      socket.resume();
    };
    if (reader) reader.readInto(first);
    else socket.once('data', first);
    socket.resume();
  }
}

/** Removes a Unix socket file left by a manager that died, but never a live one or a regular file. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!statSync(path).isSocket()) throw new Error(`cannot listen on ${path}: a file that is not a socket is there (not removed)`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = netConnect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`cannot listen on ${path}: another manager is listening there`);
  try {
    unlinkSync(path);
  } catch (error) {
    throw new Error(`cannot listen on ${path}: a stale file is in the way and cannot be removed (${(error as Error).message})`);
  }
}

