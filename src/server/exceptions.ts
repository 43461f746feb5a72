/**
 * Exceptions raised by shared objects, named as Python names them, so every client can rebuild the
 * one its language knows (`queue.Empty`, `KeyError`, ...). They cross the wire as
 * `{ type, message, args }` in the error's `data`.
 */

/** An exception a shared object raises, carrying its Python type name. */
export class PyException extends Error {
  override name = 'PyException';
  constructor(
    /** The Python exception type: Empty, Full, KeyError, IndexError, ValueError, TypeError, AttributeError... */
    readonly type: string,
    message: string,
    /** The exception's args, when they are values a client may want (KeyError's key). */
    readonly args?: unknown[],
  ) {
    super(message);
  }
}

/** A blocking call was withdrawn (cancelled, or its caller left) before it had any effect. */
export class CallCancelled extends Error {
  override name = 'CallCancelled';
  constructor(message = 'the call was cancelled before it had any effect') {
    super(message);
  }
}

/** Shorthands for the exceptions the built-in types raise. */
export const raise = {
  empty: (message = ''): never => {
    throw new PyException('Empty', message);
  },
  full: (message = ''): never => {
    throw new PyException('Full', message);
  },
  typeError: (message: string): never => {
    throw new PyException('TypeError', message);
  },
  valueError: (message: string): never => {
    throw new PyException('ValueError', message);
  },
  indexError: (message: string): never => {
    throw new PyException('IndexError', message);
  },
  attributeError: (message: string): never => {
    throw new PyException('AttributeError', message);
  },
  keyError: (key: unknown, shown: string): never => {
    throw new PyException('KeyError', shown, [key]);
  },
};

/** Maps any thrown value to a Python exception type name and message for the wire. */
export function describeThrown(error: unknown): { type: string; message: string; args?: unknown[]; stack?: string } {
  if (error instanceof PyException) return { type: error.type, message: error.message, args: error.args, stack: error.stack };
  if (error instanceof Error) {
    // JavaScript's own error classes have close Python counterparts; user classes keep their name.
    const type = error.name === 'RangeError' ? 'ValueError' : error.name === 'ReferenceError' ? 'NameError' : error.name || 'Error';
    return { type, message: error.message, stack: error.stack };
  }
  return { type: 'Error', message: String(error) };
}
