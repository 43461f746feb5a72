/**
 * What can go wrong with a call before or after the object's own method runs, one class per
 * meaning. The object service raises them; each protocol's session turns them into its own wire
 * form (a JSON-RPC error object, or CPython's `#TRACEBACK`), so the facts live here and the words
 * of each protocol live beside that protocol.
 */

import { ValueCodecError } from '../../common/valueCodecError';
import { PyException } from '../exceptions';
import type { ObjectEntry } from '../objectTable';

/** The base of the object service's own errors. */
export abstract class CallError extends Error {
  override name = 'CallError';
}

/** `create` named a typeid the registry does not have. */
export class UnknownTypeidError extends CallError {
  override name = 'UnknownTypeidError';
  constructor(readonly typeid: unknown) {
    super(`typeid ${JSON.stringify(typeid)} is not registered`);
  }
}

/** `create` named a typeid that has no callable: its objects come only from methods. */
export class NotCreatableError extends CallError {
  override name = 'NotCreatableError';
  constructor(readonly typeid: string) {
    super(`typeid ${JSON.stringify(typeid)} has no callable: its objects come only from methods that return proxies`);
  }
}

/** A method of `methodToTypeid` ran, but the typeid its result should become is not registered. */
export class UnknownResultTypeidError extends CallError {
  override name = 'UnknownResultTypeidError';
  constructor(readonly typeid: string) {
    super(`methodToTypeid names typeid ${JSON.stringify(typeid)}, which is not registered`);
  }
}

/**
 * No object has this id: it was never created, or every reference was released. `during` says
 * whether a method call asked (its message says why an id may be gone) or a reference operation.
 */
export class UnknownObjectError extends CallError {
  override name = 'UnknownObjectError';
  constructor(
    readonly objectId: unknown,
    readonly during: 'call' | 'reference',
  ) {
    super(`no object with id ${JSON.stringify(objectId)}${during === 'call' ? ' (never created, or every reference was released)' : ''}`);
  }
}

/**
 * `delivery/ack` or `delivery/nack` named a delivery the calling session does not hold (SPEC 20.3):
 * acknowledged or given back already, or never delivered to it.
 */
export class UnknownDeliveryError extends CallError {
  override name = 'UnknownDeliveryError';
  constructor(
    readonly objectId: string,
    readonly deliveryId: unknown,
  ) {
    super(
      `delivery ${JSON.stringify(deliveryId)} of object ${objectId} is not held by this session: it was acknowledged or given back already ` +
        '(nack, its visibility timeout, or the session that took it ended), or never delivered to this session',
    );
  }
}

/**
 * A call asked for `ack` on a method that delivers nothing (only a queue's get and get_nowait do),
 * or on the get of a queue kept elsewhere than in this manager's memory (a Redis store's).
 */
export class NotAcknowledgeableError extends CallError {
  override name = 'NotAcknowledgeableError';
  constructor(
    readonly typeid: string,
    readonly method: string,
  ) {
    super(`ack applies only to get and get_nowait of a queue, not to ${method} of ${typeid}`);
  }
}

/** The method is neither exposed by the object nor one of the fallbacks every object answers. */
export class MethodNotExposedError extends CallError {
  override name = 'MethodNotExposedError';
  readonly typeid: string;
  readonly objectId: string;
  readonly exposed: readonly string[];
  constructor(
    entry: ObjectEntry,
    readonly method: string,
  ) {
    super(`method '${method}' of ${entry.typeid} object ${entry.id} is not exposed`);
    this.typeid = entry.typeid;
    this.objectId = entry.id;
    this.exposed = entry.exposed;
  }
}

/**
 * A proxy inside the arguments names an object that does not exist. A ValueCodecError, so the
 * value codec adds where in the arguments it was (`{at}`).
 */
export class UnknownProxyTargetError extends ValueCodecError {
  override name = 'UnknownProxyTargetError';
  constructor(readonly objectId: string) {
    super(`$proxy {at} names object ${JSON.stringify(objectId)}, which does not exist (never created, or every reference was released)`);
  }
}

/** A proxy inside the arguments names an object as another typeid than the one it has. */
export class ProxyTypeMismatchError extends ValueCodecError {
  override name = 'ProxyTypeMismatchError';
  constructor(objectId: string, claimed: string, actual: string) {
    super(`$proxy {at} names object ${JSON.stringify(objectId)} as a ${JSON.stringify(claimed)}, but it is a ${JSON.stringify(actual)}`);
  }
}

/** A client asked to stop the manager, which does not allow it: Python's PermissionError on every protocol. */
export class ShutdownNotAllowedError extends PyException {
  constructor() {
    super('PermissionError', 'this manager does not allow clients to shut it down');
  }
}
