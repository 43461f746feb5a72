/**
 * CPython's `multiprocessing.connection` framing: each message is a 4-byte big-endian signed
 * length and the payload; a payload over 0x7fffffff is announced by -1 and an 8-byte unsigned
 * length. The decoder refuses a length beyond the manager's message limit before buffering it.
 */

/** Frames a payload for a Python client. */
export function pythonFrame(payload: Buffer): Buffer {
  if (payload.length > 0x7fffffff) {
    const head = Buffer.alloc(12);
    head.writeInt32BE(-1, 0);
    head.writeBigUInt64BE(BigInt(payload.length), 4);
    return Buffer.concat([head, payload]);
  }
  const head = Buffer.alloc(4);
  head.writeInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Thrown for a length that cannot be served: negative (other than -1) or beyond the limit. */
export class PythonFramingError extends Error {
  override name = 'PythonFramingError';
}

/** Splits a byte stream into Python's frames. */
export class PythonFrameDecoder {
  /** Bytes received and not yet framed, as they came: joined only once a frame is complete. */
  #chunks: Buffer[] = [];
  #size = 0;
  /** The length the current frame needs (head included), once its head is read. */
  #needed = 0;
  /** The size of the current frame's head (4, or 12 for the long form), once it is read. */
  #headSize = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes received and not yet part of a frame handed out. */
  get pendingBytes(): number {
    return this.#size;
  }

  /** Drops every byte held (the connection is gone). */
  discard(): void {
    this.#chunks = [];
    this.#size = 0;
    this.#needed = 0;
  }

  /**
   * Adds bytes; returns the payloads completed by them, in order. A large message arriving in
   * many chunks is joined once, not at every chunk.
   * @throws PythonFramingError for a bad or too large length (the stream cannot go on).
   */
  push(chunk: Buffer): Buffer[] {
    // The usual case: nothing pending, and the chunk is one whole small frame.
    if (this.#size === 0 && chunk.length >= 4) {
      const length = chunk.readInt32BE(0);
      if (length >= 0 && length <= this.maxBytes && chunk.length === 4 + length) return [chunk.subarray(4)];
    }
    // A head that came alone, as CPython sends a large message (head, then payload), and a chunk
    // holding all its payload: the payload is read from the chunk where it is, not joined to the head.
    if (this.#needed > 0 && this.#size === this.#headSize && chunk.length >= this.#needed - this.#size) {
      const end = this.#needed - this.#size;
      this.discard();
      const rest = chunk.subarray(end);
      return rest.length ? [chunk.subarray(0, end), ...this.push(rest)] : [chunk.subarray(0, end)];
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    const frames: Buffer[] = [];
    while (this.#size >= Math.max(4, this.#needed)) {
      const buffer = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#size);
      this.#chunks = [buffer];
      if (this.#needed === 0) {
        const head = this.headOf(buffer);
        if (head === undefined) break;
        this.#needed = head.size + head.length;
        this.#headSize = head.size;
        if (buffer.length < this.#needed) break;
      }
      const head = this.headOf(buffer)!;
      frames.push(buffer.subarray(head.size, this.#needed));
      const rest = buffer.subarray(this.#needed);
      this.#chunks = rest.length ? [rest] : [];
      this.#size = rest.length;
      this.#needed = 0;
    }
    return frames;
  }

  /** The frame head at the start of `buffer`: its size and the payload length; undefined if not all there. */
  private headOf(buffer: Buffer): { size: number; length: number } | undefined {
    if (buffer.length < 4) return undefined;
    const short = buffer.readInt32BE(0);
    if (short >= 0) {
      if (short > this.maxBytes) throw new PythonFramingError(`a message of ${short} bytes exceeds the limit of ${this.maxBytes} bytes`);
      return { size: 4, length: short };
    }
    if (short !== -1) throw new PythonFramingError(`a message length of ${short} is not valid`);
    if (buffer.length < 12) return undefined;
    const long = buffer.readBigUInt64BE(4);
    if (long > BigInt(this.maxBytes)) throw new PythonFramingError(`a message of ${long} bytes exceeds the limit of ${this.maxBytes} bytes`);
    return { size: 12, length: Number(long) };
  }
}
