/**
 * A Python request whose arguments would cost far more built than they weigh (a pickle of empty
 * dicts: one byte each, a JavaScript object and a node of some 200 bytes each) keeps such an
 * argument as a pickle of its own ({@link PackedPickle}), cut from its bytes in the request, so
 * that reading one message holds at most 4 times its bytes plus `READ_BYTES_PER_MESSAGE` (SPEC
 * §19). Passes over the opcodes that build nothing: one, allocating nothing, tells whether the
 * request may exceed the rule at all; then one tracking offsets, kinds and nesting in typed arrays
 * finds each argument's bytes and refuses to cut what the reader would refuse; one checks that an
 * argument stands alone (its memo gets read only its own memo puts, and nothing outside reads its
 * puts) and estimates its cost.
 *
 * An argument holding globals and the objects made of them (GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ,
 * NEWOBJ_EX, BUILD: a datetime, a user's class, a Python 2 set) is cut too, unless it holds a
 * proxy's or a token's global (the reader makes those references, with the session) or shares a
 * container with itself through the memo (the bound on the opaque values' bytes below follows a
 * tree only). Under `--no-opaque-pickles` a pickle with a global that is not harmless (an
 * allow-listed one or a harmless standard library class, `pickleGlobals.harmlessGlobal`) is read
 * whole, so the reader refuses it naming the class, as before. Protocol 0's text opcodes (but
 * GLOBAL), INST, OBJ, POP and DUP are never cut around. The rest of the request is read by the usual reader, with `None`
 * where each argument cut was.
 */

import { isUtf8 } from 'node:buffer';
import { argumentCountRefused, maxPickleOpcodes, READ_BYTES_PER_MESSAGE } from '../../limits';
import { PackedPickle } from './packedPickle';
import { globalRole, harmlessGlobal } from './pickleGlobals';
import { HIGHEST_PROTOCOL, Op } from './pickleOpcodes';
import { DEFAULT_MAX_DEPTH, defaultMaxOpaqueBytes } from './pickleReader';
import type { PickleDialect } from './pickleWriter';

/** Estimated heap bytes of values and nodes beyond 4 times the bytes the built arguments may cost. */
const BUDGET = READ_BYTES_PER_MESSAGE / 2;
/** Estimated heap bytes per object a pickle makes, built and read (`decode-memory.test.ts`: 145 to 210 for containers). */
const COST_CONTAINER = 256;
const COST_SCALAR = 96;
/** What keeping an argument as a pickle costs (its object, its buffer's header). */
const PACKING_COST = 256;

/** A request frame with its costliest arguments cut out: `frame` holds `None` in their places. */
export interface PackedRequest {
  readonly frame: Buffer;
  /** The arguments kept as pickles, by position (a number) or keyword (a string). */
  readonly packed: ReadonlyMap<number | string, PackedPickle>;
  /** What the opaque values of `frame` may take, as for the whole request (the arguments cut take none of it: see `objectsBound`). */
  readonly maxOpaqueBytes: number;
}

/**
 * A request passing more arguments than a call may, told from its bytes before anything is built: one-byte
 * arguments (`None`, `True`) would otherwise meet the read budget first, whose refusal says less.
 */
export interface RefusedRequest {
  /** The refusal, naming the count and the limit (`limits.argumentCountRefused`). */
  readonly tooManyArguments: string;
}

/** The analysis found something it does not cut around: the request is read whole. */
class ReadWhole extends Error {}

/** Opcodes that make one value of their own, by the bytes of argument they take (a length prefix's width, negative). */
const PUSH_ARGUMENT = new Int8Array(256).fill(-128);
for (const [op, n] of [
  [Op.NONE, 0], [Op.NEWTRUE, 0], [Op.NEWFALSE, 0], [Op.BININT1, 1], [Op.BININT2, 2], [Op.BININT, 4], [Op.BINFLOAT, 8],
  [Op.LONG1, -1], [Op.LONG4, -4], [Op.SHORT_BINUNICODE, -1], [Op.BINUNICODE, -4], [Op.BINUNICODE8, -8],
  [Op.SHORT_BINSTRING, -1], [Op.BINSTRING, -4], [Op.SHORT_BINBYTES, -1], [Op.BINBYTES, -4], [Op.BINBYTES8, -8], [Op.BYTEARRAY8, -8],
  [Op.EMPTY_LIST, 0], [Op.EMPTY_TUPLE, 0], [Op.EMPTY_DICT, 0], [Op.EMPTY_SET, 0],
] as const) PUSH_ARGUMENT[op] = n;

/** The protocol each opcode a cut argument may hold first appeared in (others: 2 or lower). */
const PROTOCOL_OF = new Uint8Array(256).fill(2);
for (const op of [Op.BINBYTES, Op.SHORT_BINBYTES]) PROTOCOL_OF[op] = 3;
for (const op of [Op.SHORT_BINUNICODE, Op.BINUNICODE8, Op.BINBYTES8, Op.EMPTY_SET, Op.ADDITEMS, Op.FROZENSET, Op.STACK_GLOBAL, Op.NEWOBJ_EX]) PROTOCOL_OF[op] = 4;
PROTOCOL_OF[Op.BYTEARRAY8] = 5;

/** What a value on the stack or in the memo is, as far as the reader's checks go. */
const SCALAR = 0;
const LIST = 1;
const DICT = 2;
const SET = 3;
const FROZENSET = 4;
const TUPLE = 5;
const HASHABLE_TUPLE = 6;
const BYTEARRAY = 7;
/** An object made by a call (REDUCE, NEWOBJ, NEWOBJ_EX): hashable as far as the reader checks, filled only by what the reader records. */
const OBJECT = 8;
/** A global (GLOBAL, STACK_GLOBAL): hashable, never filled. */
const GLOBAL = 9;
const MUTABLE = new Set([LIST, DICT, SET]);
const HASHABLE = new Set([SCALAR, FROZENSET, HASHABLE_TUPLE, OBJECT, GLOBAL]);
/** What a global is to the reader: nothing it knows, a set (whose members it checks), a proxy's or token's, another it knows. */
const ROLE_NONE = 0;
const ROLE_SET = 1;
const ROLE_PROXY = 2;
const ROLE_KNOWN = 3;
/** `bytearray(x)`: the reader reads x first, and writes the call back whole if x is no bytes (an object read twice: not followed here). */
const ROLE_BYTEARRAY = 4;
/** Opcodes that make a global or an object (GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, NEWOBJ_EX), and BUILD. */
const OBJECT_OPS = new Set<number>([Op.GLOBAL, Op.STACK_GLOBAL, Op.REDUCE, Op.NEWOBJ, Op.NEWOBJ_EX, Op.BUILD]);
const KIND_OF = new Uint8Array(256);
KIND_OF[Op.EMPTY_LIST] = LIST;
KIND_OF[Op.LIST] = LIST;
KIND_OF[Op.EMPTY_DICT] = DICT;
KIND_OF[Op.DICT] = DICT;
KIND_OF[Op.EMPTY_SET] = SET;
KIND_OF[Op.FROZENSET] = FROZENSET;
KIND_OF[Op.EMPTY_TUPLE] = HASHABLE_TUPLE;
KIND_OF[Op.BYTEARRAY8] = BYTEARRAY;

/** Opcodes whose argument is UTF-8 text. */
const TEXT_OPS = new Set<number>([Op.SHORT_BINUNICODE, Op.BINUNICODE, Op.BINUNICODE8]);
/** Opcodes of Python 2's `str` (Latin-1 text to the reader). */
const PY2_TEXT_OPS = new Set<number>([Op.SHORT_BINSTRING, Op.BINSTRING]);

/**
 * Most bytes the reader writes back for a value an opcode pushes, when it keeps it inside an
 * opaque value (`pickleReemit.ts`, without memo, protocol 2): `wire` is the opcode's bytes. A str
 * or int is written at most 3 bytes longer; bytes as `_codecs.encode(text, 'latin1')`, its
 * Latin-1 text up to twice as long in UTF-8, 34 bytes besides; a bytearray as
 * `bytearray(<that>)`, 24 more.
 */
function rewrittenBytes(op: number, wire: number): number {
  if (op === Op.SHORT_BINBYTES || op === Op.BINBYTES || op === Op.BINBYTES8) return 2 * wire + 32;
  if (op === Op.BYTEARRAY8) return 2 * wire + 48;
  return wire + 3;
}
/** What a container adds to its items when written back (a set is `set([...])`: a global, a list, a call), and each batch of a thousand items. */
const REWRITTEN_CONTAINER = 24;
const rewrittenBatches = (items: number) => 2 * Math.ceil(items / 1000);

/** The length of a length-prefixed opcode's data (the text of a str). */
function textLength(data: Buffer, op: number, argAt: number): number {
  return op === Op.SHORT_BINUNICODE ? data[argAt] : op === Op.BINUNICODE ? data.readUInt32LE(argAt) : Number(data.readBigUInt64LE(argAt));
}

/** The reader's limits, as `unpickle` applies them by default: MARKs open, nesting (the request and its args tuple take two levels). */
const MAX_MARKS = DEFAULT_MAX_DEPTH + 1;
const MAX_ARGUMENT_DEPTH = DEFAULT_MAX_DEPTH - 2;
/** LONG1/LONG4 byte counts that may still be under the reader's 4300 digits (it reads them; a larger one is refused there). */
const MAX_LONG_BYTES = 1700;

const CONTAINERS = new Set<number>([Op.EMPTY_LIST, Op.EMPTY_TUPLE, Op.EMPTY_DICT, Op.EMPTY_SET, Op.TUPLE, Op.TUPLE1, Op.TUPLE2, Op.TUPLE3, Op.LIST, Op.DICT, Op.FROZENSET]);

/**
 * The request with its costliest arguments kept as pickles; undefined when none needs to be (it
 * is read whole then, and any fault in it reported as usual). Never throws.
 */
export function packPickledArguments(frame: Buffer, maxValues: number, opaquePickles = false): PackedRequest | RefusedRequest | undefined {
  // Each byte makes at most one object: a short pickle cannot exceed the rule.
  if (frame.length * (COST_CONTAINER - 4) <= BUDGET) return undefined;
  try {
    return new Analysis(frame, maxValues, opaquePickles).run();
  } catch {
    // Anything the passes do not follow (ReadWhole, a count past the end, or a fault of their own) is read whole by the reader, which reads every request.
    return undefined;
  }
}

/** One argument's bytes, `[start, end)`, and what the second pass learnt of it. */
interface Argument {
  /** Its position, or its keyword. */
  readonly index: number | string;
  readonly start: number;
  readonly end: number;
  estimate: number;
  standalone: boolean;
  protocol: number;
  /** Whether it holds Python 2's `str` (BINSTRING), or a unicode str. */
  py2Text: boolean;
  py3Text: boolean;
  /** Memo entries it makes that did not exist (which MEMOIZE's numbering after it skips). */
  newEntries: number;
  /** Most bytes the opaque values made of it may take (valid while it shares no container through the memo). */
  readonly bound: number;
  /** Whether it holds a global or an object; whether one of those is on the allow-list (then it is not spliced: the writer names those for each Python). */
  holdsObjects: boolean;
  holdsKnown: boolean;
  /** The memo's size where it starts (MEMOIZE numbers its entries from there). */
  memoBefore: number;
}

class Analysis {
  private readonly data: Buffer;
  private pos = 0;
  /** Whether the pickle's memo puts are MEMOIZE (numbered by the memo's size) or explicit indices. */
  private memoStyle: 'none' | 'implicit' | 'explicit' = 'none';
  /** Offsets, in order, found by the first pass: the opcodes making globals and objects; of those, the proxies' and tokens' and the other allow-listed; the memo gets of a container or object. */
  private readonly objectsAt: number[] = [];
  private readonly proxiesAt: number[] = [];
  private readonly knownAt: number[] = [];
  private readonly sharedContainersAt: number[] = [];
  /** What the opaque values of the whole request may take, as the reader allows them. */
  private readonly maxOpaqueBytes: number;

  constructor(
    data: Buffer,
    private readonly maxValues: number,
    /** `opaquePickles`: if false, a pickle holding a global that is not harmless is read whole, and refused there as before. */
    private readonly opaquePickles: boolean,
  ) {
    this.data = data;
    this.maxOpaqueBytes = defaultMaxOpaqueBytes(data.length);
  }

  run(): PackedRequest | RefusedRequest | undefined {
    if (!this.mayExceed()) return undefined;
    const args = this.findArguments();
    const tooManyArguments = argumentCountRefused(args.length);
    if (tooManyArguments) return { tooManyArguments };
    if (args.length === 0) return undefined;
    this.inspect(args);
    this.checkObjects(args);
    let over = -BUDGET;
    for (const a of args) over += Math.max(0, a.estimate - 4 * (a.end - a.start));
    if (over <= 0) return undefined;
    const chosen: Argument[] = [];
    for (const a of args.filter((x) => x.standalone && x.estimate - 4 * (x.end - x.start) > PACKING_COST).sort((x, y) => y.estimate - 4 * (y.end - y.start) - (x.estimate - 4 * (x.end - x.start)))) {
      if (over <= 0) break;
      chosen.push(a);
      over -= a.estimate - 4 * (a.end - a.start);
    }
    if (chosen.length === 0) return undefined;
    chosen.sort((x, y) => x.start - y.start);
    return this.cut(chosen);
  }

  /** Whether the whole pickle, built, may cost more than the rule allows: one pass that allocates nothing, for every request read here. */
  private mayExceed(): boolean {
    let estimate = -4 * this.data.length - BUDGET;
    // Each opcode counted here but BUILD (which changes the object below it) is a push the reader
    // counts too: past the value limit, the reader refuses the request after as many opcodes, so
    // this pass need not read the rest (a 32 MiB bomb of `}` cost a pass over all of it first).
    let values = 0;
    this.rewind();
    for (;;) {
      const { op } = this.next();
      if (op === Op.STOP) return estimate > 0;
      if (CONTAINERS.has(op) || OBJECT_OPS.has(op)) estimate += COST_CONTAINER;
      else if (PUSH_ARGUMENT[op] !== -128 || op === Op.BINGET || op === Op.LONG_BINGET) estimate += COST_SCALAR;
      else continue;
      if (op !== Op.BUILD && ++values > this.maxValues) return false;
    }
  }

  // -- reading opcodes ---------------------------------------------------------------------------

  /** Opcodes this pass may still read: as many as the reader runs before it refuses the pickle. */
  private opcodesLeft = 0;

  /** Starts a pass at the first opcode. */
  private rewind(): void {
    this.pos = 0;
    this.opcodesLeft = maxPickleOpcodes(this.maxValues);
  }

  /** The opcode at `pos` and where the next one starts. @throws ReadWhole for opcodes not handled here. */
  private next(): { op: number; at: number; argAt: number; after: number } {
    const data = this.data;
    const at = this.pos;
    // Past the reader's limit it is read whole, and refused there: no pass reads further.
    if (at >= data.length || --this.opcodesLeft < 0) throw new ReadWhole();
    const op = data[at];
    const argAt = at + 1;
    let after: number;
    const push = PUSH_ARGUMENT[op];
    if (push >= 0) after = argAt + push;
    else if (push !== -128) {
      const width = -push;
      const length = width === 1 ? data[argAt] : width === 4 ? data.readUInt32LE(argAt) : Number(data.readBigUInt64LE(argAt));
      if (op === Op.BINSTRING && data.readInt32LE(argAt) < 0) throw new ReadWhole();
      after = argAt + width + length;
    } else {
      switch (op) {
        case Op.MARK: case Op.STOP: case Op.MEMOIZE: case Op.TUPLE: case Op.TUPLE1: case Op.TUPLE2: case Op.TUPLE3:
        case Op.LIST: case Op.DICT: case Op.FROZENSET: case Op.APPEND: case Op.APPENDS: case Op.SETITEM: case Op.SETITEMS: case Op.ADDITEMS:
          after = argAt;
          break;
        case Op.PROTO: case Op.BINPUT: case Op.BINGET:
          after = argAt + 1;
          break;
        case Op.LONG_BINPUT: case Op.LONG_BINGET:
          after = argAt + 4;
          break;
        case Op.FRAME:
          after = argAt + 8;
          break;
        case Op.GLOBAL: {
          // Two lines: the module and the name.
          const first = data.indexOf(0x0a, argAt);
          const second = first < 0 ? -1 : data.indexOf(0x0a, first + 1);
          if (second < 0) throw new ReadWhole();
          after = second + 1;
          break;
        }
        case Op.STACK_GLOBAL: case Op.REDUCE: case Op.NEWOBJ: case Op.NEWOBJ_EX: case Op.BUILD:
          after = argAt;
          break;
        default:
          throw new ReadWhole();
      }
    }
    if (after > data.length) throw new ReadWhole();
    this.pos = after;
    return { op, at, argAt, after };
  }

  /**
   * First pass: the arguments' bytes, from the stack of where each value started; and whether the
   * reader would read the pickle as it is: the kind, nesting and hashability of each value on the
   * stack and in the memo are followed, so that a pickle the reader refuses (an item appended to a
   * dict, an unhashable key, a value inside itself, nesting beyond its limit, bad UTF-8, too many
   * values) is read whole, and refused there as before, never kept to fail later.
   */
  private findArguments(): Argument[] {
    const data = this.data;
    // Each value pushed took a byte at least, and more than maxValues are refused: bounded by both.
    const room = Math.min(data.length, this.maxValues) + 1;
    const starts = new Int32Array(room);
    const kinds = new Uint8Array(room);
    const depths = new Int32Array(room);
    /** Whether the value was pushed by a memo get (a container filled again after that is left to the reader). */
    const gotten = new Uint8Array(room);
    /**
     * The lowest stack position of a container still being made that the value reaches through
     * memo gets (room: none). A container made or filled with a value reaching it, or a container
     * below it, might end up inside itself, which the reader refuses: such a pickle is read whole.
     */
    const reaches = new Int32Array(room);
    const memoReaches = new Int32Array(room);
    const markHeights = new Int32Array(MAX_MARKS + 1);
    const markOffsets = new Int32Array(MAX_MARKS + 1);
    const memoKinds = new Uint8Array(room);
    const memoDepths = new Int32Array(room);
    const memoHeights = new Int32Array(room);
    const memoStarts = new Int32Array(room).fill(-1);
    /** Most bytes each value takes written back in an opaque value ({@link rewrittenBytes}); exact only for values never filled after a memo put. */
    const sizes = new Float64Array(room);
    const memoSizes = new Float64Array(room);
    /** The offset of the str opcode a value is (-1: none), for STACK_GLOBAL's names. */
    const textsAt = new Int32Array(room);
    const memoTextsAt = new Int32Array(room);
    /** Whether every item of a list or tuple is hashable (`set(items)` checks it); for a tuple, whether its first item's are (a set's REDUCE arguments). */
    const itemsHashable = new Uint8Array(room);
    const firstItemsHashable = new Uint8Array(room);
    /** A global's role ({@link ROLE_NONE}...). */
    const roles = new Uint8Array(room);
    const memoRoles = new Uint8Array(room);
    /** For a tuple, its first item's kind (`bytearray(x)`'s x). */
    const firstKinds = new Uint8Array(room);
    let height = 0;
    let marks = 0;
    let pushes = 0;
    let memoSize = 0;
    let argStarts: number[] = [];
    let argBounds: number[] = [];
    let argsTuple = -1;
    let argsEnd = -1;
    let root: number[] | undefined;
    /** The keyword arguments' values found so far, and where their dict starts (the request's fourth item). */
    const keywords: { key: string; start: number; end: number; bound: number }[] = [];
    let keywordsAt = -1;
    /** Notes the values set in the keyword dict at `into` by SETITEM(S) of the pairs at `from..to`, the opcode at `at`. */
    const noteKeywords = (into: number, from: number, to: number, at: number) => {
      if (marks !== 1 || into !== markHeights[0] + 3 || kinds[into] !== DICT) return;
      keywordsAt = starts[into];
      for (let i = from; i < to; i += 2) {
        // Keys other than str are left to the reader (which refuses them as keywords).
        if (textsAt[i] < 0) throw new ReadWhole();
        keywords.push({ key: this.textAt(textsAt[i]), start: starts[i + 1], end: i + 2 < to ? starts[i + 2] : at, bound: sizes[i + 1] });
      }
    };
    const fence = () => (marks ? markHeights[marks - 1] : 0);
    const push = (at: number, kind: number, depth: number, size: number, got = 0, reach = room) => {
      if (++pushes > this.maxValues || height >= room || depth > MAX_ARGUMENT_DEPTH) throw new ReadWhole();
      sizes[height] = size;
      textsAt[height] = -1;
      itemsHashable[height] = 1;
      firstItemsHashable[height] = 1;
      roles[height] = ROLE_NONE;
      firstKinds[height] = SCALAR;
      gotten[height] = got;
      reaches[height] = reach;
      starts[height] = at;
      kinds[height] = kind;
      depths[height++] = depth;
    };
    /** The kind of a new container of `items` (stack entries from `from`), checked as the reader checks keys and members. */
    const hashableFrom = (from: number, to: number, step: number) => {
      for (let i = from; i < to; i += step) if (!HASHABLE.has(kinds[i])) return false;
      return true;
    };
    const sizeOf = (from: number, to: number) => {
      let total = 0;
      for (let i = from; i < to; i++) total += sizes[i];
      return total;
    };
    /** What a tuple or list made of the items at `from..to` notes of them ({@link itemsHashable}...), read before it is pushed over them. */
    const itemsOf = (from: number, to: number): [number, number, number] => [hashableFrom(from, to, 1) ? 1 : 0, to > from ? itemsHashable[from] : 1, to > from ? kinds[from] : SCALAR];
    const noteItems = ([all, first, kind]: [number, number, number]) => {
      itemsHashable[height - 1] = all;
      firstItemsHashable[height - 1] = first;
      firstKinds[height - 1] = kind;
    };
    const lowestReach = (from: number, to: number) => {
      let r = room;
      for (let i = from; i < to; i++) r = Math.min(r, reaches[i]);
      return r;
    };
    const deepest = (from: number, to: number) => {
      let d = 0;
      for (let i = from; i < to; i++) d = Math.max(d, depths[i]);
      return d;
    };
    /** Items `from..to` go into the container (or object: the reader records what is added to one) at `into`. */
    const nest = (into: number, from: number, to: number, kind: number, step: number, keysOnly: boolean, batches: number) => {
      const object = kinds[into] === OBJECT;
      if ((kinds[into] !== kind && !object) || gotten[into] || lowestReach(from, to) <= into) throw new ReadWhole();
      if (keysOnly && !object && !hashableFrom(from, to, step)) throw new ReadWhole();
      if (kind === LIST && !hashableFrom(from, to, 1)) itemsHashable[into] = 0;
      sizes[into] += sizeOf(from, to) + batches;
      depths[into] = Math.max(depths[into], deepest(from, to) + 1);
      if (depths[into] > MAX_ARGUMENT_DEPTH) throw new ReadWhole();
    };
    this.rewind();
    for (;;) {
      const { op, at, argAt, after } = this.next();
      if (PUSH_ARGUMENT[op] !== -128) {
        if (TEXT_OPS.has(op) && !isUtf8(data.subarray(after - textLength(data, op, argAt), after))) throw new ReadWhole();
        if ((op === Op.LONG1 || op === Op.LONG4) && after - argAt > MAX_LONG_BYTES) throw new ReadWhole();
        const kind = KIND_OF[op];
        push(at, kind, kind === SCALAR ? 0 : 1, kind === SCALAR || kind === BYTEARRAY ? rewrittenBytes(op, after - at) : REWRITTEN_CONTAINER);
        if (TEXT_OPS.has(op) || PY2_TEXT_OPS.has(op)) textsAt[height - 1] = at;
        // The request's args may be `()`: no arguments, its keywords may still be cut.
        if (op === Op.EMPTY_TUPLE && marks === 1 && height === markHeights[0] + 3) [argStarts, argBounds, argsTuple, argsEnd] = [[], [], at, at];
        continue;
      }
      switch (op) {
        case Op.PROTO:
          if (at !== 0 || data[argAt] > HIGHEST_PROTOCOL) throw new ReadWhole();
          continue;
        case Op.FRAME:
          if (Number(data.readBigUInt64LE(argAt)) > data.length - after) throw new ReadWhole();
          continue;
        case Op.MEMOIZE: case Op.BINPUT: case Op.LONG_BINPUT: {
          this.noteMemoStyle(op === Op.MEMOIZE ? 'implicit' : 'explicit');
          const index = op === Op.MEMOIZE ? memoSize : op === Op.BINPUT ? data[argAt] : data.readUInt32LE(argAt);
          if (height <= fence() || index >= room) throw new ReadWhole();
          if (memoStarts[index] === -1 && ++memoSize >= this.maxValues) throw new ReadWhole();
          memoKinds[index] = kinds[height - 1];
          memoDepths[index] = depths[height - 1];
          memoHeights[index] = height - 1;
          memoStarts[index] = starts[height - 1];
          memoReaches[index] = reaches[height - 1];
          memoSizes[index] = sizes[height - 1];
          memoTextsAt[index] = textsAt[height - 1];
          memoRoles[index] = roles[height - 1];
          continue;
        }
        case Op.BINGET: case Op.LONG_BINGET: {
          const index = op === Op.BINGET ? data[argAt] : data.readUInt32LE(argAt);
          if (index >= room || memoStarts[index] === -1) throw new ReadWhole();
          // A container still on the stack, got again, reaches its position.
          const h = memoHeights[index];
          const open = MUTABLE.has(memoKinds[index]) && h < height && starts[h] === memoStarts[index] && kinds[h] === memoKinds[index];
          push(at, memoKinds[index], memoDepths[index], memoSizes[index], 1, Math.min(memoReaches[index], open ? h : room));
          textsAt[height - 1] = memoTextsAt[index];
          roles[height - 1] = memoRoles[index];
          // A container or object met twice: its size (and what it holds) may have changed since its put.
          if (memoKinds[index] !== SCALAR && memoKinds[index] !== GLOBAL && memoKinds[index] !== BYTEARRAY) this.sharedContainersAt.push(at);
          continue;
        }
        case Op.MARK:
          if (marks >= MAX_MARKS) throw new ReadWhole();
          markHeights[marks] = height;
          markOffsets[marks++] = at;
          continue;
        case Op.STOP:
          if (height !== 1 || marks !== 0 || !root || root.length !== 4 || argsTuple !== root[2]) throw new ReadWhole();
          // A keyword given twice: the reader keeps the last; neither is cut.
          if (keywords.length && (keywordsAt !== root[3] || new Set(keywords.map((k) => k.key)).size !== keywords.length)) throw new ReadWhole();
          return [
            ...argStarts.map((start, i) => ({ index: i, start, end: i + 1 < argStarts.length ? argStarts[i + 1] : argsEnd, bound: argBounds[i] })),
            ...keywords.map(({ key, start, end, bound }) => ({ index: key, start, end, bound })),
          ].map((a) => ({ ...a, estimate: 0, standalone: true, protocol: 2, py2Text: false, py3Text: false, newEntries: 0, memoBefore: 0, holdsObjects: false, holdsKnown: false }));
        case Op.TUPLE: case Op.LIST: case Op.DICT: case Op.FROZENSET: {
          if (marks === 0) throw new ReadWhole();
          const base = markHeights[--marks];
          if (op === Op.DICT && ((height - base) % 2 !== 0 || !hashableFrom(base, height, 2))) throw new ReadWhole();
          if (op === Op.FROZENSET && !hashableFrom(base, height, 1)) throw new ReadWhole();
          const items = Array.from(starts.subarray(base, height));
          const itemSizes = Array.from(sizes.subarray(base, height));
          const kind = op === Op.TUPLE ? (hashableFrom(base, height, 1) ? HASHABLE_TUPLE : TUPLE) : KIND_OF[op];
          const depth = deepest(base, height) + 1;
          const reach = lowestReach(base, height);
          const top = height;
          const noted = itemsOf(base, top);
          height = base;
          push(markOffsets[marks], kind, depth, REWRITTEN_CONTAINER + sizeOf(base, top) + rewrittenBatches(top - base), 0, reach < base ? reach : room);
          noteItems(noted);
          if (op === Op.TUPLE) {
            // The request: (ident, method, args, kwds), the last thing the pickle makes.
            if (marks === 0 && height === 1) root = items;
            else if (marks === 1 && height === markHeights[0] + 3) [argStarts, argBounds, argsTuple, argsEnd] = [items, itemSizes, markOffsets[marks], at];
          }
          continue;
        }
        case Op.TUPLE1: case Op.TUPLE2: case Op.TUPLE3: {
          const n = op - Op.TUPLE1 + 1;
          if (height - n < fence()) throw new ReadWhole();
          const items = Array.from(starts.subarray(height - n, height));
          const itemSizes = Array.from(sizes.subarray(height - n, height));
          const kind = hashableFrom(height - n, height, 1) ? HASHABLE_TUPLE : TUPLE;
          const depth = deepest(height - n, height) + 1;
          const reach = lowestReach(height - n, height);
          const size = REWRITTEN_CONTAINER + sizeOf(height - n, height);
          const noted = itemsOf(height - n, height);
          height -= n;
          push(items[0], kind, depth, size, 0, reach < height ? reach : room);
          noteItems(noted);
          if (marks === 1 && height === markHeights[0] + 3) [argStarts, argBounds, argsTuple, argsEnd] = [items, itemSizes, items[0], at];
          continue;
        }
        case Op.APPEND: case Op.SETITEM: {
          const n = op === Op.APPEND ? 1 : 2;
          if (height - n - 1 < fence()) throw new ReadWhole();
          nest(height - n - 1, height - n, height, op === Op.APPEND ? LIST : DICT, 2, op === Op.SETITEM, 2);
          if (op === Op.SETITEM) noteKeywords(height - 3, height - 2, height, at);
          height -= n;
          continue;
        }
        case Op.APPENDS: case Op.SETITEMS: case Op.ADDITEMS: {
          if (marks === 0) throw new ReadWhole();
          const base = markHeights[--marks];
          if (base === 0 || base - 1 < fence()) throw new ReadWhole();
          if (op === Op.SETITEMS && (height - base) % 2 !== 0) throw new ReadWhole();
          nest(base - 1, base, height, op === Op.APPENDS ? LIST : op === Op.SETITEMS ? DICT : SET, op === Op.ADDITEMS ? 1 : 2, op !== Op.APPENDS, 2 + rewrittenBatches(height - base));
          if (op === Op.SETITEMS) noteKeywords(base - 1, base, height, at);
          height = base;
          continue;
        }
        case Op.GLOBAL: {
          const newline = data.indexOf(0x0a, argAt);
          const module = data.subarray(argAt, newline);
          const name = data.subarray(newline + 1, after - 1);
          if (!isUtf8(module) || !isUtf8(name)) throw new ReadWhole();
          const role = this.noteGlobal(at, module.toString('utf8'), name.toString('utf8'));
          push(at, GLOBAL, 0, after - at);
          roles[height - 1] = role;
          continue;
        }
        case Op.STACK_GLOBAL: {
          // The reader takes a str for each (and writes the global back on lines of its own).
          if (height - 2 < fence() || textsAt[height - 2] < 0 || textsAt[height - 1] < 0) throw new ReadWhole();
          const module = this.textAt(textsAt[height - 2]);
          const name = this.textAt(textsAt[height - 1]);
          if (module.includes('\n') || name.includes('\n')) throw new ReadWhole();
          const start = starts[height - 2];
          height -= 2;
          const role = this.noteGlobal(at, module, name);
          push(start, GLOBAL, 0, 3 + 2 * (Buffer.byteLength(module) + Buffer.byteLength(name)));
          roles[height - 1] = role;
          continue;
        }
        case Op.REDUCE: case Op.NEWOBJ: case Op.NEWOBJ_EX: {
          const base = height - (op === Op.NEWOBJ_EX ? 3 : 2);
          if (base < fence() || lowestReach(base, height) < room) throw new ReadWhole();
          // set(items) checks its members; bytearray(x) reads x, then writes itself back whole if x is no bytes.
          if (op === Op.REDUCE && roles[base] === ROLE_SET && !firstItemsHashable[base + 1]) throw new ReadWhole();
          if (op === Op.REDUCE && roles[base] === ROLE_BYTEARRAY && (firstKinds[base + 1] === OBJECT || firstKinds[base + 1] === GLOBAL)) throw new ReadWhole();
          const size = 1 + sizeOf(base, height);
          const depth = deepest(base, height) + 1;
          const start = starts[base];
          height = base;
          this.objectsAt.push(at);
          push(start, OBJECT, depth, size);
          continue;
        }
        case Op.BUILD:
          if (height - 2 < fence()) throw new ReadWhole();
          nest(height - 2, height - 1, height, OBJECT, 1, false, 1);
          height--;
          continue;
        default:
          throw new ReadWhole();
      }
    }
  }

  /** Notes a global at `at` and returns its role to the reader. */
  private noteGlobal(at: number, module: string, name: string): number {
    if (!this.opaquePickles && !harmlessGlobal(module, name)) throw new ReadWhole();
    this.objectsAt.push(at);
    const role = globalRole(module, name);
    if (role === undefined) return ROLE_NONE;
    this.knownAt.push(at);
    if (role === 'RebuildProxy' || role === 'Token') {
      this.proxiesAt.push(at);
      return ROLE_PROXY;
    }
    return role === 'set' || role === 'frozenset' ? ROLE_SET : role === 'bytearray' ? ROLE_BYTEARRAY : ROLE_KNOWN;
  }

  /** The text of the str opcode at `at`, as the reader reads it (Python 2's `str` as Latin-1). */
  private textAt(at: number): string {
    const data = this.data;
    const op = data[at];
    const width = op === Op.SHORT_BINUNICODE || op === Op.SHORT_BINSTRING ? 1 : op === Op.BINUNICODE8 ? 8 : 4;
    const length = width === 1 ? data[at + 1] : width === 4 ? data.readUInt32LE(at + 1) : Number(data.readBigUInt64LE(at + 1));
    return data.toString(PY2_TEXT_OPS.has(op) ? 'latin1' : 'utf8', at + 1 + width, at + 1 + width + length);
  }

  /**
   * Which arguments holding globals and objects may be cut. Not one holding a proxy's or a token's
   * global, nor one that meets a container or object of its own twice (the bound on its opaque
   * values' bytes follows a tree). And only if every global and object of the request is in such
   * an argument, and their bounds together are within what the reader allows the whole request:
   * then neither the reader of the rest nor that of an argument cut can refuse for the opaque
   * values' bytes, and the whole request read at once would not have been either.
   */
  private checkObjects(args: Argument[]): void {
    const argumentAt = (offset: number) => args.find((a) => a.start <= offset && offset < a.end);
    let outside = false;
    for (const at of this.objectsAt) {
      const arg = argumentAt(at);
      if (arg) arg.holdsObjects = true;
      else outside = true;
    }
    if (!this.objectsAt.length) return;
    for (const at of this.knownAt) argumentAt(at)!.holdsKnown = true;
    for (const at of this.proxiesAt) {
      const arg = argumentAt(at);
      if (arg) arg.standalone = false;
    }
    for (const at of this.sharedContainersAt) {
      const arg = argumentAt(at);
      if (arg?.holdsObjects) arg.standalone = false;
    }
    let total = 0;
    for (const a of args) {
      if (!a.holdsObjects) continue;
      if (!a.standalone) outside = true;
      total += a.bound;
    }
    if (outside || total > this.maxOpaqueBytes) for (const a of args) if (a.holdsObjects) a.standalone = false;
  }

  private noteMemoStyle(style: 'implicit' | 'explicit'): void {
    if (this.memoStyle !== 'none' && this.memoStyle !== style) throw new ReadWhole();
    this.memoStyle = style;
  }

  /** Second pass: each argument's estimated cost, protocol, and whether its memo stands alone. */
  private inspect(args: Argument[]): void {
    const data = this.data;
    // Memo indices are bounded by the pickle's length (each put takes a byte; explicit ones beyond are left to the reader).
    const putIn = new Int32Array(Math.min(data.length, this.maxValues) + 1).fill(-2);
    let size = 0;
    let current = -1;
    let next = 0;
    this.rewind();
    for (;;) {
      const { op, at, argAt } = this.next();
      if (op === Op.STOP) return;
      while (next < args.length && args[next].start <= at) {
        args[next].memoBefore = size;
        current = next++;
      }
      if (current >= 0 && at >= args[current].end) current = -1;
      const arg = current >= 0 ? args[current] : undefined;
      if (op === Op.MEMOIZE || op === Op.BINPUT || op === Op.LONG_BINPUT || op === Op.BINGET || op === Op.LONG_BINGET) {
        const index = op === Op.MEMOIZE ? size : op === Op.BINPUT || op === Op.BINGET ? data[argAt] : data.readUInt32LE(argAt);
        if (index >= putIn.length) throw new ReadWhole();
        if (op === Op.BINGET || op === Op.LONG_BINGET) {
          const owner = putIn[index];
          if (owner === -2) throw new ReadWhole();
          if (owner !== current) {
            if (owner >= 0) args[owner].standalone = false;
            if (arg) arg.standalone = false;
          }
          if (arg) arg.estimate += COST_SCALAR;
        } else {
          if (putIn[index] === -2) {
            size++;
            if (arg) arg.newEntries++;
          } else if (putIn[index] !== current) {
            if (putIn[index] >= 0) args[putIn[index]].standalone = false;
            if (arg) arg.standalone = false;
          }
          putIn[index] = current;
        }
        continue;
      }
      if (!arg) continue;
      if (PUSH_ARGUMENT[op] !== -128 || CONTAINERS.has(op) || OBJECT_OPS.has(op)) arg.estimate += CONTAINERS.has(op) || OBJECT_OPS.has(op) ? COST_CONTAINER : COST_SCALAR;
      arg.protocol = Math.max(arg.protocol, PROTOCOL_OF[op]);
      if (op === Op.SHORT_BINSTRING || op === Op.BINSTRING) arg.py2Text = true;
      if (TEXT_OPS.has(op)) arg.py3Text = true;
    }
  }

  /** The request without the chosen arguments, and each as a standalone pickle. */
  private cut(chosen: Argument[]): PackedRequest {
    const data = this.data;
    const outer: Buffer[] = [];
    const packed = new Map<number | string, PackedPickle>();
    // An argument cut is None in the request. Its memo entries are read by nothing outside it, but
    // MEMOIZE numbers an entry by the memo's size: after a cut, each MEMOIZE is written as the
    // LONG_BINPUT of the index it had, so the reader makes no entry for what was cut (an entry a
    // value: as many as the value had, where memo slots alone may hold 4 times its bytes).
    let size = 0;
    let renumber = false;
    this.rewind();
    let c = 0;
    for (;;) {
      const { op, at, after } = this.next();
      const arg = c < chosen.length && at >= chosen[c].start ? chosen[c] : undefined;
      if (arg) {
        packed.set(arg.index, this.standalone(arg));
        outer.push(Buffer.from([Op.NONE]));
        size += arg.newEntries;
        renumber = true;
        this.pos = arg.end;
        c++;
        continue;
      }
      if (op === Op.MEMOIZE) {
        outer.push(renumber ? longMemo(Op.LONG_BINPUT, size) : data.subarray(at, after));
        size++;
        continue;
      }
      if (op !== Op.FRAME) outer.push(data.subarray(at, after));
      if (op === Op.STOP) break;
    }
    return { frame: Buffer.concat(outer), packed, maxOpaqueBytes: this.maxOpaqueBytes };
  }

  /** One argument as a pickle of its own: its opcodes without frames, its memo renumbered from 0 with only the entries it reads back. */
  private standalone(arg: Argument): PackedPickle {
    const data = this.data;
    const renumbered = new Map<number, number>();
    const gets = new Set<number>();
    // Which of its memo entries it reads back: only those are kept.
    this.pos = arg.start;
    while (this.pos < arg.end) {
      const { op, argAt } = this.next();
      if (op === Op.BINGET) gets.add(data[argAt]);
      else if (op === Op.LONG_BINGET) gets.add(data.readUInt32LE(argAt));
    }
    const pieces: Buffer[] = [Buffer.from([Op.PROTO, arg.protocol])];
    this.pos = arg.start;
    // MEMOIZE's index is the memo's size; the entries before the argument are what it started from.
    let size = arg.memoBefore;
    while (this.pos < arg.end) {
      const { op, at, argAt, after } = this.next();
      if (op === Op.FRAME) continue;
      if (op === Op.MEMOIZE || op === Op.BINPUT || op === Op.LONG_BINPUT) {
        const index = op === Op.MEMOIZE ? size++ : op === Op.BINPUT ? data[argAt] : data.readUInt32LE(argAt);
        if (!gets.has(index)) continue;
        if (!renumbered.has(index)) renumbered.set(index, renumbered.size);
        pieces.push(longMemo(Op.LONG_BINPUT, renumbered.get(index)!));
        continue;
      }
      if (op === Op.BINGET || op === Op.LONG_BINGET) {
        pieces.push(longMemo(Op.LONG_BINGET, renumbered.get(op === Op.BINGET ? data[argAt] : data.readUInt32LE(argAt))!));
        continue;
      }
      pieces.push(data.subarray(at, after));
    }
    pieces.push(Buffer.from([Op.STOP]));
    this.pos = arg.end;
    // An allow-listed global (a set, an exception) is named by the writer as each Python names it: such a value is written, never spliced.
    const splicedFor = new Set<PickleDialect>();
    if (!arg.py2Text && arg.protocol <= 4 && !arg.holdsKnown) splicedFor.add('py3');
    if (!arg.py3Text && arg.protocol <= 2 && !arg.holdsKnown) splicedFor.add('py2');
    return new PackedPickle(Buffer.concat(pieces), { maxValues: this.maxValues, maxOpaqueBytes: this.maxOpaqueBytes }, splicedFor);
  }
}

function longMemo(op: number, index: number): Buffer {
  const out = Buffer.alloc(5);
  out[0] = op;
  out.writeUInt32LE(index, 1);
  return out;
}
