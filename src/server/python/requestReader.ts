/**
 * The fast path for reading a Python client's request. Almost every request CPython's manager
 * client sends is the tuple `(ident, method, args, kwds)` whose arguments are plain scalars:
 * `q.put(5)`, `q.get()`, `d.get('key', None)`. This reader takes exactly that shape straight from
 * the opcodes, with no node tree and no memo, and gives up (undefined) on anything else, for the
 * general reader (`unpickle`) to read or refuse. Where it answers, its answer is the one
 * `unpickle` gives (the tests compare the two on requests from every supported Python), so the
 * choice of path never shows.
 *
 * Read here: PROTO 2 to 5 and one FRAME around everything; MARK, TUPLE, TUPLE1-3, EMPTY_TUPLE;
 * EMPTY_DICT with SETITEM/SETITEMS of str keys (the keyword arguments); None, True, False; ints
 * (BININT1, BININT2, BININT, LONG1 up to 6 bytes); BINFLOAT; str (SHORT_BINUNICODE, BINUNICODE,
 * and Python 2's SHORT_BINSTRING and BINSTRING as Latin-1); bytes (SHORT_BINBYTES, BINBYTES);
 * memo puts, which nothing reads back here. Nested containers, memo gets and every other
 * opcode go to the general reader.
 */

import { Float } from '../../common/valueTypes';
import { Op } from './pickle/pickleOpcodes';
import { decodeUtf8 } from './pickle/pickleText';

/** A request as the session serves it. */
export interface PythonRequest {
  /** The object's id (a str for method calls; None for control calls). */
  readonly ident: unknown;
  readonly method: string;
  /** The positional arguments. */
  readonly args: unknown[];
  /** The keyword arguments (a record without prototype). */
  readonly kwargs: Record<string, unknown>;
}

/** A tuple under construction on the reader's stack (the request and its args). */
class TupleOnStack {
  constructor(readonly items: unknown[]) {}
}

/** The keyword dict under construction on the reader's stack. */
class DictOnStack {
  readonly record: Record<string, unknown> = Object.create(null);
}

/**
 * Most items on the stack (and open MARKs) this path reads: a common request needs a handful.
 * Beyond it the general reader takes over, whose limits name the problem (a crafted pickle of
 * millions of EMPTY_DICTs must not grow this stack first).
 */
const MAX_FAST_STACK = 4096;

/**
 * Short str values decoded before, by their bytes: a client's requests repeat their object's id
 * and a few method names, and hashing and comparing a few bytes costs less than a call of the
 * native UTF-8 decoder. Bounded: emptied when full.
 */
const SHORT_TEXT_BYTES = 32;
const SHORT_TEXT_ENTRIES = 1024;
const shortTexts = new Map<number, { readonly bytes: Buffer; readonly text: string }>();

/** The UTF-8 str at `data[start..end)`, from {@link shortTexts} when it was read before. */
function shortText(data: Buffer, start: number, end: number): string {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
  const known = shortTexts.get(hash);
  if (known !== undefined && sameBytes(known.bytes, data, start, end)) return known.text;
  const bytes = data.subarray(start, end);
  const text = decodeUtf8(bytes);
  if (shortTexts.size >= SHORT_TEXT_ENTRIES) shortTexts.clear();
  shortTexts.set(hash, { bytes: Buffer.from(bytes), text });
  return text;
}

/** Whether `known` holds the bytes `data[start..end)` (compared here: `Buffer.equals` is a native call, which is what this saves). */
function sameBytes(known: Buffer, data: Buffer, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== data[start + i]) return false;
  return true;
}

/** Whether a value read here is a scalar (what an argument may be on this path). */
function isScalar(value: unknown): boolean {
  return !(value instanceof TupleOnStack || value instanceof DictOnStack);
}

/**
 * Reads a request of the common shape; undefined for anything else (the general reader then
 * reads it, or says what is wrong with it). Never throws.
 */
export function readRequest(frame: Buffer): PythonRequest | undefined {
  try {
    return new RequestReader(frame).read();
  } catch {
    // A count past the end, bad UTF-8...: the general reader names the problem.
    return undefined;
  }
}

/** One pass over one request's opcodes. */
class RequestReader {
  private pos = 0;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];

  constructor(private readonly data: Buffer) {}

  read(): PythonRequest | undefined {
    const { data, stack, marks } = this;
    const end = data.length;
    if (end < 3 || data[0] !== Op.PROTO || data[1] < 2 || data[1] > 5) return undefined;
    this.pos = 2;
    if (data[2] === Op.FRAME) {
      // One frame holding the rest: what Python writes for any pickle under 64 KiB.
      if (end < 11 || data.readUInt32LE(7) !== 0 || data.readUInt32LE(3) !== end - 11) return undefined;
      this.pos = 11;
    }
    while (this.pos < end) {
      const code = data[this.pos++];
      let value: unknown;
      switch (code) {
        case Op.MARK:
          if (marks.length >= MAX_FAST_STACK) return undefined;
          marks.push(stack.length);
          continue;
        case Op.STOP:
          if (this.pos !== end || marks.length !== 0 || stack.length !== 1) return undefined;
          return requestOf(stack[0]);
        case Op.MEMOIZE:
        case Op.BINPUT:
        case Op.LONG_BINPUT:
          // Nothing here reads the memo back; a put with nothing to put is the general reader's to refuse.
          if (stack.length <= this.fence()) return undefined;
          this.pos += code === Op.MEMOIZE ? 0 : code === Op.BINPUT ? 1 : 4;
          continue;
        case Op.TUPLE: {
          const start = marks.pop();
          if (start === undefined) return undefined;
          value = new TupleOnStack(stack.splice(start));
          break;
        }
        case Op.TUPLE1:
        case Op.TUPLE2:
        case Op.TUPLE3: {
          const count = code - Op.TUPLE1 + 1;
          if (stack.length - count < this.fence()) return undefined;
          value = new TupleOnStack(stack.splice(stack.length - count));
          break;
        }
        case Op.EMPTY_TUPLE:
          value = new TupleOnStack([]);
          break;
        case Op.EMPTY_DICT:
          value = new DictOnStack();
          break;
        case Op.SETITEM:
          if (stack.length - 3 < this.fence() || !setItems(stack, stack.length - 3)) return undefined;
          continue;
        case Op.SETITEMS: {
          const start = marks.pop();
          if (start === undefined || start === 0 || !setItems(stack, start - 1)) return undefined;
          continue;
        }
        case Op.NONE:
          value = null;
          break;
        case Op.NEWTRUE:
          value = true;
          break;
        case Op.NEWFALSE:
          value = false;
          break;
        case Op.BININT1:
          value = data[this.pos++];
          break;
        case Op.BININT2:
          value = data.readUInt16LE(this.pos);
          this.pos += 2;
          break;
        case Op.BININT:
          value = data.readInt32LE(this.pos);
          this.pos += 4;
          break;
        case Op.LONG1:
          value = this.long(data[this.pos++]);
          break;
        case Op.BINFLOAT: {
          const f = data.readDoubleBE(this.pos);
          this.pos += 8;
          // An integral float stays a float only if boxed, as the general reader does.
          value = Number.isInteger(f) ? new Float(f) : f;
          break;
        }
        case Op.SHORT_BINUNICODE:
          value = this.text(data[this.pos++], false);
          break;
        case Op.BINUNICODE:
          this.pos += 4;
          value = this.text(data.readUInt32LE(this.pos - 4), false);
          break;
        case Op.SHORT_BINSTRING:
          value = this.text(data[this.pos++], true);
          break;
        case Op.BINSTRING:
          this.pos += 4;
          value = this.text(data.readInt32LE(this.pos - 4), true);
          break;
        case Op.SHORT_BINBYTES:
          value = this.bytes(data[this.pos++]);
          break;
        case Op.BINBYTES:
          this.pos += 4;
          value = this.bytes(data.readUInt32LE(this.pos - 4));
          break;
        default:
          return undefined;
      }
      if (value === undefined || this.pos > end || stack.length >= MAX_FAST_STACK) return undefined;
      stack.push(value);
    }
    return undefined;
  }

  /** Where the innermost open MARK is (the stack below it is out of reach). */
  private fence(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  /** LONG1's int, when it has at most 6 bytes (longer ones may not fit a number: the general reader picks number or bigint). */
  private long(length: number): number | undefined {
    const { data, pos } = this;
    if (length > 6 || pos + length > data.length) return undefined;
    let n = 0;
    for (let i = length - 1; i >= 0; i--) n = n * 256 + data[pos + i];
    this.pos += length;
    return length && data[pos + length - 1] & 0x80 ? n - 2 ** (8 * length) : n;
  }

  /** A str of `length` bytes: UTF-8 (Python 3 str, Python 2 unicode) or Latin-1 (Python 2 str). */
  private text(length: number, latin1: boolean): string | undefined {
    const { data, pos } = this;
    if (length < 0 || pos + length > data.length) return undefined;
    this.pos += length;
    if (latin1) return data.toString('latin1', pos, pos + length);
    return length <= SHORT_TEXT_BYTES ? shortText(data, pos, pos + length) : decodeUtf8(data.subarray(pos, pos + length));
  }

  /** Bytes, copied: the value must not keep the whole message alive. */
  private bytes(length: number): Buffer | undefined {
    const { data, pos } = this;
    if (length < 0 || pos + length > data.length) return undefined;
    this.pos += length;
    return Buffer.from(data.subarray(pos, pos + length));
  }
}

/** SETITEM(S): the pairs above `at` go into the dict at `at`; false unless every key is a str and every value a scalar. */
function setItems(stack: unknown[], at: number): boolean {
  const dict = stack[at];
  if (!(dict instanceof DictOnStack) || (stack.length - at - 1) % 2 !== 0) return false;
  for (let i = at + 1; i < stack.length; i += 2) {
    const key = stack[i];
    const value = stack[i + 1];
    if (typeof key !== 'string' || !isScalar(value)) return false;
    dict.record[key] = value;
  }
  stack.length = at + 1;
  return true;
}

/** The request a finished value stands for, if it has the shape `(ident, str, (scalars...), {str: scalar})`. */
function requestOf(root: unknown): PythonRequest | undefined {
  if (!(root instanceof TupleOnStack) || root.items.length !== 4) return undefined;
  const [ident, method, args, kwds] = root.items;
  if (!isScalar(ident) || typeof method !== 'string' || !(args instanceof TupleOnStack) || !(kwds instanceof DictOnStack)) return undefined;
  if (!args.items.every(isScalar)) return undefined;
  return { ident, method, args: args.items, kwargs: kwds.record };
}
