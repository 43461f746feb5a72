/**
 * Messages waiting to be written: every message queued in one turn of the event loop goes out
 * in a single write, framed with `Content-Length`. The server's sessions and the client's
 * connection both write through one. A reader that answers requests as it reads them holds the
 * outbox while it reads a chunk and releases it after: the answers then go out in one write
 * right away, not a microtask later.
 */

import { frameMessage } from './framing';

/** What an outbox writes to: a socket, seen only as far as writing goes. */
export interface OutboxSink {
  write(data: string): boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/** The queue of framed messages of one connection. */
export class Outbox {
  #frames: string[] = [];
  #size = 0;
  #scheduled = false;
  #held = false;

  constructor(
    private readonly sink: OutboxSink,
    /** Hears whether the sink took a write whole (true) or buffers it (false), for backpressure. */
    private readonly afterWrite?: (accepted: boolean) => void,
  ) {}

  /** Characters queued and not yet written. */
  get size(): number {
    return this.#size;
  }

  /** Queues a message; it is written at the end of this turn. */
  push(json: string): void {
    const frame = frameMessage(json);
    this.#frames.push(frame);
    this.#size += frame.length;
    if (!this.#scheduled && !this.#held) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Queues without writing until {@link release}: for a reader answering what one chunk holds. */
  hold(): void {
    this.#held = true;
  }

  /** Ends {@link hold}: writes what was queued meanwhile, now. */
  release(): void {
    this.#held = false;
    if (this.#frames.length > 0) this.flush();
  }

  /** Writes every queued message at once. */
  flush(): void {
    this.#scheduled = false;
    if (this.#frames.length === 0 || this.sink.destroyed || this.sink.writableEnded) return;
    const data = this.#frames.length === 1 ? this.#frames[0] : this.#frames.join('');
    this.#frames = [];
    this.#size = 0;
    const accepted = this.sink.write(data);
    this.afterWrite?.(accepted);
  }

  /** Drops what is queued (the connection is gone). */
  clear(): void {
    this.#frames = [];
    this.#size = 0;
  }
}
