/**
 * Reads an accepted connection into a buffer of the server's own (net's `onread`), as the client
 * reads its socket, instead of Node's 'data' path, which makes a buffer for every read (a
 * malloc'd store, an ArrayBuffer, a Buffer) and passes it through the stream machinery: a call
 * costs the server that much less. Node's server has no `onread` option for the sockets it
 * accepts, so the listener accepts them paused (`pauseOnConnect`), before anything was read, and a
 * Socket made around the accepted handle with `onread` reads it from then on, as Node's server
 * makes its own sockets around the handles it accepts. Where that cannot be done (a handle that
 * cannot read into a given buffer), the accepted socket is served as it is, through 'data'.
 */

import { Socket, type SocketConstructorOpts } from 'node:net';
import { ownCopy } from '../common/ownCopy';
import { READ_BYTES, SocketReader } from '../common/socketReader';

/**
 * The one buffer every accepted socket reads into: a read is handed on, and what is kept of it
 * copied, before the event loop reads anything else, so the sockets need no buffer each.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(READ_BYTES);

/** The reader of each socket made by {@link takeOverReads}. */
const readers = new WeakMap<Socket, SocketReader>();

/** The part of a socket this module reaches beyond net's documented API: its handle. */
interface WithHandle {
  _handle: { useUserBuffer?: unknown } | null;
}

/**
 * The socket to serve an accepted (paused, unread) connection through: one reading into the
 * server's buffer, or, where that cannot be done, `accepted` itself, resumed.
 */
export function takeOverReads(accepted: Socket): Socket {
  const handle = (accepted as unknown as WithHandle)._handle;
  if (handle && typeof handle.useUserBuffer === 'function') {
    const reader = new SocketReader(SHARED_READ_BUFFER);
    const options = { handle, onread: reader.onread, readable: true, writable: true };
    let socket: Socket | undefined;
    try {
      socket = new Socket(options as SocketConstructorOpts);
    } catch {
      // A Node that makes sockets otherwise: the accepted socket is served as it is (below).
    }
    if (socket && (socket as unknown as WithHandle)._handle === handle) {
      (accepted as unknown as WithHandle)._handle = null;
      // The server counts the accepted socket among its connections (server.close waits for
      // them) until it is destroyed: it is, handle-less, once the socket reading its handle closes.
      socket.once('close', () => accepted.destroy());
      readers.set(socket, reader);
      return socket;
    }
  }
  accepted.resume();
  return accepted;
}

/** Where the handshake reads `socket`, when it reads into the server's buffer (undefined: its 'data' events). */
export function readerOf(socket: Socket): SocketReader | undefined {
  return readers.get(socket);
}

/**
 * Hands every chunk read from `socket` from now on to `target`. A chunk of a socket reading into
 * the server's buffer is valid only during the call, unless `keeps` asks for copies (for a
 * reader that keeps chunks as they are). `place` may give memory of the target's own for the next
 * read (see SocketReader.readInto).
 */
export function readChunks(socket: Socket, target: (chunk: Buffer) => void, keeps = false, place?: () => Uint8Array | undefined): void {
  const reader = readers.get(socket);
  if (!reader) socket.on('data', target);
  else reader.readInto(keeps ? (chunk) => target(ownCopy(chunk)) : target, place);
}

/** Stops handing `socket`'s chunks to `target` (put there by {@link readChunks}). */
export function stopChunks(socket: Socket, target: (chunk: Buffer) => void): void {
  const reader = readers.get(socket);
  if (reader) reader.stop();
  else socket.off('data', target);
}

/** Reads and drops whatever `socket` receives from now on (so that its end is seen and it closes). */
export function dropChunks(socket: Socket): void {
  const reader = readers.get(socket);
  if (reader) reader.readInto(() => {});
  else socket.removeAllListeners('data');
  socket.resume();
}
