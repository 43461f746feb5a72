/**
 * The checks of a JSON-RPC message as a whole (SPEC 6): valid JSON, one object, `jsonrpc: "2.0"`,
 * a method name, an id the server can echo exactly, and params passed by name. What a message's
 * params must hold is each request's own check (`paramChecks.ts`).
 */

import { AttachmentError, resolveAttachments } from '../../common/attachments';
import { ErrorCodes } from '../../common/errorCodes';
import type { RequestId } from '../calls/sessionCore';
import { errorObject, type ErrorObject } from './errorObjects';
import { MessageTooCostly, parseDenseMessage } from './packedArguments';
import { readQuickRequest } from './quickRequest';

/** A message that passed the checks: a request (it has an id) or a notification. */
export interface IncomingMessage {
  readonly method: string;
  readonly id?: RequestId;
  readonly params?: Record<string, unknown>;
}

/** A message refused as a whole: answered with `error`, addressed to `id` when it could be echoed. */
export class MessageRefused extends Error {
  constructor(
    readonly id: RequestId | null,
    readonly error: ErrorObject,
  ) {
    super(error.message);
  }
}

/**
 * Reads one message body: the request or notification it holds, or undefined for a response
 * (the server sends no requests, so there is nothing to match it with). The message is the
 * parsed object itself, so a well-formed request costs no more than its parse. A frame's
 * attachments (SPEC 5.1) are bound to the `$attachment` tags of the request's params. A body
 * whose text is not UTF-8 (`notUtf8`, as the decoder found it) is not JSON (RFC 8259 8.1): refused
 * as such, never read with its bad bytes as U+FFFD, which would store other text than was sent.
 * @throws MessageRefused
 */
export function readMessage(body: string, attachments?: Buffer[], notUtf8?: boolean): IncomingMessage | undefined {
  if (notUtf8) throw new MessageRefused(null, errorObject(ErrorCodes.ParseError, 'invalid JSON: the body is not valid UTF-8 (SPEC 5)'));
  const message = readJsonRpc(body);
  if (attachments === undefined || message === undefined) return message;
  try {
    resolveAttachments(message.params, attachments);
  } catch (error) {
    if (!(error instanceof AttachmentError)) throw error;
    // A notification is never answered, so its attachments' faults are not either.
    if (message.id === undefined) return undefined;
    throw new MessageRefused(message.id, errorObject(ErrorCodes.InvalidParams, error.message));
  }
  return message;
}

function readJsonRpc(body: string): IncomingMessage | undefined {
  let message: unknown;
  // A message that would hold more than the rule allows once read: its envelope is checked as any, then it is refused.
  let tooCostly: string | undefined;
  try {
    // A dense message keeps its costliest arguments as text (SPEC §19); a call in the clients' own
    // form is read without parsing the whole; any other is parsed whole.
    message = parseDenseMessage(body) ?? readQuickRequest(body) ?? JSON.parse(body);
  } catch (error) {
    if (!(error instanceof MessageTooCostly)) throw new MessageRefused(null, errorObject(ErrorCodes.ParseError, `invalid JSON: ${(error as Error).message}`));
    [message, tooCostly] = [error.envelope, error.message];
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    const what = Array.isArray(message) ? 'batch requests are not supported: send requests one by one (they may be pipelined)' : 'a message must be a JSON object';
    throw new MessageRefused(null, errorObject(ErrorCodes.InvalidRequest, what));
  }
  const m = message as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  const hasId = 'id' in m;
  // An id is answered only if it can be echoed exactly: a string, or a number a double holds as
  // sent (not Infinity from 1e999, not an integer beyond ±(2^53 − 1)).
  const exactNumber = typeof m.id === 'number' && Number.isFinite(m.id) && (!Number.isInteger(m.id) || Number.isSafeInteger(m.id));
  const id = hasId && (exactNumber || typeof m.id === 'string') ? (m.id as RequestId) : null;
  if (m.jsonrpc !== '2.0') throw new MessageRefused(id, errorObject(ErrorCodes.InvalidRequest, 'jsonrpc must be "2.0"'));
  if (typeof m.method !== 'string') {
    if ('result' in m || 'error' in m) return undefined;
    throw new MessageRefused(id, errorObject(ErrorCodes.InvalidRequest, 'method must be a string'));
  }
  // A notification's params are its handler's to read: a malformed one is ignored, never answered.
  if (!hasId) return tooCostly === undefined ? (m as IncomingMessage) : undefined;
  if (id === null) {
    const why = typeof m.id === 'number' ? 'an integer id must be within ±(2^53 − 1) to be echoed exactly: use a smaller number or a string' : 'id must be a number or a string';
    throw new MessageRefused(null, errorObject(ErrorCodes.InvalidRequest, why));
  }
  if (tooCostly !== undefined) throw new MessageRefused(id, errorObject(ErrorCodes.MessageTooLarge, tooCostly));
  if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
    throw new MessageRefused(id, errorObject(ErrorCodes.InvalidParams, 'params must be an object (parameters are passed by name)'));
  }
  return m as IncomingMessage;
}
