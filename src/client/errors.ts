/**
 * The client's errors: one class per meaning, each with a message that carries its context.
 * Remote exceptions arrive as data (`{ type, message, stack }`) and are rebuilt here as real
 * classes, so `catch (e) { if (e instanceof EmptyError) ... }` works as `except queue.Empty` does.
 */

import { ErrorCodes, type RemoteErrorData } from '../common/errorCodes';

const brand = Symbol.for('syncmanager.ManagerError');

/** The base of every error this library throws. */
export class ManagerError extends Error {
  override name = 'ManagerError';
  /** Marks instances across realms and bundled copies; see {@link isManagerError}. */
  readonly [brand] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether a value is a {@link ManagerError}, even one from another copy of this library. */
export function isManagerError(value: unknown): value is ManagerError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** The authkey did not match (either side rejected the other's proof). */
export class AuthenticationError extends ManagerError {
  override name = 'AuthenticationError';
}

/** The connection could not be made, or was lost; pending calls fail with this. */
export class ConnectionClosedError extends ManagerError {
  override name = 'ConnectionClosedError';
}

/**
 * The connection to the manager was lost while this call was on its way or waiting: whether it took
 * effect is unknown (with `connect({ resume })` it completes instead). The client reconnects by
 * default; a later call goes to the new connection.
 */
export class ConnectionLostError extends ConnectionClosedError {
  override name = 'ConnectionLostError';
}

/**
 * The proxy's object is out of reach: its reference ended with a lost connection (and it is not a
 * shared typeid's object, which is fetched again), so it may be gone or be another object now.
 */
export class StaleProxyError extends ManagerError {
  override name = 'StaleProxyError';
}

/** Connecting or the handshake took longer than allowed, or a lock was not acquired within its timeout. */
export class TimeoutError extends ManagerError {
  override name = 'TimeoutError';
}

/** The proxy was released (or its client closed): it can make no more calls. */
export class ProxyReleasedError extends ManagerError {
  override name = 'ProxyReleasedError';
}

/** A call was cancelled through its AbortSignal, and the server confirmed it had no effect. */
export class AbortError extends ManagerError {
  override name = 'AbortError';
}

/**
 * `ack()` or `nack()` on a delivery this client already acknowledged or gave back: each delivery
 * is settled once.
 */
export class DeliverySettledError extends ManagerError {
  override name = 'DeliverySettledError';
}

/** The server answered with a protocol-level error (bad params, unknown method, not initialized...). */
export class ProtocolError extends ManagerError {
  override name = 'ProtocolError';
  constructor(
    message: string,
    /** The JSON-RPC error code. */
    readonly code: number,
    /** The error's `data`, as sent. */
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** `object/create` named a typeid the manager does not have. */
export class UnknownTypeidError extends ProtocolError {
  override name = 'UnknownTypeidError';
}

/** The object is gone from the manager (every reference was released). */
export class UnknownObjectError extends ProtocolError {
  override name = 'UnknownObjectError';
}

/** An exception raised by the shared object's method on the server. */
export class RemoteError extends ManagerError {
  override name = 'RemoteError';
  constructor(
    message: string,
    /** The exception's Python type name: Empty, KeyError, TypeError, ... */
    readonly type: string,
    /** The server-side stack, when it sent one. */
    readonly remoteStack?: string,
    /** The exception's args, when sent (KeyError's key). */
    readonly remoteArgs?: unknown[],
  ) {
    super(message);
  }
}

/** `queue.Empty`: nothing to get (non-blocking, or the timeout passed). */
export class EmptyError extends RemoteError {
  override name = 'EmptyError';
}
/** `queue.Full`: no room to put (non-blocking, or the timeout passed). */
export class FullError extends RemoteError {
  override name = 'FullError';
}
/** `KeyError`: the key is not in the dict. */
export class KeyError extends RemoteError {
  override name = 'KeyError';
}
/** `IndexError`: the index is out of range. */
export class IndexError extends RemoteError {
  override name = 'IndexError';
}
/** `ValueError`: an argument has the right type but a wrong value. */
export class ValueError extends RemoteError {
  override name = 'ValueError';
}
/** `AttributeError`: no such attribute, or the method is not exposed. */
export class AttributeError extends RemoteError {
  override name = 'AttributeError';
}

/** `threading.BrokenBarrierError`: the barrier was aborted, reset, timed out, or a waiting party left. */
export class BrokenBarrierError extends RemoteError {
  override name = 'BrokenBarrierError';
}
/** `RuntimeError`: releasing a lock not held, waiting on a condition without its lock, a dict changed while iterated. */
export class RuntimeError extends RemoteError {
  override name = 'RuntimeError';
}

/**
 * The manager no longer holds the delivery for this client: its visibility timeout passed, or the
 * session that took it ended (a lost connection), so the item went back to its queue and may be
 * delivered again, here or to another client.
 */
export class UnknownDeliveryError extends ProtocolError {
  override name = 'UnknownDeliveryError';
}

const remoteClasses: Record<string, typeof RemoteError> = {
  Empty: EmptyError,
  BrokenBarrierError,
  RuntimeError,
  Full: FullError,
  KeyError,
  IndexError,
  ValueError,
  AttributeError,
};

/** What the error is about, for messages: "get on Queue 'get_task_queue'". */
export interface ErrorContext {
  what: string;
  /** The call's timeout in seconds, if it had one. */
  timeout?: number | null;
}

/** Rebuilds a JSON-RPC error response as the matching error class. */
export function errorFromResponse(error: { code: number; message: string; data?: unknown }, context?: ErrorContext): ManagerError {
  const data = (typeof error.data === 'object' && error.data !== null ? error.data : {}) as Partial<RemoteErrorData>;
  const where = context ? ` (${context.what})` : '';
  switch (error.code) {
    case ErrorCodes.RemoteException:
    case ErrorCodes.MethodNotExposed: {
      const type = data.type ?? 'Error';
      const Class = Object.hasOwn(remoteClasses, type) ? remoteClasses[type] : RemoteError;
      let message = data.message ?? error.message;
      if (type === 'Empty' || type === 'Full') {
        const after = context?.timeout != null ? ` after ${Number(context.timeout).toFixed(1)} s` : '';
        message = `${type === 'Empty' ? 'queue is empty' : 'queue is full'}${after}${message ? `: ${message}` : ''}`;
      }
      return new Class(`${type === 'Empty' || type === 'Full' ? '' : `${type}: `}${message}${where}`, type, data.stack, data.args as unknown[] | undefined);
    }
    case ErrorCodes.RequestCancelled:
      return new AbortError(`cancelled before it had any effect${where}`);
    case ErrorCodes.UnknownTypeid:
      return new UnknownTypeidError(error.message, error.code, error.data);
    case ErrorCodes.UnknownObject:
      return new UnknownObjectError(`${error.message}${where}`, error.code, error.data);
    case ErrorCodes.UnknownDelivery:
      return new UnknownDeliveryError(`${error.message}${where}`, error.code, error.data);
    case ErrorCodes.ShuttingDown:
      return new ConnectionClosedError(`the manager is shutting down${where}`);
    default:
      return new ProtocolError(`${error.message}${where}`, error.code, error.data);
  }
}
