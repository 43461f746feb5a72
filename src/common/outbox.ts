/**
 * Messages waiting to be written: every message queued in one turn of the event loop goes out
 * in a single write, framed with `Content-Length`. The server's sessions and the client's
 * connection both write through one.
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
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
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
