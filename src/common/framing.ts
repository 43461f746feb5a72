/**
 * Content-Length framing (the LSP base protocol) without the overhead of a stream library:
 * a decoder that turns any chunking of bytes into message bodies, and an encoder that makes
 * header and body one string so each frame goes out in a single write. Since 1.3 a frame may
 * carry raw byte strings after its JSON text (SPEC 5.1, `Content-Attachments`).
 */

import { isUtf8 } from 'node:buffer';
import { MAX_EXACT_DIGITS } from './exactDigits';
import { ownCopy } from './ownCopy';

/** Largest header block accepted: real headers are a few dozen bytes. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** Default largest body accepted, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * A body split over reads gets memory of its own once at most this many of its bytes are still to
 * come, and the socket reads them straight into it ({@link ContentLengthDecoder.readPlace}): what
 * it holds then passes what arrived by at most this, so a body declared large and sent slowly still
 * holds only about what arrived (the limit on bytes of incomplete messages counts what it holds).
 */
export const READ_AHEAD_BYTES = 128 * 1024;

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
const EMPTY = Buffer.alloc(0);

/**
 * What a decoder hands on: a message's JSON text, and the attachments its frame carried (SPEC 5.1),
 * if any; `notUtf8` when the decoder checks the text and it is not UTF-8 (then bad bytes read as U+FFFD).
 */
export type MessageHandler = (body: string, attachments?: Buffer[], notUtf8?: boolean) => void;

/**
 * Splits a byte stream into message bodies. Feed chunks with {@link push}; each complete body is
 * handed to `onMessage` as a UTF-8 string in arrival order, with its frame's attachments when it
 * had any (see {@link deliverAttached}). A malformed header or an oversized body throws
 * {@link FramingError} from `push`, and the decoder must then be dropped.
 */
export class ContentLengthDecoder {
  /** The bytes being read, from {@link offset} on. Messages are read in place, without copies. */
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Chunks of a long body still arriving: joined once, when the body is complete. */
  private later: Buffer[] = [];
  private laterBytes = 0;
  /** Body length of the frame being read, once its header is parsed; -1 while reading a header. */
  private bodyLength = -1;
  /** Byte lengths of the attachments at the end of the body being read; undefined for a frame without. */
  private attachmentLengths: number[] | undefined;
  private paused = false;
  /** Whether frames with attachments are read; until then `Content-Attachments` is a framing error (SPEC 5.1: only once granted). */
  acceptAttachments = false;
  /** The chunk {@link pushTransient} is reading, valid only until it returns (its rest, once a body took its start). */
  private transient: Buffer | undefined;
  /** The memory of its own of the body being read, once its last part is on its way ({@link READ_AHEAD_BYTES}); bytes in it up to {@link filled}. */
  private body: Buffer | undefined;
  private filled = 0;

  /**
   * @param checkUtf8 whether each message's text is checked to be UTF-8 (RFC 8259 8.1), for a
   * reader that must refuse one that is not rather than read its bad bytes as U+FFFD: the server.
   */
  constructor(
    private onMessage: MessageHandler,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    private readonly checkUtf8 = false,
  ) {}

  /** Hands every message from now on, the rest of the current chunk's too, to `onMessage` instead (a resumed session taking over a connection). */
  redirect(onMessage: MessageHandler): void {
    this.onMessage = onMessage;
  }

  /** Bytes received but not yet part of a delivered message (a body's own memory whole, once it has it). */
  get pendingBytes(): number {
    return this.buffer.length - this.offset + this.laterBytes + (this.body ? this.body.length : 0);
  }

  /**
   * Where the next read should go, for a socket read into memory given per read (net's `onread`):
   * the rest of the body being read, when it has memory of its own, so that its bytes arrive in
   * place, with no copy; undefined for the reader's own buffer.
   */
  get readPlace(): Uint8Array | undefined {
    return this.body?.subarray(this.filled);
  }

  /** Drops every byte held (the connection is gone): nothing of it stays in memory. */
  discard(): void {
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    this.later = [];
    this.laterBytes = 0;
    this.attachmentLengths = undefined;
    this.body = undefined;
  }

  /** Adds bytes and delivers every message they complete (unless paused). */
  push(chunk: Buffer): void {
    if (this.body) {
      const rest = this.fillBody(chunk);
      if (rest === undefined) return;
      this.deliver();
      if (rest.length === 0) return;
      if (this.transient === chunk) this.transient = rest;
      chunk = rest;
    }
    if (chunk.length > 0) {
      if (this.bodyLength >= 0 && this.buffer.length - this.offset + this.laterBytes + chunk.length < this.bodyLength) {
        // Part of a body still incomplete: keep it aside rather than copying the whole every time.
        this.later.push(chunk === this.transient ? ownCopy(chunk) : chunk);
        this.laterBytes += chunk.length;
        return;
      }
      this.append(chunk);
    }
    this.deliver();
  }

  /**
   * {@link push} for a chunk valid only during the call (a socket read into one buffer it reuses,
   * net's `onread`): what is kept of it for later, the start of a frame or an attachment handed on,
   * is copied out of it first.
   */
  pushTransient(chunk: Buffer): void {
    this.transient = chunk;
    try {
      this.push(chunk);
    } finally {
      const transient = this.transient;
      this.transient = undefined;
      this.takeBodyAhead();
      if (this.buffer === transient) {
        this.buffer = this.offset < transient.length ? ownCopy(transient.subarray(this.offset)) : EMPTY;
        this.offset = 0;
      }
    }
  }

  /**
   * Gives the body being read memory of its own once its last {@link READ_AHEAD_BYTES} are on
   * their way: what arrived of it is copied there once (instead of kept in pieces and joined when
   * complete), and the socket reads the rest straight into it ({@link readPlace}).
   */
  private takeBodyAhead(): void {
    if (this.bodyLength < 0 || this.body) return;
    const arrived = this.buffer.length - this.offset + this.laterBytes;
    // A body complete but not delivered (paused) needs no more reads.
    if (arrived >= this.bodyLength || this.bodyLength - arrived > READ_AHEAD_BYTES) return;
    const body = Buffer.allocUnsafeSlow(this.bodyLength);
    let at = 0;
    for (const part of [this.buffer.subarray(this.offset), ...this.later]) {
      body.set(part, at);
      at += part.length;
    }
    this.body = body;
    this.filled = at;
    this.buffer = EMPTY;
    this.offset = 0;
    this.later = [];
    this.laterBytes = 0;
  }

  /**
   * Puts `chunk` into the body's own memory (nothing to copy when the socket read it there) and,
   * once the body is complete, makes it the bytes being read. Returns what of `chunk` follows the
   * body, or undefined while the body is still incomplete.
   */
  private fillBody(chunk: Buffer): Buffer | undefined {
    const body = this.body!;
    const n = Math.min(body.length - this.filled, chunk.length);
    if (chunk.buffer !== body.buffer || chunk.byteOffset !== body.byteOffset + this.filled) body.set(chunk.subarray(0, n), this.filled);
    this.filled += n;
    if (this.filled < body.length) return undefined;
    this.body = undefined;
    this.buffer = body;
    this.offset = 0;
    return chunk.subarray(n);
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

  private append(chunk: Buffer): void {
    const rest = this.buffer.length - this.offset;
    if (rest === 0 && this.later.length === 0) this.buffer = chunk;
    else this.buffer = Buffer.concat([this.buffer.subarray(this.offset), ...this.later, chunk], rest + this.laterBytes + chunk.length);
    this.offset = 0;
    this.later = [];
    this.laterBytes = 0;
  }

  private deliver(): void {
    while (!this.paused) {
      if (this.bodyLength < 0 && (this.offset >= this.buffer.length || !this.readHeader())) return;
      const start = this.offset;
      if (this.buffer.length - start < this.bodyLength) return;
      const end = (this.offset = start + this.bodyLength);
      this.bodyLength = -1;
      const lengths = this.attachmentLengths;
      if (lengths === undefined) {
        const text = this.buffer.toString('utf8', start, end);
        this.onMessage(text, undefined, this.notUtf8(text, start, end));
      }
      else {
        this.attachmentLengths = undefined;
        this.deliverAttached(start, end, lengths);
      }
    }
  }

  /**
   * Hands on a frame with attachments: the JSON text, then each attachment. An attachment that is
   * at least half of the memory it arrived in is handed on as a view of it (a large one, the case
   * attachments are for, is not copied); a smaller one is copied, so that a small value kept
   * (stored in a queue) does not keep a whole chunk of the stream alive, and so is one in a chunk
   * of {@link pushTransient}.
   */
  private deliverAttached(start: number, end: number, lengths: readonly number[]): void {
    let at = end;
    for (const length of lengths) at -= length;
    const attachments: Buffer[] = [];
    const textEnd = at;
    const json = this.buffer.toString('utf8', start, textEnd);
    for (const length of lengths) {
      const view = this.buffer.subarray(at, at + length);
      attachments.push(length * 2 >= view.buffer.byteLength && this.buffer !== this.transient ? view : ownCopy(view));
      at += length;
    }
    this.onMessage(json, attachments, this.notUtf8(json, start, textEnd));
  }

  /**
   * Whether `text`, read from `buffer[start..end)`, must be refused as not UTF-8 (checked only when
   * asked: see the constructor). Bad bytes read as U+FFFD, so a text without one needs no look at
   * its bytes (an ASCII text, the usual request, is answered at once).
   */
  private notUtf8(text: string, start: number, end: number): boolean {
    return this.checkUtf8 && text.includes('\uFFFD') && !isUtf8(this.buffer.subarray(start, end));
  }

  /** Parses a header block if one is complete; returns false when more bytes are needed. */
  private readHeader(): boolean {
    const data = this.buffer;
    const start = this.offset;
    if (!isHeaderStart(data[start])) throw new FramingError(`expected a "Content-Length" header, got byte 0x${data[start].toString(16)}`, 'header');
    const quickEnd = quickHeaderEnd(data, start);
    if (quickEnd >= 0) {
      const length = digitsValue(data, start + CONTENT_LENGTH_PREFIX.length, quickEnd - CRLFCRLF.length);
      if (length <= this.maxMessageBytes) {
        this.bodyLength = length;
        this.offset = quickEnd;
        return true;
      }
    }
    const end = data.indexOf(CRLFCRLF, start);
    if (end < 0) {
      // Up to three bytes of the terminator may still be on their way.
      if (data.length - start > MAX_HEADER_BYTES + 3) throw new FramingError(`header longer than ${MAX_HEADER_BYTES} bytes`, 'header');
      return false;
    }
    if (end - start > MAX_HEADER_BYTES) throw new FramingError(`header longer than ${MAX_HEADER_BYTES} bytes`, 'header');
    // Any other header (the quick read above took every exact `Content-Length: N` within the limit).
    const header = parseHeader(data.toString('latin1', start, end), this.maxMessageBytes);
    if (header.attachments && !this.acceptAttachments) throw new FramingError('Content-Attachments sent before binaryAttachments was granted in initialize', 'header');
    this.bodyLength = header.length;
    this.attachmentLengths = header.attachments;
    this.offset = end + CRLFCRLF.length;
    return true;
  }
}

function isHeaderStart(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

const CONTENT_LENGTH_PREFIX = Buffer.from('Content-Length: ');

/**
 * The commonest header, exactly `Content-Length: N` (up to {@link MAX_EXACT_DIGITS} digits) and the blank line, found
 * byte by byte with no search and no call out of JavaScript: the offset just past it, or -1 for
 * any other header or an incomplete one (both read by the general path).
 */
function quickHeaderEnd(data: Buffer, start: number): number {
  const digits = start + CONTENT_LENGTH_PREFIX.length;
  if (data.length - digits < 5) return -1;
  for (let i = 0; i < CONTENT_LENGTH_PREFIX.length; i++) if (data[start + i] !== CONTENT_LENGTH_PREFIX[i]) return -1;
  let at = digits;
  while (at < data.length && data[at] >= 0x30 && data[at] <= 0x39) at++;
  if (at === digits || at - digits > MAX_EXACT_DIGITS || data.length - at < 4) return -1;
  if (data[at] !== 0x0d || data[at + 1] !== 0x0a || data[at + 2] !== 0x0d || data[at + 3] !== 0x0a) return -1;
  return at + 4;
}

/** The value of the decimal digits from `from` to `to`. */
function digitsValue(data: Buffer, from: number, to: number): number {
  let n = 0;
  for (let at = from; at < to; at++) n = n * 10 + (data[at] - 0x30);
  return n;
}

/** A byte count in a header: digits read exactly ({@link MAX_EXACT_DIGITS}); a list of them, comma-separated. */
const BYTE_COUNT = new RegExp(`^\\d{1,${MAX_EXACT_DIGITS}}$`);
const BYTE_COUNTS = new RegExp(`^\\d{1,${MAX_EXACT_DIGITS}}(,\\d{1,${MAX_EXACT_DIGITS}})*$`);

/** Parses `Name: value` lines; returns the Content-Length and the attachments' lengths, if any. */
function parseHeader(text: string, maxMessageBytes: number): { length: number; attachments?: number[] } {
  let length = -1;
  let attachments: number[] | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FramingError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`, 'header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (length >= 0) throw new FramingError('header has Content-Length twice', 'header');
      if (!BYTE_COUNT.test(value)) throw new FramingError(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count`, 'header');
      length = Number(value);
    } else if (name === 'content-attachments') {
      if (attachments) throw new FramingError('header has Content-Attachments twice', 'header');
      if (!BYTE_COUNTS.test(value)) throw new FramingError(`Content-Attachments ${JSON.stringify(value.slice(0, 40))} is not a list of byte counts (such as "65536,12")`, 'header');
      attachments = value.split(',').map(Number);
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
  if (attachments) {
    let total = 0;
    for (const n of attachments) total += n;
    if (total > length) throw new FramingError(`Content-Attachments announce ${total} bytes of attachments, more than the Content-Length of ${length}`, 'header');
  }
  return { length, attachments };
}

/** A message to send: its JSON text, or its JSON text with the attachments it refers to (SPEC 5.1). */
export type OutgoingMessage = string | AttachedMessage;

/**
 * A JSON text whose `$attachment` tags refer to `attachments`, by index; with none, a text whose
 * UTF-8 length is known (`bytes`), added up from its parts as it was written, so that framing it
 * need not measure it: measuring flattens the text, which the write then copies again.
 */
export interface AttachedMessage {
  readonly json: string;
  readonly attachments: readonly Buffer[];
  /** The UTF-8 length of `json`, when known. */
  readonly bytes?: number;
}

/** The bytes of a message's frame body (attachments included), when it may exceed `limit` and does; undefined when within it. */
export function bytesOver(message: OutgoingMessage, limit: number): number | undefined {
  const json = typeof message === 'string' ? message : message.json;
  let attached = 0;
  // Indexed, not for-of: run for every answer, for-of over its (nearly always empty) attachments
  // made an iterator and its result, 80 bytes of garbage an answer.
  if (typeof message !== 'string') for (let i = 0; i < message.attachments.length; i++) attached += message.attachments[i].length;
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: a short text is measured only when it could be over.
  if (json.length * 3 + attached <= limit) return undefined;
  const bytes = (typeof message !== 'string' && message.bytes !== undefined ? message.bytes : Buffer.byteLength(json)) + attached;
  return bytes > limit ? bytes : undefined;
}

/**
 * Frames a JSON text with attachments (SPEC 5.1): the header and the text as one string, then the
 * attachments as they are. `Content-Length` counts the whole body, the attachments included.
 */
export function frameWithAttachments(json: string, attachments: readonly Buffer[], bytes = Buffer.byteLength(json, 'utf8')): [string, ...Buffer[]] {
  let total = bytes;
  for (const a of attachments) total += a.length;
  return [`Content-Length: ${total}\r\nContent-Attachments: ${attachments.map((a) => a.length).join(',')}\r\n\r\n${json}`, ...attachments];
}

/** Frames one JSON text (of `bytes` UTF-8 bytes, when known): header and body in one string, ready for a single write. */
export function frameMessage(json: string, bytes = Buffer.byteLength(json, 'utf8')): string {
  return `Content-Length: ${bytes}\r\n\r\n${json}`;
}
