/**
 * The pickle reader: Python's pickles (protocols 0 to 5) as the server's values, without ever
 * importing or calling anything. See `pickleToValue.ts` for what each Python object becomes, and
 * `pickleParser.ts` for the opcodes read.
 *
 * - None, bool, int (number when safe, else bigint), float (integral ones boxed as Float), str;
 *   Python 2 `str` as Latin-1 text; bytes and bytearray as Buffer; list → array, tuple → tuple();
 *   dict → plain object when every key is a str, else Map; set → Set; frozenset → FrozenSet;
 *   slice → Slice.
 * - `multiprocessing.managers.Token` → PyToken; `RebuildProxy(...)` → PyProxy; an allow-listed
 *   exception → PyExceptionValue.
 * - Any other object or global → OpaqueValue('python', 'module.Class', <standalone pickle>).
 *
 * Shared references stay shared; cycles are refused. Every failure is a PickleError.
 */

import { PickleError } from './pickleError';
import { DEFAULT_MAX_MESSAGE_VALUES } from '../../limits';
import type { PickleNode } from './pickleTree';
import { parsePickleCounted } from './pickleTreeBuilder';
import { BuiltWhole } from './pickleBuiltWhole';
import { toValue, type HeldBudget } from './pickleToValue';
import { ReadAsTree, readValues } from './pickleValueBuilder';

export { PickleError } from './pickleError';
export { MAX_INT_DIGITS } from './pickleParser';

/** Deepest nesting read or written by default (Python's own recursion limit is 1000). */
export const DEFAULT_MAX_DEPTH = 1000;

/** What the opaque values of a pickle of `length` bytes may take together by default: 4 MiB or 16 times the pickle, the larger. */
export function defaultMaxOpaqueBytes(length: number): number {
  return Math.max(4 * 1024 * 1024, 16 * length);
}

/** Limits of {@link unpickle}. */
export interface UnpickleOptions {
  /** Deepest nesting of containers and open MARKs (default {@link DEFAULT_MAX_DEPTH}). */
  maxDepth?: number;
  /**
   * Most bytes the opaque values of one pickle may take together, since without memo a shared
   * object is written out at each use (default: 4 MiB or 16 times the pickle, the larger).
   */
  maxOpaqueBytes?: number;
  /** Most objects the pickle may make (see `parsePickle`; default `DEFAULT_MAX_MESSAGE_VALUES`). */
  maxValues?: number;
  /** Refuse objects of classes the reader does not know, instead of keeping them as OpaqueValues, but for the harmless ones of `pickleSafety` (`--no-opaque-pickles`). */
  refuseOpaque?: boolean;
  /** Most bytes the values read may hold, estimated as they are built (default: no limit): a message's budget (SPEC §19). */
  heldBudget?: HeldBudget;
  /** Looks at the pickle's tree, when it is read as one, before anything is built of it (and may refuse it, throwing a PickleError). */
  beforeBuild?: (root: PickleNode) => void;
}

/**
 * Reads a pickle into a value.
 * @throws PickleError for anything malformed, truncated or beyond a limit (naming the opcode and
 *   its byte offset), and never any other error.
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxOpaqueBytes = options.maxOpaqueBytes ?? defaultMaxOpaqueBytes(data.length);
  const maxValues = options.maxValues ?? DEFAULT_MAX_MESSAGE_VALUES;
  const budget = options.heldBudget;
  // A container at each of the levels 0..maxDepth may have its MARK open.
  const maxMarks = maxDepth + 1;
  const builtWhole = new BuiltWhole();
  try {
    // Straight to values when the pickle holds only what the reader knows; else (an object of a
    // class it keeps as pickled, or what only the tree path words) as a tree, whose nodes count
    // against the same budget.
    try {
      return readValues(data, maxMarks, maxValues, maxDepth, options.refuseOpaque ?? false, budget, builtWhole);
    } catch (error) {
      if (!(error instanceof ReadAsTree)) throw error;
    }
    const { root, held, protocol } = parsePickleCounted(data, maxMarks, maxValues, budget && { maxHeldBytes: budget.maxHeldBytes, messageBytes: budget.messageBytes, builtWhole });
    options.beforeBuild?.(root);
    return toValue(root, { maxDepth, maxOpaqueBytes, refuseOpaque: options.refuseOpaque, heldBudget: budget, heldBefore: held, why: builtWhole.why(protocol) });
  } catch (error) {
    if (error instanceof PickleError) throw error;
    // Not expected (the fuzz tests look for it), but a request must never crash its session.
    throw new PickleError(`the pickle could not be read (internal error: ${error instanceof Error ? error.message : String(error)})`);
  }
}
