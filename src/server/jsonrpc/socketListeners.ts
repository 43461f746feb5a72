/**
 * The listeners a JSON-RPC session puts on its socket, kept together so that handing the socket
 * over to the session it resumes (SPEC 20.4) removes exactly them and nothing else.
 */

import type { Socket } from 'node:net';
import { readChunks, stopChunks } from '../acceptedReads';

/** A session's listeners, by socket event. */
export interface SocketListeners {
  /** Each chunk read; one read into the server's buffer is valid only during the call (acceptedReads.ts). */
  data(chunk: Buffer): void;
  /** Where the next read should go when not into the server's buffer (the rest of a large message, read in place). */
  place(): Uint8Array | undefined;
  drain(): void;
  end(): void;
  close(): void;
  error(error: Error): void;
}

/** Puts `listeners` on `socket`. */
export function listen(socket: Socket, listeners: SocketListeners): void {
  for (const [event, listener] of Object.entries(listeners)) if (event !== 'data' && event !== 'place') socket.on(event, listener);
  readChunks(socket, listeners.data, false, listeners.place);
}

/** Takes `listeners` (if any) off `socket`. */
export function unlisten(socket: Socket, listeners: SocketListeners | undefined): void {
  if (!listeners) return;
  for (const [event, listener] of Object.entries(listeners)) if (event !== 'data' && event !== 'place') socket.off(event, listener);
  stopChunks(socket, listeners.data);
}
