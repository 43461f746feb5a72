/**
 * What the pickle reader builds before any value: one node per Python object the pickle makes,
 * shaped like the opcodes that made it. Keeping objects as the calls that would build them (a
 * global, its arguments, then the BUILD/APPENDS/SETITEMS applied to the result) is what lets an
 * object the codec does not know be written back exactly, without ever being built.
 *
 * Nodes are shared as Python objects are: a memo GET gives the node itself, and mutating opcodes
 * (APPEND, SETITEMS, BUILD...) change the node in place, as they change the object in Python.
 */

import { latin1Text } from './pickleText';

/** Where a node was made: the opcode's name and its byte offset, for error messages. */
interface Origin {
  readonly op: string;
  readonly at: number;
}

/**
 * A node that may hold others. `shared` is set when the pickle uses it again (memo GET, DUP):
 * only such a node can be reached twice, or from inside itself, so only it needs remembering.
 */
interface Composite extends Origin {
  shared: boolean;
}

export interface NoneNode extends Origin {
  readonly kind: 'none';
}
export interface BoolNode extends Origin {
  readonly kind: 'bool';
  readonly value: boolean;
}
/** An int: a number when it is a safe integer, else a bigint. */
export interface IntNode extends Origin {
  readonly kind: 'int';
  readonly value: number | bigint;
}
export interface FloatNode extends Origin {
  readonly kind: 'float';
  readonly value: number;
}
/** A Python 3 `str` (Python 2 `unicode`). */
export interface StrNode extends Origin {
  readonly kind: 'str';
  readonly value: string;
  /** Set when the pickle pushes it again (memo GET, DUP): one string in Python, so one when built. */
  reused?: boolean;
}
/** A Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING): bytes, read as Latin-1 text. */
export interface PyStrNode extends Origin {
  readonly kind: 'pystr';
  readonly bytes: Uint8Array;
  /** As {@link StrNode}'s. */
  reused?: boolean;
}
export interface BytesNode extends Origin {
  readonly kind: 'bytes' | 'bytearray';
  readonly bytes: Uint8Array;
}
export interface SequenceNode extends Composite {
  readonly kind: 'list' | 'tuple' | 'set' | 'frozenset';
  readonly items: PickleNode[];
}
/** A dict: keys and values in insertion order. */
export interface DictNode extends Composite {
  readonly kind: 'dict';
  readonly keys: PickleNode[];
  readonly values: PickleNode[];
}
/** A reference to a module attribute, `module.name` (GLOBAL, STACK_GLOBAL, INST's class). */
export interface GlobalNode extends Origin {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

/**
 * An object made by a call the reader never makes: REDUCE `callee(*args)`, NEWOBJ
 * `callee.__new__(callee, *args)`, NEWOBJ_EX (with kwargs), and protocol 0/1's INST and OBJ.
 * For INST the callee is the global its line names; for OBJ and INST the args are the marked items.
 */
export interface ObjectNode extends Composite {
  readonly kind: 'object';
  readonly how: 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ';
  readonly callee: PickleNode;
  readonly args: PickleNode;
  readonly kwargs?: PickleNode;
  /** What later opcodes did to the object, in order. */
  readonly after: Mutation[];
}

/** An opcode applied to an object after it was made: its state, or items added to it. */
export type Mutation =
  | { readonly op: 'BUILD'; readonly state: PickleNode }
  | { readonly op: 'APPEND' | 'APPENDS' | 'ADDITEMS'; readonly items: readonly PickleNode[] }
  | { readonly op: 'SETITEM' | 'SETITEMS'; readonly items: readonly PickleNode[] };

/** Any node. */
export type PickleNode = NoneNode | BoolNode | IntNode | FloatNode | StrNode | PyStrNode | BytesNode | SequenceNode | DictNode | GlobalNode | ObjectNode;

/** A str node's text (a Python 2 str read as Latin-1), or undefined for any other node. */
export function nodeText(node: PickleNode | undefined): string | undefined {
  if (node?.kind === 'str') return node.value;
  if (node?.kind === 'pystr') return latin1Text(node.bytes);
  return undefined;
}

/** A node's kind in words, for messages: `a list`, `an object of fractions.Fraction`. */
export function describeNode(node: PickleNode): string {
  switch (node.kind) {
    case 'global':
      return `the global ${node.module}.${node.name}`;
    case 'object':
      return `an object made by ${node.how}`;
    case 'pystr':
      return 'a Python 2 str';
    case 'none':
      return 'None';
    default:
      return /^[aeiou]/.test(node.kind) ? `an ${node.kind}` : `a ${node.kind}`;
  }
}
