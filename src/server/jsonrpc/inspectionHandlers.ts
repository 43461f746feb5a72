/**
 * The `inspect/*` requests (SPEC 17): a snapshot, a page of one object's items, change and
 * activity notification streams, and item-level edits. A session registers them only as
 * request handlers; the session itself checks the inspection capability before any of them runs.
 */

import { ErrorCodes } from '../../common/errorCodes';
import {
  InspectPeekRequest,
  InspectRemoveItemRequest,
  InspectReplaceItemRequest,
  InspectGroupRequest,
  InspectSnapshotRequest,
  InspectSubscribeRequest,
  InspectUnsubscribeRequest,
  InspectUnwatchCallsRequest,
  InspectWatchCallsRequest,
  type PeekParams,
  type PeekResult,
  type SubscribeParams,
} from '../../common/protocol';
import { decodeValue, type DecodeOptions } from '../../common/valueCodec';
import type { ObjectService } from '../calls/objectService';
import type { SessionHost } from '../calls/sessionCore';
import { PEEK_DEFAULT_LIMIT, PEEK_MAX_LIMIT, type Subscriber } from '../inspector';
import { removeShownItem, replaceShownItem } from '../itemEdits';
import type { ObjectEntry } from '../objectTable';
import { expectFields, RpcError } from './paramChecks';
import type { RequestHandlers } from './requestHandlers';

/** The session the inspection requests arrive on. */
export interface InspectingSession extends Subscriber {
  /** Notes the object a request acted on, for inspection's change notifications. */
  readonly touch: (objectId: string) => void;
  /** How values in a request become the server's (an edit's new item is one, as a call's argument is). */
  readonly values: { readonly argumentDecoding: DecodeOptions };
}

/** The interval of an inspection notification stream, checked (default 100 ms; SPEC 17.5, 17.8). */
function notificationInterval(intervalMs: number | undefined): number {
  const interval = intervalMs ?? 100;
  if (!(interval >= 10 && interval <= 60_000)) throw new RpcError(ErrorCodes.InvalidParams, 'intervalMs must be between 10 and 60000');
  return interval;
}

/**
 * The refusal of an `inspect/*` request on a session that initialize did not grant inspection
 * (`allowed`: whether the manager lets clients inspect at all).
 */
export function inspectionNotGranted(method: string, allowed: boolean): RpcError {
  const off = allowed ? '' : ' (this manager has inspection turned off)';
  return new RpcError(ErrorCodes.MethodNotFound, `${method} needs the inspection capability: ask for capabilities.inspection with protocol 1.1 in initialize${off}`);
}

/** Registers the `inspect/*` handlers of `session` with `handlers`. */
export function handleInspection(handlers: RequestHandlers, session: InspectingSession, host: SessionHost, service: ObjectService): RequestHandlers {
  /**
   * Runs an item-level edit of the object `params` names, once its index is checked (SPEC 17.9,
   * 17.10), noting the object for change notifications; a refusal is InvalidParams. Any object
   * inspection reaches: a resident queue nobody holds, a queue of the group held elsewhere.
   */
  const editItem = <R>(params: { id: string; index: number }, edit: (entry: ObjectEntry) => R | Promise<R>): R | Promise<R> => {
    if (!Number.isInteger(params.index) || params.index < 0) throw new RpcError(ErrorCodes.InvalidParams, 'index must be a whole number, 0 or more');
    // A refusal (ItemEditRefused), thrown here or by a store later, is InvalidParams through errorObjectFor.
    return service.changeInspected(params.id, (entry) => {
      const result = edit(entry);
      session.touch(entry.id);
      return result;
    });
  };
  const peek = (params: PeekParams): PeekResult | Promise<PeekResult> => {
    expectFields(params, { id: 'string', offset: 'number?', limit: 'number?' });
    const offset = params.offset ?? 0;
    const limit = params.limit ?? PEEK_DEFAULT_LIMIT;
    if (!Number.isInteger(offset) || offset < 0) throw new RpcError(ErrorCodes.InvalidParams, 'offset must be a whole number, 0 or more');
    if (!Number.isInteger(limit) || limit < 1 || limit > PEEK_MAX_LIMIT) throw new RpcError(ErrorCodes.InvalidParams, `limit must be a whole number from 1 to ${PEEK_MAX_LIMIT}`);
    const entry = service.inspected(params.id);
    // An object of the group this manager's table does not hold is found in the store first.
    return entry instanceof Promise ? entry.then((found) => host.inspector.peek(found, offset, limit)) : host.inspector.peek(entry, offset, limit);
  };
  return handlers
    .on(InspectSnapshotRequest.type, (params) => {
      expectFields(params, {});
      return host.snapshot();
    })
    .on(InspectGroupRequest.type, (params) => {
      expectFields(params, {});
      return host.groupView();
    })
    .on(InspectPeekRequest.type, peek)
    .on(InspectSubscribeRequest.type, (params: SubscribeParams) => {
      expectFields(params, { intervalMs: 'number?' });
      host.inspector.subscribe(session, notificationInterval(params.intervalMs));
      return null;
    })
    .on(InspectUnsubscribeRequest.type, (params) => {
      expectFields(params, {});
      host.inspector.unsubscribe(session.sessionId);
      return null;
    })
    .on(InspectRemoveItemRequest.type, (params) => {
      expectFields(params, { id: 'string', index: 'number', expected: 'any' });
      return editItem(params, (entry) => removeShownItem(host.inspector, entry, params.index, params.expected));
    })
    .on(InspectReplaceItemRequest.type, (params) => {
      expectFields(params, { id: 'string', index: 'number', expected: 'any', item: 'any' });
      // The new item is a value as an object/call argument is: tags decoded, a $proxy a live reference.
      return editItem(params, (entry) => replaceShownItem(host.inspector, entry, params.index, params.expected, decodeValue(params.item, session.values.argumentDecoding)));
    })
    .on(InspectWatchCallsRequest.type, (params) => {
      expectFields(params, { intervalMs: 'number?' });
      host.activity.watch(session, notificationInterval(params.intervalMs));
      return null;
    })
    .on(InspectUnwatchCallsRequest.type, (params) => {
      expectFields(params, {});
      host.activity.unwatch(session.sessionId);
      return null;
    });
}
