/**
 * Content-Length framing (the LSP base protocol) without the overhead of a stream library:
 * a decoder that turns any chunking of bytes into message bodies, and an encoder that makes
 * header and body one string so each frame goes out in a single write.
 */

/** Largest header block accepted: real headers are a few dozen bytes. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** Default largest body accepted, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Why a byte stream cannot be read as frames; after this the stream is unusable. */
export class FramingError extends Error {
  override name = 'FramingError';
  constructor(
    message: string,
    /** `tooLarge` when the header announced a body over the limit; `header` for anything malformed. */
    readonly kind: 'header' | 'tooLarge',
  ) {
    super(message);
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Splits a byte stream into message bodies. Feed chunks with {@link push}; each complete body is
 * handed to `onMessage` as a UTF-8 string in arrival order. A malformed header or an oversized
 * body throws {@link FramingError} from `push`, and the decoder must then be dropped.
 */
export class ContentLengthDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being read, once its header is parsed; -1 while reading a header. */
  private bodyLength = -1;

  constructor(
    private readonly onMessage: (body: string) => void,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  /** Bytes received but not yet part of a delivered message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private paused = false;

  /** Adds bytes and delivers every message they complete (unless paused). */
  push(chunk: Buffer): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    this.deliver();
  }

  /** Stops delivering: complete messages stay buffered until {@link resume} (backpressure). */
  pause(): void {
    this.paused = true;
  }

  /** Delivers what is buffered, and goes on delivering. */
  resume(): void {
    this.paused = false;
    this.deliver();
  }

  private deliver(): void {
    while (!this.paused) {
      if (this.bodyLength < 0 && (this.buffered === 0 || !this.readHeader())) return;
      if (this.buffered < this.bodyLength) return;
      const buffer = this.take(this.bodyLength);
      this.bodyLength = -1;
      this.onMessage(buffer.toString('utf8'));
    }
  }

  /** Parses a header block if one is complete; returns false when more bytes are needed. */
  private readHeader(): boolean {
    const data = this.flatten();
    const end = data.indexOf(CRLFCRLF);
    if (end < 0) {
      // Up to three bytes of the terminator may still be on their way.
      if (data.length > MAX_HEADER_BYTES + 3) throw new FramingError(`header longer than ${MAX_HEADER_BYTES} bytes`, 'header');
      // Fail fast on bytes that cannot start a header: a letter must come first.
      if (!isHeaderStart(data[0])) throw new FramingError(`expected a "Content-Length" header, got byte 0x${data[0].toString(16)}`, 'header');
      return false;
    }
    if (end > MAX_HEADER_BYTES) throw new FramingError(`header longer than ${MAX_HEADER_BYTES} bytes`, 'header');
    if (!isHeaderStart(data[0])) throw new FramingError(`expected a "Content-Length" header, got byte 0x${data[0].toString(16)}`, 'header');
    this.bodyLength = fastContentLength(data, end, this.maxMessageBytes) ?? parseHeader(data.toString('latin1', 0, end), this.maxMessageBytes);
    this.take(end + CRLFCRLF.length);
    return true;
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0];
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = this.flatten();
      out = all.subarray(0, n);
      this.chunks[0] = all.subarray(n);
      if (this.chunks[0].length === 0) this.chunks.shift();
    }
    this.buffered -= n;
    return out;
  }
}

function isHeaderStart(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

const CONTENT_LENGTH_PREFIX = Buffer.from('Content-Length: ');

/**
 * The common case, read without making strings: a header that is exactly `Content-Length: N`.
 * Returns undefined for anything else, which {@link parseHeader} then reads in full.
 */
function fastContentLength(data: Buffer, end: number, maxMessageBytes: number): number | undefined {
  const start = CONTENT_LENGTH_PREFIX.length;
  if (end <= start || end - start > 15 || data.compare(CONTENT_LENGTH_PREFIX, 0, start, 0, start) !== 0) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = data[i] - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return n > maxMessageBytes ? undefined : n;
}

/** Parses `Name: value` lines; returns the Content-Length. */
function parseHeader(text: string, maxMessageBytes: number): number {
  let length = -1;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FramingError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`, 'header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (length >= 0) throw new FramingError('header has Content-Length twice', 'header');
      if (!/^\d{1,15}$/.test(value)) throw new FramingError(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count`, 'header');
      length = Number(value);
    } else if (name === 'content-type') {
      const charset = /charset=([^;\s]+)/i.exec(value)?.[1]?.toLowerCase().replace(/^"|"$/g, '');
      if (charset && charset !== 'utf-8' && charset !== 'utf8') {
        throw new FramingError(`unsupported charset ${JSON.stringify(charset)}: only utf-8 is spoken`, 'header');
      }
    }
  }
  if (length < 0) throw new FramingError('header has no Content-Length', 'header');
  if (length > maxMessageBytes) {
    throw new FramingError(`message of ${length} bytes exceeds the limit of ${maxMessageBytes} bytes`, 'tooLarge');
  }
  return length;
}

/** Frames one JSON text: header and body in one string, ready for a single write. */
export function frameMessage(json: string): string {
  return `Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`;
}
