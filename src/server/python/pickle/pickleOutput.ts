/**
 * A growing buffer of protocol 2 opcodes with a size limit, shared by the value writer
 * (`pickleWriter.ts`) and the writer of opaque objects (`pickleReemit.ts`). The limit is what keeps a
 * value with much sharing (a list holding the same big list a thousand times, which a pickle
 * without memo must spell out every time) from turning into an unbounded output.
 */

import { PickleError, PickleTooLarge } from './pickleError';
import { Op } from './pickleOpcodes';
import { encodeUtf8, latin1Text } from './pickleText';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Text up to this many characters is checked for the ASCII shortcut. */
const SHORT_TEXT = 64;
/** Python's pickler writes APPENDS and SETITEMS in batches of this many items. */
const BATCH = 1000;

/** Opcode output bounded by `maxBytes`; writing past it throws a PickleError. */
export class PickleOutput {
  private buffer = Buffer.allocUnsafe(256);
  private size: number;
  private readonly maxSize: number;

  constructor(
    maxBytes: number,
    /** What is being written, for the message when it is too large. */
    private readonly what = 'the pickle',
    /** Bytes kept free in front of the pickle, for a frame head (see {@link framed}). */
    private readonly headroom = 0,
  ) {
    this.size = headroom;
    this.maxSize = headroom + maxBytes;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.size - this.headroom;
  }

  /** A copy of what was written. */
  result(): Buffer {
    return Buffer.from(this.buffer.subarray(this.headroom, this.size));
  }

  /**
   * What was written, behind a 4-byte big-endian length head (made with a headroom of 4): a
   * message of `multiprocessing.connection`, in one buffer and without a copy.
   */
  framed(): Buffer {
    if (this.headroom !== 4) throw new Error('framed() needs a headroom of 4 bytes');
    this.buffer.writeInt32BE(this.size - 4, 0);
    return this.buffer.subarray(0, this.size);
  }

  private room(n: number): void {
    const need = this.size + n;
    if (need > this.maxSize) {
      const limit = this.maxSize - this.headroom;
      throw new PickleTooLarge(`${this.what} would be larger than ${limit} bytes (a value with much sharing is spelt out in full)`, limit);
    }
    if (need <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.min(Math.max(need, this.buffer.length * 2), this.maxSize));
    this.buffer.copy(grown, 0, 0, this.size);
    this.buffer = grown;
  }

  /** One opcode without argument. */
  op(code: number): void {
    this.room(1);
    this.buffer[this.size++] = code;
  }

  /** Raw bytes (an argument, or opcodes copied from a standalone pickle). */
  raw(data: Uint8Array): void {
    this.room(data.length);
    this.buffer.set(data, this.size);
    this.size += data.length;
  }

  private opWithLength(code: number, length: number, lengthBytes: 1 | 4): void {
    this.room(1 + lengthBytes);
    this.buffer[this.size++] = code;
    if (lengthBytes === 1) this.buffer[this.size++] = length;
    else this.size = this.buffer.writeUInt32LE(length, this.size);
  }

  proto(): void {
    this.op(Op.PROTO);
    this.op(2);
  }

  none(): void {
    this.op(Op.NONE);
  }

  bool(value: boolean): void {
    this.op(value ? Op.NEWTRUE : Op.NEWFALSE);
  }

  /**
   * An int. Python 2 has two int types: values that fit 64 bits are `int` there, which its own
   * pickler writes as protocol 0's INT beyond 32 bits (LONG1 would make a `long`); `py2` does so.
   */
  int(value: number | bigint, py2 = false): void {
    if (typeof value === 'number' && value >= INT32_MIN && value <= INT32_MAX) {
      if (value >= 0 && value <= 0xff) {
        this.op(Op.BININT1);
        this.op(value);
      } else if (value >= 0 && value <= 0xffff) {
        this.room(3);
        this.buffer[this.size++] = Op.BININT2;
        this.size = this.buffer.writeUInt16LE(value, this.size);
      } else {
        this.room(5);
        this.buffer[this.size++] = Op.BININT;
        this.size = this.buffer.writeInt32LE(value, this.size);
      }
      return;
    }
    const big = BigInt(value);
    if (big >= BigInt(INT32_MIN) && big <= BigInt(INT32_MAX)) return this.int(Number(big), py2);
    if (py2 && big >= INT64_MIN && big <= INT64_MAX) {
      this.op(Op.INT);
      this.raw(Buffer.from(`${big}\n`, 'latin1'));
      return;
    }
    const bytes = longBytes(big);
    if (bytes.length < 256) this.opWithLength(Op.LONG1, bytes.length, 1);
    else this.opWithLength(Op.LONG4, bytes.length, 4);
    this.raw(bytes);
  }

  float(value: number): void {
    this.room(9);
    this.buffer[this.size++] = Op.BINFLOAT;
    this.size = this.buffer.writeDoubleBE(value, this.size);
  }

  /** A Python 3 str (Python 2 unicode). */
  unicode(text: string): void {
    // Short ASCII text (names, ids, most keys) is copied as it is, without an intermediate buffer.
    if (text.length <= SHORT_TEXT && this.ascii(text)) return;
    const bytes = encodeUtf8(text);
    this.opWithLength(Op.BINUNICODE, bytes.length, 4);
    this.raw(bytes);
  }

  /** Writes `text` as BINUNICODE if it is all ASCII; false (nothing written) otherwise. */
  private ascii(text: string): boolean {
    this.room(5 + text.length);
    const start = this.size + 5;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return false;
      this.buffer[start + i] = c;
    }
    this.buffer[this.size] = Op.BINUNICODE;
    this.buffer.writeUInt32LE(text.length, this.size + 1);
    this.size = start + text.length;
    return true;
  }

  /** A Python 2 str: its bytes as they are. */
  binstring(bytes: Uint8Array): void {
    if (bytes.length < 256) this.opWithLength(Op.SHORT_BINSTRING, bytes.length, 1);
    else this.opWithLength(Op.BINSTRING, bytes.length, 4);
    this.raw(bytes);
  }

  /** Python 3 bytes, as protocol 2 writes them: `_codecs.encode(<latin-1 text>, 'latin1')`. */
  bytesViaCodecs(bytes: Uint8Array): void {
    this.global('_codecs', 'encode');
    this.unicode(latin1Text(bytes));
    this.unicode('latin1');
    this.op(Op.TUPLE2);
    this.op(Op.REDUCE);
  }

  /** GLOBAL `module name`: a protocol 0 argument, so neither may contain a newline. */
  global(module: string, name: string): void {
    if (module.includes('\n') || name.includes('\n')) {
      throw new PickleError(`the global ${JSON.stringify(`${module}.${name}`)} cannot be written: a newline in a module or class name`);
    }
    this.op(Op.GLOBAL);
    this.raw(encodeUtf8(`${module}\n${name}\n`));
  }

  /** A tuple of `items`, each written by `write`. */
  tuple<T>(items: readonly T[], write: (item: T) => void): void {
    if (items.length === 0) return this.op(Op.EMPTY_TUPLE);
    if (items.length > 3) this.op(Op.MARK);
    for (const item of items) write(item);
    this.op(items.length > 3 ? Op.TUPLE : Op.TUPLE1 + items.length - 1);
  }

  /** APPEND/APPENDS of `items` to the list (or object) on the stack, in Python's batches. */
  appends<T>(items: readonly T[], write: (item: T) => void): void {
    for (let start = 0; start < items.length; start += BATCH) {
      const end = Math.min(items.length, start + BATCH);
      if (end - start > 1) this.op(Op.MARK);
      for (let i = start; i < end; i++) write(items[i]);
      this.op(end - start > 1 ? Op.APPENDS : Op.APPEND);
    }
  }

  /** SETITEM/SETITEMS of `count` pairs, pair `i` written by `write(i)`, in Python's batches. */
  setitems(count: number, write: (i: number) => void): void {
    for (let start = 0; start < count; start += BATCH) {
      const end = Math.min(count, start + BATCH);
      if (end - start > 1) this.op(Op.MARK);
      for (let i = start; i < end; i++) write(i);
      this.op(end - start > 1 ? Op.SETITEMS : Op.SETITEM);
    }
  }
}

/** An int as LONG1/LONG4 store it: little-endian two's complement, as few bytes as possible. */
export function longBytes(value: bigint): Buffer {
  if (value === 0n) return Buffer.alloc(0);
  const negative = value < 0n;
  // A negative value is the complement of a non-negative one: encode that, then flip every bit.
  const magnitude = negative ? -value - 1n : value;
  let hex = magnitude.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] ^= 0xff;
  return bytes.reverse();
}
