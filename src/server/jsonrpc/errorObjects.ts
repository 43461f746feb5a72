/**
 * The one place a thrown error becomes a JSON-RPC error object: the object service's errors,
 * the shared objects' Python exceptions, the codec's and the protocol's own.
 */

import { ErrorCodes, errorCodeNames } from '../../common/errorCodes';
import { encodeValue } from '../../common/valueCodec';
import { ValueCodecError } from '../../common/valueCodecError';
import { CallError, MethodNotExposedError, NotAcknowledgeableError, UnknownDeliveryError, UnknownObjectError } from '../calls/callErrors';
import { CallCancelled, describeThrown, PyException } from '../exceptions';
import { ItemEditRefused } from '../itemEdits';
import { NoReferenceError } from '../objectTable';
import { RpcError } from './paramChecks';

/** A JSON-RPC error object, as the server sends it. */
export interface ErrorObject {
  code: number;
  message: string;
  data: Record<string, unknown>;
}

/** An error object whose `data` has the code's name as its type and the message, unless `data` says otherwise, and what else `data` has. */
export function errorObject(code: number, message: string, data?: Record<string, unknown>): ErrorObject {
  return { code, message, data: { type: errorCodeNames.get(code) ?? 'Error', message, ...data } };
}

/** The error object for what a request threw. `closing`: the session is closing (a withdrawn call says so). */
export function errorObjectFor(error: unknown, closing: boolean): ErrorObject {
  if (error instanceof RpcError) return errorObject(error.code, error.message, error.data);
  if (error instanceof CallCancelled) {
    return closing
      ? errorObject(ErrorCodes.ShuttingDown, 'the session is shutting down; the call was withdrawn with no effect')
      : errorObject(ErrorCodes.RequestCancelled, error.message);
  }
  if (error instanceof CallError) return callErrorObject(error);
  if (error instanceof ValueCodecError) return errorObject(ErrorCodes.InvalidValue, error.message);
  if (error instanceof NoReferenceError) return errorObject(ErrorCodes.NoReference, error.message);
  // An item edit of an object kept in a store is refused after a round trip, not while its request is handled.
  if (error instanceof ItemEditRefused) return errorObject(ErrorCodes.InvalidParams, error.message);
  if (error instanceof PyException || error instanceof Error) {
    const d = describeThrown(error);
    const data: Record<string, unknown> = { type: d.type, message: d.message };
    if (d.args) {
      try {
        data.args = encodeValue(d.args);
      } catch {
        // The args are a courtesy; an exception whose args cannot be sent still reports its message.
      }
    }
    // Stacks of the built-in types' own exceptions are noise; user code's are worth seeing.
    if (!(error instanceof PyException) && d.stack) data.stack = d.stack;
    return errorObject(ErrorCodes.RemoteException, d.type + (d.message ? `: ${d.message}` : ''), data);
  }
  return errorObject(ErrorCodes.InternalError, `internal error: ${String(error)}`);
}

function callErrorObject(error: CallError): ErrorObject {
  if (error instanceof UnknownObjectError) return errorObject(ErrorCodes.UnknownObject, error.message);
  if (error instanceof UnknownDeliveryError) return errorObject(ErrorCodes.UnknownDelivery, error.message);
  if (error instanceof NotAcknowledgeableError) return errorObject(ErrorCodes.InvalidParams, error.message);
  if (error instanceof MethodNotExposedError) {
    return errorObject(ErrorCodes.MethodNotExposed, error.message, {
      type: 'AttributeError',
      message: `method '${error.method}' of ${error.typeid} object is not exposed (exposed: ${error.exposed.join(', ')})`,
    });
  }
  // UnknownTypeidError, NotCreatableError, UnknownResultTypeidError.
  return errorObject(ErrorCodes.UnknownTypeid, error.message);
}
