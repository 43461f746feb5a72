/**
 * The one error the pickle codec throws, for input it cannot read and values it cannot write.
 */

/**
 * A pickle could not be read (malformed, truncated, beyond a limit, an opcode the codec refuses)
 * or a value could not be pickled. A reading error names the opcode and its byte offset.
 */
export class PickleError extends Error {
  override name = 'PickleError';
}

/** A pickle being written would pass its size limit. */
export class PickleTooLarge extends PickleError {
  override name = 'PickleTooLarge';

  constructor(
    message: string,
    /** The limit, in bytes. */
    readonly limit: number,
  ) {
    super(message);
  }
}

/** A PickleError about the opcode `op` at byte `offset`. */
export function pickleErrorAt(op: string, offset: number, message: string): PickleError {
  return new PickleError(`${op} at byte ${offset}: ${message}`);
}
