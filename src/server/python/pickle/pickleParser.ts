/**
 * Pickle's stack machine, run on bytes: it reads every opcode of protocols 0 to 5 but calls
 * nothing and imports nothing; what each opcode makes is a builder's (`pickleBuilder.ts`): a tree
 * of nodes, or the values themselves.
 *
 * Bounded by construction: each opcode makes at most one node and reads only bytes that are
 * there (a declared length beyond the data is an error before anything is allocated), the work
 * per opcode is proportional to what it consumes, and MARKs may nest only so deep.
 */

import { pickleErrorAt, PickleError } from './pickleError';
import { HIGHEST_PROTOCOL, Op as Opcodes, opName } from './pickleOpcodes';
import { decodeEscapedBytes, decodeRawUnicodeEscape, decodeUtf8, latin1Text, TextError } from './pickleText';
import type { PickleBuilder, PickleCursor, PickleMachine } from './pickleBuilder';
import { maxPickleOpcodes, tooManyOpcodes, tooManyValues } from '../../limits';
import { HELD_BYTES } from '../../heldBytes';
// Most decimal digits of an int read: the same bound as a `$int`'s, Python's own default.
import { MAX_INT_DIGITS } from '../../../common/valueCodec';

export { MAX_INT_DIGITS };
const INT_LIMIT = 10n ** BigInt(MAX_INT_DIGITS);
/** Bytes of a two's-complement int that can still be under {@link INT_LIMIT} (4300·log2(10)/8 ≈ 1786). */
const MAX_LONG_BYTES = 1787;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** The opcode table as a local constant: read per opcode, it must not cost an import lookup. */
const Op = Opcodes;
const MIN_SAFE = -MAX_SAFE;

/**
 * Runs a pickle's opcodes, handing what each makes to `builder` (see `pickleBuilder.ts`), and
 * returns what STOP leaves. `maxValues` bounds the work and memory of a crafted pickle: each
 * opcode costs a byte but may make an object, so the stack pushes (new objects and memo reuses)
 * and the memo entries are each counted against it.
 * @throws PickleError naming the opcode and offset of what is wrong, or what the builder throws.
 */
export function runPickle<T>(data: Uint8Array, maxMarks: number, maxValues: number, builder: PickleBuilder<T> & { attach?(machine: PickleMachine<T>): void }): T {
  const parser = new PickleParser(data, maxMarks, maxValues, builder);
  builder.attach?.(parser);
  return parser.run();
}

/**
 * Bytes a memo entry is counted to hold. One at the next index (Python's picklers number them 0, 1,
 * 2...) is a slot of an array, as a value's slot on the stack: the reader's machinery, any pickle
 * reader's (CPython's too), not counted, or CPython 3's ordinary pickles of small records (12 bytes
 * a record, a MEMOIZE each) would pass the rule; the value limit bounds them (800 KB at most). One
 * at any other index is a table's entry, counted: a crafted pickle could make many for 5 bytes each.
 */
const MEMO_SLOT = 0;
const MEMO_ENTRY = HELD_BYTES.tableEntry;
/** How far beyond the memo array's end an index still goes in the array (the slots between counted). */
const MEMO_GAP = 64;



class PickleParser<T> implements PickleCursor, PickleMachine<T> {
  private pos = 0;
  /** The stack, flat: items above the last mark are the current frame (as CPython's `fence`). */
  private readonly stack: T[] = [];
  /** Stack heights at each open MARK. */
  private readonly marks: number[] = [];
  /** The memo: indexes 0, 1, 2... as Python's pickler numbers them in an array, any other in a table. */
  private readonly memoList: T[] = [];
  private readonly memoTable = new Map<number, T>();
  /** Entries in the memo (MEMOIZE's next index). */
  private memoSize = 0;
  /** The opcode being run (its byte) and its offset, for messages. */
  private code: number = Op.PROTO;
  at = 0;
  protocol = 0;
  /** Pushes left before the pickle is refused as too costly. */
  private pushesLeft: number;

  constructor(
    private readonly data: Uint8Array,
    private readonly maxMarks: number,
    private readonly maxValues: number,
    private readonly builder: PickleBuilder<T>,
  ) {
    this.pushesLeft = maxValues;
  }

  run(): T {
    const data = this.data;
    const limit = maxPickleOpcodes(this.maxValues);
    let opcodesLeft = limit;
    while (this.pos < data.length) {
      this.at = this.pos;
      // Opcodes that make nothing (PROTO, POP_MARK, BINPUT again...) are bounded by this alone.
      if (--opcodesLeft < 0) throw pickleErrorAt(opName(data[this.pos]), this.pos, tooManyOpcodes(limit));
      const code = data[this.pos++];
      this.code = code;
      if (code === Op.STOP) return this.builder.result(this.pop());
      this.step(code);
    }
    throw pickleErrorAt('end of data', data.length, data.length === 0 ? 'the pickle is empty' : 'the pickle ends without STOP (truncated?)');
  }

  /** The opcode being run, named: only errors and the tree builder's nodes ask, so it is named when asked, not for every opcode. */
  get op(): string {
    return opName(this.code);
  }

  fail(message: string): PickleError {
    return pickleErrorAt(this.op, this.at, message);
  }

  // -- reading arguments ------------------------------------------------------------------------

  /** Checks that `n` more bytes of argument are there. */
  private need(n: number): void {
    const left = this.data.length - this.pos;
    if (n > left) throw this.fail(`needs ${n} bytes of argument but only ${left} remain`);
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  // Fixed-size arguments are read in place: a view per opcode would be most of the garbage.
  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const d = this.data;
    const p = (this.pos += 2);
    return d[p - 2] | (d[p - 1] << 8);
  }

  private i32(): number {
    this.need(4);
    const d = this.data;
    const p = (this.pos += 4);
    return d[p - 4] | (d[p - 3] << 8) | (d[p - 2] << 16) | (d[p - 1] << 24);
  }

  private u32(): number {
    return this.i32() >>> 0;
  }

  /** An 8-byte length; anything beyond the data is refused here, so it never needs to be exact. */
  private u64(): number {
    const b = this.take(8);
    const high = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
    const low = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    return high * 2 ** 32 + low;
  }

  /** A length-prefixed argument: checks the declared length against the data before taking it. */
  private counted(length: number): Uint8Array {
    const left = this.data.length - this.pos;
    if (length > left) throw this.fail(`declares ${length} bytes but only ${left} remain`);
    return this.take(length);
  }

  /** A protocol 0 argument: the bytes up to the next newline (which is consumed). */
  private line(): Uint8Array {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw this.fail('its argument has no terminating newline');
    const out = this.data.subarray(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  private asciiLine(): string {
    return latin1Text(this.line());
  }

  private text(bytes: Uint8Array): string {
    return this.decoded(decodeUtf8, bytes);
  }

  /** What `decode` makes of `bytes`, its TextError as this opcode's. */
  private decoded<R>(decode: (bytes: Uint8Array) => R, bytes: Uint8Array): R {
    try {
      return decode(bytes);
    } catch (error) {
      if (error instanceof TextError) throw this.fail(error.message);
      throw error;
    }
  }

  // -- the stack --------------------------------------------------------------------------------

  private get fence(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  private push(value: T): void {
    if (--this.pushesLeft < 0) throw this.fail(tooManyValues('pickle', this.maxValues));
    this.stack.push(value);
  }

  private pop(): T {
    if (this.stack.length <= this.fence) throw this.emptyStack();
    return this.stack.pop()!;
  }

  private top(): T {
    if (this.stack.length <= this.fence) throw this.emptyStack();
    return this.stack[this.stack.length - 1];
  }

  /** The error of an opcode taking more items than there are above the last MARK. */
  private emptyStack(): PickleError {
    return this.fail(this.marks.length ? 'the stack is empty above the last MARK' : 'the stack is empty');
  }

  /** The stack's top becomes `value`, when a builder replaced what it was. */
  private replaceTop(value: T | undefined): void {
    if (value !== undefined) this.stack[this.stack.length - 1] = value;
  }

  /** The stack's items from `from` on, taken off it into an array of exactly their number (a splice's may keep spare room). */
  private takeItems(from: number): T[] {
    const items = this.stack.slice(from);
    this.stack.length = from;
    return items;
  }

  /** The items pushed since the last MARK, which is closed. */
  private popMark(): T[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.fail('there is no MARK to close');
    return this.takeItems(mark);
  }

  /** Keys and values alternating: an even count. */
  private pairs(items: T[]): T[] {
    if (items.length % 2 !== 0) throw this.fail('an odd number of items (keys without values)');
    return items;
  }

  private int(value: number | bigint): void {
    this.push(this.builder.int(value));
  }

  private memoGet(index: number): void {
    const value = (index < this.memoList.length ? this.memoList[index] : undefined) ?? this.memoTable.get(index);
    if (value === undefined) throw this.fail(`memo index ${index} was never set`);
    this.reuse(value);
  }

  /** Pushes a value a second time (memo GET, DUP): it is shared from now on. */
  private reuse(value: T): void {
    this.builder.reuse(value);
    this.push(value);
  }

  private memoPut(index: number): void {
    const value = this.top();
    const list = this.memoList;
    const table = this.memoTable;
    const known = (index < list.length && list[index] !== undefined) || table.has(index);
    if (!known && this.memoSize >= this.maxValues) throw this.fail(tooManyValues('pickle', this.maxValues));
    if (!known) this.memoSize++;
    if (index - list.length >= MEMO_GAP) {
      table.set(index, value);
      this.builder.memoPut(value, index, known ? 0 : MEMO_ENTRY);
      return;
    }
    // Near the array's end (Python's picklers number entries 0, 1, 2..., CPython 2's skipping a few): in the array, each slot skipped counted.
    const skipped = Math.max(0, index - list.length);
    while (list.length < index) list.push(undefined as T);
    list[index] = value;
    if (known) table.delete(index);
    this.builder.memoPut(value, index, known ? 0 : MEMO_SLOT + skipped * HELD_BYTES.slot);
  }

  memoSwap(index: number, old: T, value: T): void {
    if (index < this.memoList.length && this.memoList[index] === old) {
      this.memoList[index] = value;
    } else if (this.memoTable.get(index) === old) {
      this.memoTable.set(index, value);
    }
  }

  // -- protocol 0 text arguments ------------------------------------------------------------------

  /** INT and LONG's decimal argument (INT's `00`/`01` are protocol 0's False and True). */
  private decimal(text: string, long: boolean): number | bigint | boolean {
    if (!long && text === '00') return false;
    if (!long && text === '01') return true;
    const digits = long && text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[+-]?\d+$/.test(digits)) throw this.fail(`${JSON.stringify(text.slice(0, 40))} is not a decimal integer`);
    if (digits.replace(/^[+-]/, '').length > MAX_INT_DIGITS) throw this.fail(`an int of more than ${MAX_INT_DIGITS} digits`);
    const n = Number(digits);
    return Number.isSafeInteger(n) ? n : BigInt(digits);
  }

  private memoIndex(text: string): number {
    if (!/^\d{1,15}$/.test(text)) throw this.fail(`${JSON.stringify(text.slice(0, 40))} is not a memo index`);
    return Number(text);
  }

  // -- the opcodes --------------------------------------------------------------------------------

  private step(code: number): void {
    switch (code) {
      case Op.PROTO: {
        const proto = this.u8();
        if (proto > HIGHEST_PROTOCOL) throw this.fail(`unsupported pickle protocol ${proto}`);
        this.protocol = proto;
        return;
      }
      case Op.FRAME: {
        // Frames only help readers buffer; their bytes are ordinary opcodes.
        const length = this.u64();
        if (length > this.data.length - this.pos) throw this.fail(`declares a frame of ${length} bytes but only ${this.data.length - this.pos} remain`);
        return;
      }
      case Op.MARK:
        if (this.marks.length >= this.maxMarks) throw this.fail(`more than ${this.maxMarks} MARKs open (nesting too deep)`);
        this.marks.push(this.stack.length);
        return;
      case Op.POP:
        // As CPython: with nothing above the last mark, POP discards the mark.
        if (this.stack.length > this.fence) this.stack.pop();
        else if (this.marks.length) this.marks.pop();
        else throw this.fail('the stack is empty');
        return;
      case Op.POP_MARK:
        this.popMark();
        return;
      case Op.DUP:
        this.reuse(this.top());
        return;

      // Memo
      case Op.MEMOIZE:
        this.memoPut(this.memoSize);
        return;
      case Op.BINPUT:
        this.memoPut(this.u8());
        return;
      case Op.LONG_BINPUT:
        this.memoPut(this.u32());
        return;
      case Op.PUT:
        this.memoPut(this.memoIndex(this.asciiLine()));
        return;
      case Op.BINGET:
        this.memoGet(this.u8());
        return;
      case Op.LONG_BINGET:
        this.memoGet(this.u32());
        return;
      case Op.GET:
        this.memoGet(this.memoIndex(this.asciiLine()));
        return;

      // Scalars
      case Op.NONE:
        this.push(this.builder.none());
        return;
      case Op.NEWTRUE:
      case Op.NEWFALSE:
        this.push(this.builder.bool(code === Op.NEWTRUE));
        return;
      case Op.BININT1:
        this.int(this.u8());
        return;
      case Op.BININT2:
        this.int(this.u16());
        return;
      case Op.BININT:
        this.int(this.i32());
        return;
      case Op.LONG1:
        this.int(this.long(this.u8()));
        return;
      case Op.LONG4: {
        const length = this.i32();
        if (length < 0) throw this.fail(`a negative byte count ${length}`);
        this.int(this.long(length));
        return;
      }
      case Op.INT:
      case Op.LONG: {
        const value = this.decimal(this.asciiLine(), code === Op.LONG);
        if (typeof value === 'boolean') this.push(this.builder.bool(value));
        else this.int(value);
        return;
      }
      case Op.BINFLOAT:
        this.push(this.builder.float(Buffer.from(this.take(8)).readDoubleBE(0)));
        return;
      case Op.FLOAT: {
        const text = this.asciiLine().trim();
        if (!/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)$/i.test(text)) throw this.fail(`${JSON.stringify(text.slice(0, 40))} is not a float`);
        const lower = text.toLowerCase().replace(/^\+/, '');
        const value = lower.endsWith('nan') ? NaN : lower.endsWith('inf') || lower.endsWith('infinity') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(text);
        this.push(this.builder.float(value));
        return;
      }

      // Strings and bytes
      case Op.SHORT_BINUNICODE:
        this.push(this.builder.str(this.text(this.counted(this.u8()))));
        return;
      case Op.BINUNICODE:
        this.push(this.builder.str(this.text(this.counted(this.u32()))));
        return;
      case Op.BINUNICODE8:
        this.push(this.builder.str(this.text(this.counted(this.u64()))));
        return;
      case Op.UNICODE:
        this.push(this.builder.str(this.decoded(decodeRawUnicodeEscape, this.line())));
        return;
      case Op.SHORT_BINSTRING:
        this.push(this.builder.pystr(this.counted(this.u8())));
        return;
      case Op.BINSTRING: {
        const length = this.i32();
        if (length < 0) throw this.fail(`a negative byte count ${length}`);
        this.push(this.builder.pystr(this.counted(length)));
        return;
      }
      case Op.STRING:
        this.push(this.builder.pystr(this.quoted(this.line())));
        return;
      case Op.SHORT_BINBYTES:
        this.push(this.builder.bytes('bytes', this.counted(this.u8())));
        return;
      case Op.BINBYTES:
        this.push(this.builder.bytes('bytes', this.counted(this.u32())));
        return;
      case Op.BINBYTES8:
        this.push(this.builder.bytes('bytes', this.counted(this.u64())));
        return;
      case Op.BYTEARRAY8:
        this.push(this.builder.bytes('bytearray', this.counted(this.u64())));
        return;

      // Containers
      case Op.EMPTY_LIST:
        this.push(this.builder.list([]));
        return;
      case Op.LIST:
        this.push(this.builder.list(this.popMark()));
        return;
      case Op.EMPTY_TUPLE:
        this.push(this.builder.tuple([]));
        return;
      case Op.TUPLE:
        this.push(this.builder.tuple(this.popMark()));
        return;
      case Op.TUPLE1:
      case Op.TUPLE2:
      case Op.TUPLE3: {
        const n = code - Op.TUPLE1 + 1;
        // As n pops would, but into an array of exactly n items.
        if (this.stack.length - this.fence < n) throw this.emptyStack();
        this.push(this.builder.tuple(this.takeItems(this.stack.length - n)));
        return;
      }
      case Op.EMPTY_DICT:
        this.push(this.builder.dict([]));
        return;
      case Op.DICT: {
        this.push(this.builder.dict(this.pairs(this.popMark())));
        return;
      }
      case Op.EMPTY_SET:
        this.push(this.builder.emptySet());
        return;
      case Op.FROZENSET:
        this.push(this.builder.frozenset(this.popMark()));
        return;
      case Op.APPEND: {
        const item = this.pop();
        this.replaceTop(this.builder.append(this.top(), [item], 'APPEND'));
        return;
      }
      case Op.APPENDS: {
        const items = this.popMark();
        this.replaceTop(this.builder.append(this.top(), items, 'APPENDS'));
        return;
      }
      case Op.SETITEM: {
        const value = this.pop();
        const key = this.pop();
        this.replaceTop(this.builder.setItems(this.top(), [key, value], 'SETITEM'));
        return;
      }
      case Op.SETITEMS: {
        const items = this.pairs(this.popMark());
        this.replaceTop(this.builder.setItems(this.top(), items, 'SETITEMS'));
        return;
      }
      case Op.ADDITEMS: {
        const items = this.popMark();
        this.replaceTop(this.builder.addItems(this.top(), items));
        return;
      }

      // Globals and objects: recorded, never resolved or called.
      case Op.GLOBAL: {
        const module = this.text(this.line());
        const name = this.text(this.line());
        this.push(this.builder.global(module, name));
        return;
      }
      case Op.STACK_GLOBAL: {
        const name = this.pop();
        const module = this.pop();
        this.push(this.builder.global(this.globalPart(module), this.globalPart(name)));
        return;
      }
      case Op.REDUCE: {
        const args = this.pop();
        this.push(this.builder.object('REDUCE', this.pop(), args));
        return;
      }
      case Op.NEWOBJ: {
        const args = this.pop();
        this.push(this.builder.object('NEWOBJ', this.pop(), args));
        return;
      }
      case Op.NEWOBJ_EX: {
        const kwargs = this.pop();
        const args = this.pop();
        this.push(this.builder.object('NEWOBJ_EX', this.pop(), args, kwargs));
        return;
      }
      case Op.INST: {
        const module = this.text(this.line());
        const name = this.text(this.line());
        const args = this.builder.tuple(this.popMark());
        this.push(this.builder.object('INST', this.builder.global(module, name), args));
        return;
      }
      case Op.OBJ: {
        const items = this.popMark();
        if (items.length === 0) throw this.fail('no class after the MARK');
        this.push(this.builder.object('OBJ', items[0], this.builder.tuple(items.slice(1))));
        return;
      }
      case Op.BUILD: {
        const state = this.pop();
        this.replaceTop(this.builder.build(this.top(), state));
        return;
      }

      // What Python itself refuses without a hook the manager never installs.
      case Op.PERSID:
      case Op.BINPERSID:
        throw this.fail('persistent ids are not supported (Python needs a persistent_load hook for them)');
      case Op.EXT1:
      case Op.EXT2:
      case Op.EXT4:
        throw this.fail('extension codes are not supported (the copyreg extension registry is empty)');
      case Op.NEXT_BUFFER:
      case Op.READONLY_BUFFER:
        throw this.fail('out-of-band buffers are not supported (Python needs buffers passed to loads)');
      default:
        throw this.fail('is not a pickle opcode');
    }
  }

  /** A STACK_GLOBAL operand: Python requires a str. */
  private globalPart(value: T): string {
    const text = this.builder.globalPart(value);
    if (text === undefined) throw this.fail(`the module and name must be str, not ${this.builder.describe(value)}`);
    return text;
  }


  /** STRING's argument: a quoted, backslash-escaped literal. */
  private quoted(line: Uint8Array): Uint8Array {
    const q = line[0];
    if (line.length < 2 || (q !== 0x22 && q !== 0x27) || line[line.length - 1] !== q) throw this.fail('its argument must be quoted');
    return this.decoded(decodeEscapedBytes, line.subarray(1, line.length - 1));
  }

  /** A little-endian two's-complement int of `length` bytes (LONG1, LONG4). */
  private long(length: number): number | bigint {
    const bytes = this.counted(length);
    if (length === 0) return 0;
    if (length <= 6) {
      let value = 0;
      for (let i = length - 1; i >= 0; i--) value = value * 256 + bytes[i];
      return bytes[length - 1] & 0x80 ? value - 2 ** (8 * length) : value;
    }
    // Bytes that only repeat the sign do not count towards the size (a crafted pickle may pad).
    let size = length;
    while (size > 1 && ((bytes[size - 1] === 0 && bytes[size - 2] < 0x80) || (bytes[size - 1] === 0xff && bytes[size - 2] >= 0x80))) size--;
    if (size > MAX_LONG_BYTES) throw this.fail(`an int of more than ${MAX_INT_DIGITS} digits`);
    const big = Buffer.from(bytes.subarray(0, size)).reverse();
    let value = BigInt(`0x${big.toString('hex')}`);
    if (big[0] & 0x80) value -= 1n << BigInt(8 * size);
    if (value >= INT_LIMIT || value <= -INT_LIMIT) throw this.fail(`an int of more than ${MAX_INT_DIGITS} digits`);
    return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  }
}
