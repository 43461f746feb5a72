/**
 * What the pickle parser (`pickleParser.ts`) makes of each opcode, as a seam: the parser keeps one
 * meaning for each opcode (its arguments, the stack, MARKs, the memo, the limits) and hands what
 * an opcode makes to a builder. The tree builder (`pickleTreeBuilder.ts`) makes nodes, which an
 * object of a class the reader does not know needs (it is written back exactly from them); the
 * value builder (`pickleValueBuilder.ts`) makes the values themselves, with no tree, for the
 * pickles made only of what the reader knows.
 */

import type { PickleError } from './pickleError';

/** Where the parser is, for the builders' messages, and how they fail there. */
export interface PickleCursor {
  /** The opcode being run, and its byte offset. */
  readonly op: string;
  readonly at: number;
  /** The pickle's protocol, as its PROTO says (0 without one). */
  readonly protocol: number;
  /** A PickleError naming the opcode and its offset. */
  fail(message: string): PickleError;
}

/** The parser's memo and stack, as a builder may change them when what it made is replaced by what it became. */
export interface PickleMachine<T> {
  /** Puts `value` in place of `old` at the memo index `index`, if `old` is still there. */
  memoSwap(index: number, old: T, value: T): void;
}

/**
 * What a pickle's opcodes make, `T` being a node or a value. Each method may throw (a PickleError,
 * or the builder's own reason to stop). A builder counting what it holds counts each value's slot
 * with it, wherever it is (on the stack, then in its container).
 */
export interface PickleBuilder<T> {
  none(): T;
  bool(value: boolean): T;
  /** An int: a number when it is a safe integer, else a bigint. */
  int(value: number | bigint): T;
  float(value: number): T;
  /** A Python 3 `str`. */
  str(value: string): T;
  /** A Python 2 `str`: bytes. */
  pystr(bytes: Uint8Array): T;
  bytes(kind: 'bytes' | 'bytearray', bytes: Uint8Array): T;
  /** EMPTY_LIST (no items), LIST. */
  list(items: T[]): T;
  /** EMPTY_TUPLE, TUPLE, TUPLE1..3. */
  tuple(items: T[]): T;
  /** EMPTY_DICT (no items), DICT: keys and values alternating (an even count, checked). */
  dict(items: T[]): T;
  emptySet(): T;
  frozenset(items: T[]): T;
  /** APPEND, APPENDS to the stack's top, `target`; returns what the top becomes if it is replaced. */
  append(target: T, items: T[], op: 'APPEND' | 'APPENDS'): T | undefined;
  /** SETITEM, SETITEMS (keys and values alternating, an even count, checked). */
  setItems(target: T, items: T[], op: 'SETITEM' | 'SETITEMS'): T | undefined;
  addItems(target: T, items: T[]): T | undefined;
  global(module: string, name: string): T;
  /** A STACK_GLOBAL operand as text, undefined when it is no str. */
  globalPart(value: T): string | undefined;
  /** REDUCE, NEWOBJ, NEWOBJ_EX, INST (callee a global, args a tuple of the marked items), OBJ. */
  object(how: 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ', callee: T, args: T, kwargs?: T): T;
  build(target: T, state: T): T | undefined;
  /** The pickle pushes `value` a second time (memo GET, DUP). */
  reuse(value: T): void;
  /** `value` is put in the memo at `index`; `bytes` the memo's new entry holds (0 when the index was there). */
  memoPut(value: T, index: number, bytes: number): void;
  /** What the pickle's STOP leaves: the result. */
  result(value: T): T;
  /** A value's kind in words, for messages. */
  describe(value: T): string;
}
