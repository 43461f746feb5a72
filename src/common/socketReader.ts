/**
 * Reads a socket into a buffer given once (net's `onread`), read after read, instead of Node
 * allocating a buffer per read and passing it through the stream machinery as a 'data' event:
 * each message the client or the server receives costs that much less. The reader hands on each
 * chunk as a view of its buffer, valid only during the call; the handshake gets copies, as it
 * keeps what it reads.
 */

import type { HandshakeInput } from './handshake';
import { ownCopy } from './ownCopy';

/**
 * Bytes per read: a 64 KiB value and its frame arrive whole in one read when the system has them
 * (a frame split over reads is gathered by copying).
 */
export const READ_BYTES = 128 * 1024;

/** Where a socket's bytes go, the one object a socket's `onread` option hands them to. */
export class SocketReader implements HandshakeInput {
  #target: ((chunk: Buffer) => void) | undefined;
  /** Chunks read while nobody was reading (none, as the socket is paused between the two): kept, not dropped. */
  #early: Buffer[] = [];

  /** Where the target wants its next read to go, when somewhere else than the reader's buffer (see {@link readInto}). */
  #place: (() => Uint8Array | undefined) | undefined;

  /** The socket's `onread` option: pass it to `net.connect` (or to the Socket made around an accepted handle). */
  readonly onread: { buffer: () => Uint8Array; callback: (length: number, buffer: Uint8Array) => boolean };

  /**
   * @param buffer Where the socket reads. Several sockets may share one: a read is handed on (and
   * what is kept of it copied) before the event loop reads anything else.
   */
  constructor(buffer: Uint8Array = Buffer.allocUnsafe(READ_BYTES)) {
    this.onread = {
      // Asked before every read (net calls it after each one): the target's place, else the buffer.
      buffer: () => this.#place?.() ?? buffer,
      callback: (length, into) => {
        const chunk = Buffer.from(into.buffer, into.byteOffset, length);
        if (this.#target) this.#target(chunk);
        else this.#early.push(ownCopy(chunk));
        // Go on reading (false would pause the socket).
        return true;
      },
    };
  }

  /** The handshake's reading: each chunk copied. */
  listen(onData: (chunk: Buffer) => void): void {
    this.readInto((chunk) => onData(ownCopy(chunk)));
  }

  stop(): void {
    this.#target = undefined;
    this.#place = undefined;
  }

  /**
   * Hands every chunk read from now on to `target`, as a view of the reader's buffer that the next
   * read overwrites: `target` copies what it keeps. `place`, asked before each read, may give
   * memory of the target's own to read into instead (the rest of a large message, read in place);
   * a chunk read there is a view of it.
   */
  readInto(target: (chunk: Buffer) => void, place?: () => Uint8Array | undefined): void {
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) target(chunk);
    this.#target = target;
    this.#place = place;
  }
}
