/**
 * The one place a thrown error becomes a reply to a Python client: `#ERROR` with an exception
 * Python has a class for, or `#TRACEBACK` with the text its client raises as `RemoteError`,
 * worded as CPython's manager words it where Python clients look at it.
 */

import { CallError, MethodNotExposedError, NotCreatableError, UnknownObjectError, UnknownProxyTargetError } from '../calls/callErrors';
import { CallCancelled, describeThrown, PyException } from '../exceptions';
import { PickleTooLarge, type PickleDialect } from './pickle/pickleWriter';
import { givenBackNote, resultTooLarge } from '../limits';
import { exceptionForPython } from './pythonNames';

/** A reply: CPython's `(kind, result)`. */
export type Reply = readonly [kind: '#RETURN' | '#ERROR' | '#TRACEBACK' | '#PROXY' | '#UNSERIALIZABLE', result: unknown];

/** Python's text of a failure, as its client raises it (`RemoteError`). */
export function traceback(type: string, message: string): string {
  return `Traceback (most recent call last):\n  (in the syncmanager manager)\n${type}${message ? `: ${message}` : ''}\n`;
}

/** The reply to a method call that failed: the exception as Python's client raises it. */
export function failureReply(error: unknown, dialect: PickleDialect): Reply {
  if (error instanceof CallError) return callErrorReply(error);
  if (error instanceof CallCancelled) return ['#TRACEBACK', traceback('RuntimeError', error.message)];
  // A proxy among the arguments that names nothing is the KeyError Python's own server raises.
  const thrown = error instanceof UnknownProxyTargetError ? new PyException('KeyError', `a proxy names object ${JSON.stringify(error.objectId)}, which does not exist`, [error.objectId]) : error;
  const d = describeThrown(thrown);
  const exception = exceptionForPython(d.type, d.message, d.args, dialect);
  return exception ? ['#ERROR', exception] : ['#TRACEBACK', traceback(d.type, d.message)];
}

/**
 * The reply to a call whose result could not be pickled: a `ValueError` traceback for one larger
 * than the message limit (the text JSON-RPC's MessageTooLarge has), else `#UNSERIALIZABLE` with
 * the reason, as CPython's server answers a result it cannot pickle. Either says whether what
 * the call took was given back.
 */
export function unsendableReply(error: unknown, givenBack: boolean): Reply {
  if (error instanceof PickleTooLarge) return ['#TRACEBACK', traceback('ValueError', resultTooLarge(error.limit, undefined, givenBack))];
  return ['#UNSERIALIZABLE', traceback('PicklingError', `${(error as Error).message}${givenBackNote(givenBack)}`)];
}

/** The reply to a control call (`create`, `incref`, ...) that failed: CPython answers each with its traceback. */
export function controlFailureReply(error: unknown): Reply {
  if (error instanceof CallError) return callErrorReply(error);
  const d = describeThrown(error);
  return ['#TRACEBACK', traceback(d.type, d.message)];
}

function callErrorReply(error: CallError): Reply {
  if (error instanceof UnknownObjectError) {
    const id = JSON.stringify(error.objectId);
    return ['#TRACEBACK', traceback('KeyError', error.during === 'call' ? `${id}: no such object (never created, or every reference was released)` : id)];
  }
  if (error instanceof MethodNotExposedError) {
    const exposed = `(${error.exposed.map((m) => `'${m}'`).join(', ')}${error.exposed.length === 1 ? ',' : ''})`;
    return ['#TRACEBACK', traceback('AttributeError', `method '${error.method}' of ${error.typeid} object is not in exposed=${exposed}`)];
  }
  if (error instanceof NotCreatableError) return ['#TRACEBACK', traceback('ValueError', error.message)];
  // UnknownTypeidError, UnknownResultTypeidError: the registry has no such typeid.
  return ['#TRACEBACK', traceback('KeyError', error.message)];
}
