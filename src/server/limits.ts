/**
 * What one client may make the server hold or do, in one place: the defaults of every limit the
 * listener, the sessions and the readers apply, and the error texts that name them. SPEC §19
 * ("Limits") describes each; the README's table shows what the defaults cost at worst.
 */

/**
 * Most values one message may hold once read: every scalar and container of a JSON-RPC message,
 * every object a pickle makes (and every stack push and memo entry of its reader). Chosen so the
 * costliest message under the defaults keeps other clients waiting well under a second on a
 * 2-core machine (bench/stall.ts measures it).
 */
export const DEFAULT_MAX_MESSAGE_VALUES = 100_000;

/**
 * What reading one message may hold beyond 4 times its bytes, whatever it holds (SPEC §19): the
 * parsed envelope (the request, its params, a few strings: a few hundred bytes) and the
 * arguments too small to be worth keeping encoded (`jsonrpc/packedArguments.ts`,
 * `python/pickle/picklePacking.ts`). 64 KiB is nothing beside a connection's buffers, yet room
 * enough that a message has to be dense and larger than about a KiB before its arguments are
 * kept encoded, so ordinary calls never are.
 */
export const READ_BYTES_PER_MESSAGE = 64 * 1024;

/** How many times its bytes reading a message may hold, beyond {@link READ_BYTES_PER_MESSAGE} (SPEC §19). */
const READ_TIMES_BYTES = 4;

/** The most reading a message of `bytes` bytes may hold (SPEC §19): {@link READ_TIMES_BYTES} times its bytes plus {@link READ_BYTES_PER_MESSAGE}. */
export function readAllowance(bytes: number): number {
  return READ_TIMES_BYTES * bytes + READ_BYTES_PER_MESSAGE;
}

/**
 * The refusal of a message that would hold more than {@link readAllowance} once read: `estimate`
 * is what its readers count it would, `why` says what could not be kept encoded.
 */
export function tooCostlyToRead(bytes: number, estimate: number, why: string): string {
  return `the message would hold some ${estimate} bytes once read, more than ${READ_TIMES_BYTES} times its ${bytes} bytes plus ${READ_BYTES_PER_MESSAGE}, the most reading one message may hold: ${why}`;
}

/**
 * Most arguments one call (`object/call`, `object/create`, a Python request) may pass, positional
 * and keyword together. Each argument is built as the message is read, and one too small to be
 * worth keeping encoded may cost a few hundred bytes built (a `{}`: 3 bytes of JSON, 1 of pickle):
 * this many fit half of {@link READ_BYTES_PER_MESSAGE}, so that reading any message the server
 * accepts holds at most 4 times its bytes plus that allowance (SPEC §19). A manager's method takes
 * a handful; many values travel as one list or dict.
 */
export const MAX_CALL_ARGUMENTS = 128;

/** The refusal of a call passing more than {@link MAX_CALL_ARGUMENTS}, or undefined; `kwargs` a record (or undefined). */
export function tooManyArguments(args: unknown, kwargs: unknown): string | undefined {
  return argumentCountRefused((Array.isArray(args) ? args.length : 0) + (typeof kwargs === 'object' && kwargs !== null ? Object.keys(kwargs).length : 0));
}

/**
 * The refusal of a call passing `count` arguments, positional and keyword together, or undefined within
 * {@link MAX_CALL_ARGUMENTS}. It wins over the read budget's when both apply: it says what to send instead.
 */
export function argumentCountRefused(count: number): string | undefined {
  if (count <= MAX_CALL_ARGUMENTS) return undefined;
  return `a call with ${count} arguments (positional and keyword together) is refused: the limit is ${MAX_CALL_ARGUMENTS}; send many values as one list or dict`;
}

/** Bytes of incomplete messages buffered across all connections at once (256 MiB). */
export const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;

/**
 * Connections still in the handshake at once; a new one beyond this sheds the oldest. Room for a
 * burst of workers starting together (each of Python's clients opens several connections), well
 * under a default file-descriptor limit of 1024.
 */
export const DEFAULT_MAX_HANDSHAKING = 256;

/**
 * Opcodes a pickle may run for each value of the value limit. Most opcodes make a value; the rest
 * (MEMOIZE, MARK, APPENDS, BUILD, FRAME...) come a few to a value at most in any pickler's output.
 * But an opcode that makes nothing can be repeated, and 32 MiB of PROTO, MEMOIZE or POP_MARK kept
 * the readers busy for seconds: this bounds the work of reading one pickle by the value limit too.
 */
const PICKLE_OPCODES_PER_VALUE = 8;

/** The most opcodes one pickle may run under a value limit of `maxValues` (the 1,024 for a small limit's frames and marks). */
export function maxPickleOpcodes(maxValues: number): number {
  return PICKLE_OPCODES_PER_VALUE * maxValues + 1024;
}

/** The refusal of a pickle running more than `limit` opcodes. */
export function tooManyOpcodes(limit: number): string {
  return `the pickle runs more than ${limit} opcodes, the limit for one message (${PICKLE_OPCODES_PER_VALUE} for each value of the server's maxMessageValues)`;
}

/** The refusal of a message over the value limit; `what` says which reader counted. */
export function tooManyValues(what: 'pickle' | 'JSON', limit: number): string {
  return what === 'pickle'
    ? `the pickle makes more than ${limit} objects, the limit for one message (the server's maxMessageValues)`
    : `the message holds more than ${limit} JSON values, the limit for one message (the server's maxMessageValues)`;
}

/** The refusal of a pickle of class (or holding the global) `type` by a server that stores no opaque pickles; `where` says where it was, if known. */
export function opaquePickleRefused(type: string, where = ''): string {
  return `a pickled ${type} object${where} is refused: ${NO_OPAQUE_PICKLES}; send plain values`;
}

/** The refusal of a JSON `$opaque` pickle a manager without opaque pickles cannot read through to check it: `reason` says why. */
export function opaquePickleUnreadable(type: string, reason: string, where = ''): string {
  return `a pickled ${type} object${where} is refused: it cannot be read to check what it holds (${reason}), and ${NO_OPAQUE_PICKLES}`;
}

const NO_OPAQUE_PICKLES = 'this manager stores no objects of classes it cannot read (it serves with --no-opaque-pickles, the option opaquePickles: false)';

/**
 * The refusal of a result larger than the message limit (`bytes` when known): it was not sent,
 * and whether what the call took went back ({@link givenBackNote}).
 */
export function resultTooLarge(limit: number, bytes: number | undefined, givenBack: boolean): string {
  const size = bytes === undefined ? '' : ` of ${bytes} bytes`;
  return `the result${size} exceeds the message limit of ${limit} bytes and was not sent${givenBackNote(givenBack)}; ask for less`;
}

/** What an error about an unsent result adds when the call's taking was undone (the item is back where it was). */
export function givenBackNote(givenBack: boolean): string {
  return givenBack ? '; what the call took was given back' : '';
}

/** The limits a manager takes as options (beyond `maxMessageBytes` and `maxConnections`), as plain data that can cross to a child process. */
export interface LimitOptions {
  /** Most values (JSON values, or objects a pickle makes) one message may hold. Default {@link DEFAULT_MAX_MESSAGE_VALUES}. */
  maxMessageValues?: number;
  /** Bytes of incomplete messages buffered across all connections; a connection whose bytes would pass it is closed. Default {@link DEFAULT_MAX_PENDING_BYTES}. */
  maxPendingBytes?: number;
  /** Connections still in the handshake at once; one more sheds the oldest. Default {@link DEFAULT_MAX_HANDSHAKING}. */
  maxHandshaking?: number;
  /** Milliseconds an authenticated connection may stay silent with nothing pending before it is closed. Default: no timeout. */
  idleTimeoutMs?: number;
  /**
   * Whether clients may store pickles of classes the server does not read (Python objects it
   * keeps as opaque pickles, which a Python client that later reads them runs). Default true;
   * false refuses every message holding one ({@link opaquePickleRefused}).
   */
  opaquePickles?: boolean;
}

/** Just the {@link LimitOptions} of a larger options object. */
export function limitOptionsOf(options: LimitOptions): LimitOptions {
  const { maxMessageValues, maxPendingBytes, maxHandshaking, idleTimeoutMs, opaquePickles } = options;
  return { maxMessageValues, maxPendingBytes, maxHandshaking, idleTimeoutMs, opaquePickles };
}
