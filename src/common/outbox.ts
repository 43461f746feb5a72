/**
 * Messages waiting to be written: every message queued in one turn of the event loop goes out
 * in a single write, framed with `Content-Length`. The server's sessions and the client's
 * connection both write through one.
 */

import { frameMessage, frameWithAttachments, type OutgoingMessage } from './framing';

/** Settled once: what {@link Outbox.push} chains its flush on. */
const SETTLED = Promise.resolve();

/** What an outbox writes to: a socket, seen only as far as writing goes. */
export interface OutboxSink {
  write(data: string | Uint8Array): boolean;
  /** Holds writes until {@link uncork}, which hands them to the system in one call (a socket's writev). */
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  /** Bytes written and not yet handed to the system. */
  readonly writableLength: number;
}

/** The queue of framed messages of one connection. */
export class Outbox {
  #frames: (string | Buffer)[] = [];
  /** Whether a frame queued carries attachments: the frames are then written corked, part by part ({@link writeParts}). */
  #binary = false;
  #size = 0;
  #scheduled = false;
  /** {@link flush}, bound once. */
  readonly #flushNow = (): void => this.flush();

  constructor(
    private readonly sink: OutboxSink,
    /**
     * Hears whether the system took a write whole (true) or the sink buffers some of it (false), for
     * backpressure. A socket's `write` returns false for any write at least its high-water mark
     * (16 KiB) even when the system took it at once, as it mostly does a 64 KiB answer: that is
     * heard as taken, since pausing the reads until the 'drain' that follows would cost the
     * connection a turn and a stop and restart of its reading per such answer, for nothing.
     */
    private readonly afterWrite?: (accepted: boolean) => void,
  ) {}

  /** Characters (and attachment bytes) queued and not yet written. */
  get size(): number {
    return this.#size;
  }

  /** Queues a message; it is written at the end of this turn. */
  push(message: OutgoingMessage): void {
    if (typeof message === 'string') return this.pushFrame(frameMessage(message));
    if (message.attachments.length === 0) return this.pushFrame(frameMessage(message.json, message.bytes));
    for (const part of frameWithAttachments(message.json, message.attachments, message.bytes)) {
      this.#frames.push(part);
      this.#size += part.length;
    }
    this.#binary = true;
    this.#schedule();
  }

  /** Queues a frame already made (header and JSON text, as {@link frameMessage} makes it). */
  pushFrame(frame: string): void {
    this.#frames.push(frame);
    this.#size += frame.length;
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      // A reaction on a settled promise, not queueMicrotask: Node wraps each queueMicrotask callback
      // in an AsyncResource (two objects and a bound function per turn), which a frame per call pays.
      void SETTLED.then(this.#flushNow);
    }
  }

  /** Writes every queued message at once. */
  flush(): void {
    this.#scheduled = false;
    if (this.#frames.length === 0 || this.sink.destroyed || this.sink.writableEnded) return;
    const frames = this.#frames;
    const binary = this.#binary;
    this.#frames = [];
    this.#binary = false;
    this.#size = 0;
    const accepted = binary ? this.writeParts(frames) : this.sink.write(frames.length === 1 ? frames[0] : frames.join(''));
    this.afterWrite?.(accepted || this.sink.writableLength === 0);
  }

  /**
   * Writes frames with attachments without copying the attachments: runs of text joined, each
   * attachment as it is, all corked so that the socket writes them in one system call.
   */
  private writeParts(frames: readonly (string | Buffer)[]): boolean {
    this.sink.cork();
    let accepted = true;
    let text = '';
    for (const frame of frames) {
      if (typeof frame === 'string') text += frame;
      else {
        if (text) accepted = this.sink.write(text) && accepted;
        text = '';
        accepted = this.sink.write(frame) && accepted;
      }
    }
    if (text) accepted = this.sink.write(text) && accepted;
    this.sink.uncork();
    return accepted;
  }

  /** Drops what is queued (the connection is gone). */
  clear(): void {
    this.#frames = [];
    this.#binary = false;
    this.#size = 0;
  }
}
