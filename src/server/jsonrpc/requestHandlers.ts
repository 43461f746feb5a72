/**
 * Request handlers keyed by the message types of `common/protocol.ts`, as vscode-jsonrpc's
 * `onRequest(Type, handler)`: a handler's params and result are typed by its message, and the
 * one place a method name meets its type is here.
 */

import type { RequestType } from '../../common/protocol';
import type { RequestId } from '../calls/sessionCore';

/** A handler of one request type. Its params are the message's, checked by the handler itself. */
export type RequestHandler<P, R> = (params: P, requestId: RequestId) => R | Promise<R>;

/** The handlers of one session. */
export class RequestHandlers {
  readonly #byMethod = new Map<string, RequestHandler<never, unknown>>();

  /** Handles requests of `type` with `handler`. */
  on<P, R>(type: RequestType<P, R>, handler: RequestHandler<P, R>): this {
    this.#byMethod.set(type.method, handler as RequestHandler<never, unknown>);
    return this;
  }

  /** The handler of a method name from the wire, or undefined for a method nobody handles. */
  get(method: string): RequestHandler<Record<string, unknown>, unknown> | undefined {
    // The params are the message's type from here on; each handler checks their fields.
    return this.#byMethod.get(method) as RequestHandler<Record<string, unknown>, unknown> | undefined;
  }
}
