/**
 * The control calls of CPython's `Server.public` (`create`, `incref`, `decref`, `dummy`,
 * `debug_info`, `number_of_objects`, `get_methods`, `accept_connection`, `shutdown`): the one call
 * a Python client makes on a fresh connection before the server closes it, or, for
 * `accept_connection`, before the connection becomes a client thread's channel.
 */

import { tupleFrom } from '../../common/valueTypes';
import type { ObjectService } from '../calls/objectService';
import type { SessionCore, SessionHost } from '../calls/sessionCore';
import { PyToken } from './pickle/pickleValues';
import { DECODED } from './pythonArguments';
import { controlFailureReply, traceback, type Reply } from './pythonReplies';

/** The connection a control call arrives on. */
export interface ControlCaller {
  readonly core: SessionCore;
  /** `accept_connection`: the connection becomes the channel of the client thread named `threadName`. */
  acceptConnection(threadName: string): void;
}

/**
 * Serves control call `method`; every failure is a reply, with the traceback CPython's server
 * gives. A create in a group's store replies once the group can find the object.
 */
export function controlCall(
  caller: ControlCaller,
  service: ObjectService,
  host: SessionHost,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
): Reply | Promise<Reply> {
  const core = caller.core;
  try {
    switch (method) {
      case 'create': {
        const [typeid, ...rest] = args;
        const entry = service.create(core, typeid, rest, kwargs, DECODED);
        return service.afterKnown<Reply>(entry, ['#RETURN', tupleFrom([entry.id, tupleFrom([...entry.exposed])])]);
      }
      case 'incref':
        service.incref(core, args[0]);
        return ['#RETURN', null];
      case 'decref':
        service.decref(core, args[0]);
        return ['#RETURN', null];
      case 'dummy':
        return ['#RETURN', null];
      case 'number_of_objects':
        return ['#RETURN', host.table.size];
      case 'debug_info': {
        const lines = [...host.table.all()].map((e) => `  ${e.id}:       refcount=${e.refcount}\n    ${e.typeid} object`);
        return ['#RETURN', lines.join('\n')];
      }
      case 'get_methods': {
        const token = args[0];
        const id = token instanceof PyToken ? token.id : args[0];
        return ['#RETURN', tupleFrom([...service.entry(id).exposed])];
      }
      case 'accept_connection':
        caller.acceptConnection(typeof args[0] === 'string' ? args[0] : 'client');
        return ['#RETURN', null];
      case 'shutdown':
        service.shutdown(core);
        return ['#RETURN', null];
      default:
        return ['#TRACEBACK', traceback('AttributeError', `'Server' has no public method ${JSON.stringify(method)}`)];
    }
  } catch (error) {
    return controlFailureReply(error);
  }
}
