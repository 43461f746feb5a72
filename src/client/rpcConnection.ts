/**
 * A lean JSON-RPC 2.0 client over an authenticated socket: the same wire format as
 * vscode-jsonrpc, but every message parsed in the turn it arrives and every request made in one
 * turn sent in one write. Cancellation sends `$/cancelRequest` and then waits for the server's
 * word: either the call had no effect (the promise rejects) or it completed first (the promise
 * resolves with its result), so an item taken by a get is never dropped on the floor.
 */

import type { Socket } from 'node:net';
import { ErrorCodes } from '../common/errorCodes';
import { AttachmentError, resolveAttachments } from '../common/attachments';
import { ContentLengthDecoder, FramingError, type OutgoingMessage } from '../common/framing';
import { writeJson } from '../common/jsonText';
import { SilenceWatch } from '../common/liveness';
import { Outbox } from '../common/outbox';
import { AnswersSeenNotification, CancelNotification, InitializeRequest, PingRequest, type NotificationType, type RequestType } from '../common/protocol';
import { ConnectionClosedError, ConnectionLostError, ManagerError, ProtocolError } from './errors';
import { PendingRequests } from './pendingRequests';
import { readQuickResult, type QuickResult } from './quickAnswer';
import type { SocketReader } from '../common/socketReader';

type Id = number;

/**
 * How the answers of a kind of request become what its callers get: one object shared by all
 * such requests, each request's own particulars in its `context`, so that a call allocates no
 * functions of its own.
 */
export interface AnswerMapping {
  /** What the caller gets for a result; a throw rejects with what was thrown. */
  result(result: unknown, context: unknown): unknown;
  /** What the caller gets for a failure (an RpcResponseError or a ManagerError). */
  error(error: unknown, context: unknown): unknown;
}

/** A request awaiting its answer. */
export interface Pending {
  /** The request as sent, to send again on a connection that resumes the session (SPEC 20.4). */
  json: OutgoingMessage;
  /** The answer to initialize is not counted (SPEC 20.4). */
  uncounted: boolean;
  /** The promise's own functions: the answer settles it directly, with no promise chained after. */
  resolve(result: unknown): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Turns the answer into what the caller gets; none: the result as it is, the failure as it is. */
  mapping: AnswerMapping | undefined;
  /** What {@link mapping} is given beside the answer. */
  context: unknown;
}

/** The request no longer listens to its signal: it is answered, failed, or moves to another connection. */
function letGoOfAbort(entry: Pending): void {
  if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
}

/**
 * Fails a request a lost connection left ({@link RpcConnection.takeOrphans}) that no connection
 * will send again: it rejects with `error` and lets go of its signal.
 */
export function failOrphan(entry: Pending, error: unknown): void {
  letGoOfAbort(entry);
  entry.reject(error);
}

/** A new pending request, every field set so that all share one shape. */
function pendingRequest(json: OutgoingMessage, mapping: AnswerMapping | undefined, context: unknown): Pending {
  return { json, uncounted: false, resolve: ignore, reject: ignore, signal: undefined, onAbort: undefined, mapping, context };
}

function ignore(): void {}

/** The entry whose promise is being made: {@link capture} gives it the promise's functions, with no closure made per request. */
let capturing: Pending | undefined;

function capture(resolve: (result: unknown) => void, reject: (error: unknown) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

/** A JSON-RPC error object as received. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** Raised for an error response: carries the raw error object for the caller to interpret. */
export class RpcResponseError extends Error {
  constructor(readonly error: RpcErrorObject) {
    super(error.message);
  }
}

/** UTF-8 bytes of a request's text beside its id, method and params: `{"jsonrpc":"2.0","id":,"method":,"params":}`. */
const ENVELOPE_BYTES = '{"jsonrpc":"2.0","id":,"method":,"params":}'.length;

/** Answers between two `$/answersSeen` (SPEC 20.4): the manager keeps at most this many more than needed. */
const ANSWERS_SEEN_EVERY = 64;

/**
 * Where request ids come from: one counter for every connection of a client, so that an id is
 * never used twice in a session, whichever connection it went on (SPEC 20.4).
 */
export interface RequestIds {
  next: number;
}

/** The connection. */
export class RpcConnection {
  /**
   * Answers received in the session, over all its connections (SPEC 20.4): the manager keeps the
   * answers it sent until told they arrived.
   */
  answersSeen: number;
  #answersReported: number;
  /**
   * Whether to report {@link answersSeen} (the session is resumable; on a connection that resumed
   * it, once the lost connection's requests are adopted: {@link adopt}).
   */
  reportsAnswers = false;
  /** Set when the session is resumable: a lost connection keeps its pending requests for the next one. */
  keepsPendingOnLoss = false;
  /** Requests pending when the connection was lost, kept for the connection that resumes the session. */
  #orphans: Map<Id, Pending> | undefined;
  /**
   * On a connection resuming a session, until {@link adopt}: the answers that came for none of its
   * own requests, by id. They answer the lost connection's requests, sent by the manager as the
   * session is resumed (calls that completed while it was detached), and are counted in
   * {@link answersSeen}: a request they answer is settled with them, never sent again, since the
   * manager forgets an answer the client counted (SPEC 20.4).
   */
  #early: Map<Id, { error: RpcErrorObject | undefined; result: unknown }> | undefined;
  private readonly pending = new PendingRequests<Pending>();
  readonly #quotedMethods = new Map<string, { text: string; bytes: number }>();
  /** Where {@link readQuickResult} reads an answer into. */
  readonly #quick: QuickResult = { id: 0, result: undefined };
  private readonly outbox: Outbox;
  private closedError: ManagerError | undefined;
  /** Set when the connection was lost to a message the manager sent that this client cannot read: what it was. */
  unreadable: string | undefined;
  private readonly decoder: ContentLengthDecoder;
  private readonly closeListeners: ((error: ManagerError) => void)[] = [];
  private liveness: SilenceWatch | undefined;
  /** Whether the manager granted `binaryAttachments` (SPEC 5.1): requests may then carry bytes as attachments. */
  binaryAttachments = false;
  /** The list {@link attachmentList} hands out, kept while requests carry no bytes so that they allocate none. */
  #spareAttachments: Buffer[] = [];
  /** Called for every notification the server sends. */
  onNotification?: (method: string, params: unknown) => void;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    private readonly describe: string,
    /** The client's request ids. */
    private readonly ids: RequestIds = { next: 1 },
    /** The answers the session received before this connection, when it resumes one (SPEC 20.4). */
    answersSeen = 0,
    /** Where the socket's bytes are read from, when not from its 'data' events. */
    reader?: SocketReader,
  ) {
    this.answersSeen = answersSeen;
    this.#answersReported = answersSeen;
    this.decoder = new ContentLengthDecoder((body, attachments) => this.onMessage(body, attachments));
    // Read whenever they come: a manager sends them only to a client that asked (SPEC 5.1).
    this.decoder.acceptAttachments = true;
    this.outbox = new Outbox(socket);
    if (!reader) socket.on('data', (chunk: Buffer) => this.onData(chunk, false));
    socket.on('close', () => this.fail(new ConnectionLostError(`the connection to the manager at ${describe} closed`)));
    socket.on('error', (error) => this.fail(new ConnectionLostError(`the connection to the manager at ${describe} failed: ${error.message}`, { cause: error })));
    if (head.length) this.onData(head, false);
    reader?.readInto((chunk) => this.onData(chunk, true), () => this.decoder.readPlace);
    socket.resume();
  }

  /** Whether the connection is still usable. */
  get isOpen(): boolean {
    return this.closedError === undefined;
  }

  /** Why the connection is no longer usable; undefined while it is. */
  get failure(): ManagerError | undefined {
    return this.closedError;
  }

  /** Requests awaiting an answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Pings the server every quarter of `timeoutMs` and fails the connection (every waiting call
   * with ConnectionLostError) when nothing has arrived from it for `timeoutMs` (SPEC 20.1).
   */
  watchLiveness(timeoutMs: number): void {
    this.liveness?.stop();
    // Nothing to watch on a connection that failed already.
    if (this.closedError) return;
    this.liveness = new SilenceWatch(timeoutMs, {
      tick: () => {
        this.request(PingRequest.type, {}).catch(() => {});
      },
      silent: () => {
        this.fail(new ConnectionLostError(`the manager at ${this.describe} did not answer for ${timeoutMs / 1000} s (liveness timeout): it may be stopped, overloaded or unreachable`));
        this.socket.destroy();
      },
    });
  }

  /** Registers a listener for the connection's end. */
  onClose(listener: (error: ManagerError) => void): void {
    this.closeListeners.push(listener);
  }

  /**
   * Sends a request of a protocol message type. Rejects with {@link RpcResponseError} for an
   * error response, or a {@link ManagerError} when the connection is gone.
   */
  request<P, R>(type: RequestType<P, R>, params: P, signal?: AbortSignal): Promise<R> {
    let paramsJson: string;
    try {
      paramsJson = writeJson(params);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(type.method, paramsJson, signal) as Promise<R>;
  }

  /**
   * Sends a request whose params are already JSON text (write it with `writeJson`, right after
   * encoding its values), its answer passed through `mapping` with `context` before the promise
   * settles: the calls' hot path, which so needs no second promise and no extra microtask after
   * the answer. `attachments` are the byte strings the params' `$attachment` tags refer to (SPEC 5.1).
   * `paramsBytes`, the UTF-8 length of `paramsJson` if known, spares measuring the message.
   */
  send(method: string, paramsJson: string, signal?: AbortSignal, mapping?: AnswerMapping, context?: unknown, attachments?: Buffer[], paramsBytes?: number): Promise<unknown> {
    // A request withdrawn before it was sent is cancelled, whether or not the connection is still there.
    if (this.closedError && !signal?.aborted) return Promise.reject(mapping ? mapping.error(this.closedError, context) : this.closedError);
    const id = this.ids.next++;
    const idText = `${id}`;
    const quoted = this.#quotedMethod(method);
    const text = `{"jsonrpc":"2.0","id":${idText},"method":${quoted.text},"params":${paramsJson}}`;
    let json: OutgoingMessage = text;
    if (attachments?.length) {
      json = { json: text, attachments };
      if (attachments === this.#spareAttachments) this.#spareAttachments = [];
    }
    const entry = pendingRequest(json, mapping, context);
    capturing = entry;
    const promise = new Promise(capture);
    capturing = undefined;
    if (method === InitializeRequest.type.method) entry.uncounted = true;
    if (signal) {
      if (signal.aborted) {
        // Never sent: nothing to withdraw.
        this.settle(entry, { code: ErrorCodes.RequestCancelled, message: 'cancelled before it was sent' }, undefined);
        return promise;
      }
      entry.signal = signal;
      entry.onAbort = () => this.notify(CancelNotification.type, { id });
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.pending.set(id, entry);
    // Framed here when the params' length is known: the text is then never measured (SPEC 5).
    if (paramsBytes === undefined || json !== text) this.write(json);
    else this.outbox.pushFrame(`Content-Length: ${ENVELOPE_BYTES + idText.length + quoted.bytes + paramsBytes}\r\n\r\n${text}`);
    return promise;
  }

  /** A method name as JSON text and its UTF-8 length, each written once. */
  #quotedMethod(method: string): { text: string; bytes: number } {
    let quoted = this.#quotedMethods.get(method);
    if (quoted === undefined) {
      const text = JSON.stringify(method);
      this.#quotedMethods.set(method, (quoted = { text, bytes: Buffer.byteLength(text) }));
    }
    return quoted;
  }

  /**
   * An empty list for the byte strings of the next request's params (pass it to `encodeValue`, then
   * to {@link send}); undefined when the manager did not grant `binaryAttachments`.
   */
  attachmentList(): Buffer[] | undefined {
    if (!this.binaryAttachments) return undefined;
    const list = this.#spareAttachments;
    // Left over from params that failed to encode halfway.
    list.length = 0;
    return list;
  }

  /** The requests left unanswered when the connection was lost (with {@link keepsPendingOnLoss}); taken once. */
  takeOrphans(): Map<Id, Pending> {
    const orphans = this.#orphans ?? new Map<Id, Pending>();
    this.#orphans = undefined;
    return orphans;
  }

  /**
   * Takes over requests of a lost connection of the same session: their answers, sent again by the
   * manager, settle them here. Call once resumed, then {@link resendAdopted}. The answers the
   * manager sent before this, of calls that completed while the session was detached, settle
   * their requests now, which are not sent again ({@link keepEarlyAnswers}). From now on the answers
   * received are reported (SPEC 20.4).
   */
  adopt(orphans: Map<Id, Pending>): void {
    this.reportsAnswers = true;
    const early = this.#early;
    this.#early = undefined;
    for (const [id, entry] of orphans) {
      letGoOfAbort(entry);
      const answer = early?.get(id);
      if (answer) {
        // Answered already, and counted: settled here, not sent again.
        this.settle(entry, answer.error, answer.result);
        continue;
      }
      if (entry.signal) {
        entry.onAbort = () => this.notify(CancelNotification.type, { id });
        entry.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.set(id, entry);
    }
  }

  /**
   * The session this connection was to resume is gone and a new one starts on it: the new
   * session's answers are counted from 0, as the manager numbers them (SPEC 20.4); the old
   * session's count would be more than it ever sent, and it would refuse to resume the new one.
   */
  countAnswersAnew(): void {
    this.answersSeen = 0;
    this.#answersReported = 0;
    this.#early = undefined;
  }

  /** This connection resumes a session: the answers that come for none of its requests before {@link adopt} are kept for it. */
  keepEarlyAnswers(): void {
    this.#early = new Map();
  }

  /** Sends again, with the same ids, the adopted requests still unanswered: the manager answers each once (SPEC 20.4). */
  resendAdopted(orphans: Map<Id, Pending>): void {
    for (const [id, entry] of orphans) {
      if (this.pending.get(id) !== entry) continue;
      this.write(entry.json);
      // Withdrawn while the connection was away: withdrawn now.
      if (entry.signal?.aborted) this.notify(CancelNotification.type, { id });
    }
  }

  /** Sends a notification of a protocol message type. */
  notify<P>(type: NotificationType<P>, params: P): void {
    if (this.closedError) return;
    this.write(JSON.stringify({ jsonrpc: '2.0', method: type.method, params }));
  }

  /** Ends the connection; pending requests fail with ConnectionClosedError. */
  close(): void {
    this.outbox.flush();
    this.fail(new ConnectionClosedError(`the connection to the manager at ${this.describe} was closed by this client`));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private write(json: OutgoingMessage): void {
    this.outbox.push(json);
  }

  /** Reads a chunk; a `transient` one is valid only during the call. */
  private onData(chunk: Buffer, transient: boolean): void {
    this.liveness?.heard();
    try {
      if (transient) this.decoder.pushTransient(chunk);
      else this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.lostToUnreadable(`malformed frames (${error.message})`);
    }
  }

  private onMessage(body: string, attachments?: Buffer[]): void {
    const quick = this.#quick;
    if (!attachments && readQuickResult(body, quick)) {
      const result = quick.result;
      quick.result = undefined;
      return this.answered(quick.id, undefined, result);
    }
    let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: RpcErrorObject };
    try {
      message = JSON.parse(body);
    } catch {
      message = null as never;
    }
    if (typeof message !== 'object' || message === null) {
      this.lostToUnreadable('something that is not a JSON-RPC message');
      return;
    }
    if (attachments) {
      try {
        resolveAttachments(message, attachments);
      } catch (error) {
        if (!(error instanceof AttachmentError)) throw error;
        this.lostToUnreadable(`a frame whose attachments do not match its message (${error.message})`);
        return;
      }
    }
    if (typeof message.method === 'string') {
      if (message.id === undefined) this.onNotification?.(message.method, message.params);
      // A request from the server: none is defined yet, so each is one this client does not know (SPEC 6).
      else if (typeof message.id === 'number' || typeof message.id === 'string') {
        this.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCodes.MethodNotFound, message: `this client does not know the request ${JSON.stringify(message.method)}` } }));
      }
      return;
    }
    const id = message.id;
    if (typeof id === 'string') this.countAnswer();
    if (typeof id !== 'number') {
      // An error with id null answers no request of ours (SPEC 6): a refused reused id, say. Only
      // one about the byte stream itself means the connection is in trouble.
      if (message.error && (message.error.code === ErrorCodes.ParseError || message.error.code === ErrorCodes.MessageTooLarge)) {
        this.fail(new ProtocolError(`the manager at ${this.describe} reported: ${message.error.message}`, message.error.code, message.error.data));
        this.socket.destroy();
      }
      return;
    }
    this.answered(id, message.error, message.result);
  }

  /**
   * The manager sent what this client cannot read (`what`): nothing more on this connection can be
   * paired with its call, and a new connection starts clean, so the connection is lost (SPEC 20.2),
   * and says why in {@link unreadable}.
   */
  private lostToUnreadable(what: string): void {
    this.unreadable = `the manager at ${this.describe} sent ${what}`;
    this.fail(new ConnectionLostError(`${this.unreadable}: the connection was closed`));
    this.socket.destroy();
  }

  /** The answer to request `id` arrived. */
  private answered(id: number, error: RpcErrorObject | undefined, result: unknown): void {
    const entry = this.pending.take(id);
    if (!entry?.uncounted) this.countAnswer();
    if (!entry) {
      this.#early?.set(id, { error, result });
      return;
    }
    letGoOfAbort(entry);
    this.settle(entry, error, result);
  }

  /** Settles a request's promise with its answer: `error` (an error response or a lost connection) or `result`. */
  private settle(entry: Pending, error: RpcErrorObject | ManagerError | undefined, result: unknown): void {
    const mapping = entry.mapping;
    if (error) {
      const failure = error instanceof ManagerError ? error : new RpcResponseError(error);
      entry.reject(mapping ? mapping.error(failure, entry.context) : failure);
      return;
    }
    if (!mapping) return entry.resolve(result);
    let value: unknown;
    try {
      value = mapping.result(result, entry.context);
    } catch (thrown) {
      entry.reject(thrown);
      return;
    }
    entry.resolve(value);
  }

  /** One more answer arrived (SPEC 20.4): told to the manager now and then, so it can forget what it kept. */
  private countAnswer(): void {
    this.answersSeen++;
    if (this.reportsAnswers && this.answersSeen - this.#answersReported >= ANSWERS_SEEN_EVERY) {
      this.#answersReported = this.answersSeen;
      this.notify(AnswersSeenNotification.type, { count: this.answersSeen });
    }
  }

  /**
   * Fails every pending request and every later one with `error` (the connection is unusable).
   * With {@link keepsPendingOnLoss}, a lost connection's pending requests are kept instead, for
   * the connection that resumes the session ({@link takeOrphans}).
   */
  fail(error: ManagerError): void {
    if (this.closedError) return;
    this.closedError = error;
    this.liveness?.stop();
    if (this.keepsPendingOnLoss && error instanceof ConnectionLostError) {
      this.#orphans = new Map(this.pending.entries());
      this.pending.clear();
      for (const listener of this.closeListeners) listener(error);
      return;
    }
    const pending = this.pending.entries();
    this.pending.clear();
    for (const [, entry] of pending) {
      letGoOfAbort(entry);
      this.settle(entry, error, undefined);
    }
    for (const listener of this.closeListeners) listener(error);
  }
}
