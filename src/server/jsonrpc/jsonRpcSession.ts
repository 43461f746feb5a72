/**
 * One client session: the JSON-RPC side of an authenticated connection. It parses frames, checks
 * each message, hands requests to their handlers (which call the object service), and writes
 * the answers, batching every answer produced in one event-loop turn into a single write.
 * Blocking calls hold only their own request: `$/cancelRequest` or the connection closing
 * withdraws one with no side effect.
 */

import type { Socket } from 'node:net';
import { ErrorCodes } from '../../common/errorCodes';
import { ContentLengthDecoder, FramingError } from '../../common/framing';
import { writeJson } from '../../common/jsonText';
import { SilenceWatch } from '../../common/liveness';
import { Outbox } from '../../common/outbox';
import {
  CallRequest,
  CancelNotification,
  CreateRequest,
  DecrefRequest,
  DescribeRequest,
  IncrefRequest,
  InitializeRequest,
  InspectPeekRequest,
  InspectRemoveItemRequest,
  InspectSnapshotRequest,
  InspectSubscribeRequest,
  InspectUnsubscribeRequest,
  InspectUnwatchCallsRequest,
  InspectWatchCallsRequest,
  PingRequest,
  ShutdownRequest,
  type ClientInfo,
  type InitializeParams,
  type InitializeResult,
  type PeekParams,
  type PeekResult,
  type SessionSummary,
  type ShutdownParams,
  type SubscribeParams,
} from '../../common/protocol';
import { decodeValue, encodeValue, type DecodeOptions, type ProxyCodec } from '../../common/valueCodec';
import { exceedsJsonValues } from '../jsonValueCount';
import { tooManyValues } from '../limits';
import type { ArgumentReader, ObjectService } from '../calls/objectService';
import { ProxyResult } from '../calls/objectService';
import { SessionCore, type ConnectedSession, type RequestId, type SessionHost } from '../calls/sessionCore';
import { SharedRef } from '../calls/sharedRef';
import { PEEK_DEFAULT_LIMIT, PEEK_MAX_LIMIT } from '../inspector';
import { removeQueueItem, RemovalRefused } from '../queueItemRemoval';
import { errorObject, errorObjectFor, type ErrorObject } from './errorObjects';
import { agree } from './initialize';
import { decodeKeywords, expectCallFields, expectFields, RpcError } from './paramChecks';
import { RequestHandlers } from './requestHandlers';

/** A protocol result already in wire form (inspection results carry encoded values): sent as is. */
class WireResult {
  constructor(readonly json: unknown) {}
}

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);
const EMPTY_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The interval of an inspection notification stream, checked (default 100 ms; SPEC 17.5, 17.8). */
function notificationInterval(intervalMs: number | undefined): number {
  const interval = intervalMs ?? 100;
  if (!(interval >= 10 && interval <= 60_000)) throw new RpcError(ErrorCodes.InvalidParams, 'intervalMs must be between 10 and 60000');
  return interval;
}

/** Answer bytes a session may queue before it stops reading requests. */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

/** One connected client. */
export class Session implements ConnectedSession {
  /** What every session is: id, holdings, waiting calls, the close order. */
  readonly core: SessionCore;
  clientInfo: ClientInfo | undefined;
  processId: number | null = null;
  private initialized = false;
  /** Whether initialize granted the inspection capability. */
  private inspection = false;
  private closed = false;
  private closeStarted = false;
  private readonly decoder: ContentLengthDecoder;
  private readonly outbox: Outbox;
  private readonly handlers: RequestHandlers;
  /** Watches a client that agreed on ping for silence (SPEC 20.1). */
  private liveness: SilenceWatch | undefined;
  /** Whether reading is paused until the peer reads its answers. */
  private throttled = false;
  private framingFailed = false;
  /** Ids of requests answered later (blocking or asynchronous): an id may not be reused while in flight. */
  private readonly inFlight = new Set<RequestId>();
  /** The object the request being handled acts on, for inspection's change notifications. */
  private touching: string | undefined;
  private readonly touch = (objectId: string): void => {
    this.touching = objectId;
  };
  /**
   * Arguments: floats keep their floatness; a `$proxy` becomes a reference to the live object it
   * names (nested proxies: a queue stored in a dict, a lock given to a Condition).
   */
  private readonly argumentDecoding: DecodeOptions = {
    boxFloats: true,
    decodeProxy: (token) => this.service.argumentReference(token.id, token.typeid),
  };
  private readonly reader: ArgumentReader<unknown[] | undefined, Record<string, unknown> | undefined> = {
    args: (args) => (args === undefined ? EMPTY_ARGS : (decodeValue(args, this.argumentDecoding) as unknown[])),
    kwargs: (kwargs) => (kwargs === undefined ? EMPTY_KWARGS : decodeKeywords(kwargs, this.argumentDecoding)),
    fallbacksTakeNoArguments: true,
  };
  /** Results: a new proxy is its token; a stored reference gives this session a reference of its own and goes as a `$proxy`. */
  private readonly resultEncoding: ProxyCodec = {
    encodeProxy: (value) => {
      if (value instanceof ProxyResult) return this.host.table.tokenOf(value.entry);
      if (value instanceof SharedRef) return this.host.table.tokenOf(this.service.resultReference(value, this.core.holder));
      return undefined;
    },
  };

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
    private readonly service: ObjectService,
    /** The remote address, for logs and inspection. */
    readonly remoteAddress: string,
  ) {
    this.core = new SessionCore(host);
    this.decoder = new ContentLengthDecoder((body) => this.onMessage(body), host.maxMessageBytes);
    this.outbox = new Outbox(socket, (accepted) => {
      // No 'drain' follows a write the socket took whole: resume at once then.
      if (!accepted) this.throttle();
      else if (this.throttled) this.unthrottle();
    });
    this.handlers = this.protocolHandlers();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.core.watch(socket, { close: () => this.close(), closed: () => this.onClose(), label: 'session' });
    socket.on('drain', () => this.unthrottle());
  }

  /** This session's id, as inspection shows it. */
  get id(): string {
    return this.core.id;
  }

  /** The same id, as inspection subscribers name it. */
  get sessionId(): string {
    return this.core.id;
  }

  /** Whether the session stopped reading because its peer does not read its answers. */
  get isThrottled(): boolean {
    return this.throttled;
  }

  /** Requests currently blocked. */
  get pendingCount(): number {
    return this.core.pendingCount;
  }

  /** What inspection shows of this session. */
  summary(): SessionSummary {
    return this.core.summary({ protocol: 'jsonrpc', remoteAddress: this.remoteAddress, processId: this.processId, clientInfo: this.clientInfo });
  }

  /** Sends a notification to the client. */
  notify(method: string, params: unknown): void {
    if (this.core.closing) return;
    this.write(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Feeds bytes (also the ones that arrived with the handshake). */
  onData(chunk: Buffer): void {
    if (this.closed || this.framingFailed) return;
    try {
      this.decoder.push(chunk);
      if (!this.core.holdBuffered(this.decoder.pendingBytes)) throw new FramingError(this.host.buffers.refusal(), 'tooLarge');
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.decoder.discard();
      this.core.dropBuffered();
      // The stream cannot be resynchronised: read nothing more, answer once, close.
      this.framingFailed = true;
      this.socket.removeAllListeners('data');
      // Still read (and drop) what comes, so the peer's end is seen and the socket closes promptly.
      this.socket.resume();
      const code = error.kind === 'tooLarge' ? ErrorCodes.MessageTooLarge : ErrorCodes.ParseError;
      this.host.log(`session ${this.id}: ${error.message}; closing`);
      this.sendError(null, errorObject(code, error.message));
      this.close();
    }
  }

  /** Refuses a message over a limit that is read only once its body is there: answered, then the connection is closed (SPEC 19). */
  private refuseCostly(message: string): void {
    this.host.log(`session ${this.id}: ${message}; closing`);
    this.sendError(null, errorObject(ErrorCodes.MessageTooLarge, message));
    this.decoder.pause();
    this.close();
  }

  /** Ends the session: answers what is pending with ShuttingDown, then closes the connection. */
  close(): void {
    if (this.closeStarted) return;
    this.closeStarted = true;
    this.core.beginClosing();
    // The withdrawn calls answer in later microtasks: end the connection once they have.
    setImmediate(() => {
      this.outbox.flush();
      this.socket.end();
      // A peer that never reads would keep the socket half-open forever.
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.liveness?.stop();
    this.outbox.clear();
    this.decoder.discard();
    if (this.core.end()) this.host.sessionClosed(this);
  }

  private onMessage(body: string): void {
    this.liveness?.heard();
    if (exceedsJsonValues(body, this.host.maxMessageValues)) return this.refuseCostly(tooManyValues('JSON', this.host.maxMessageValues));
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (error) {
      return this.sendError(null, errorObject(ErrorCodes.ParseError, `invalid JSON: ${(error as Error).message}`));
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      const what = Array.isArray(message) ? 'batch requests are not supported: send requests one by one (they may be pipelined)' : 'a message must be a JSON object';
      return this.sendError(null, errorObject(ErrorCodes.InvalidRequest, what));
    }
    const m = message as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const hasId = 'id' in m;
    // An id is answered only if it can be echoed exactly: a string, or a number a double holds as
    // sent (not Infinity from 1e999, not an integer beyond ±(2^53 − 1)).
    const exactNumber = typeof m.id === 'number' && Number.isFinite(m.id) && (!Number.isInteger(m.id) || Number.isSafeInteger(m.id));
    const id = hasId && (exactNumber || typeof m.id === 'string') ? (m.id as RequestId) : null;
    if (m.jsonrpc !== '2.0') return this.sendError(id, errorObject(ErrorCodes.InvalidRequest, 'jsonrpc must be "2.0"'));
    if (typeof m.method !== 'string') {
      // A response from the client: the server sends no requests in 1.0, so there is nothing to match.
      if ('result' in m || 'error' in m) return;
      return this.sendError(id, errorObject(ErrorCodes.InvalidRequest, 'method must be a string'));
    }
    if (!hasId) return this.onNotification(m.method, m.params);
    if (id === null) {
      const why = typeof m.id === 'number' ? 'an integer id must be within ±(2^53 − 1) to be echoed exactly: use a smaller number or a string' : 'id must be a number or a string';
      return this.sendError(null, errorObject(ErrorCodes.InvalidRequest, why));
    }
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      return this.sendError(id, errorObject(ErrorCodes.InvalidParams, 'params must be an object (parameters are passed by name)'));
    }
    this.onRequest(id, m.method, (m.params ?? {}) as Record<string, unknown>);
  }

  private onNotification(method: string, params: unknown): void {
    if (method === CancelNotification.type.method) {
      const id = (params as { id?: unknown } | null)?.id;
      if (typeof id === 'number' || typeof id === 'string') this.core.cancel(id);
    }
    // Every other notification is ignored, as JSON-RPC asks.
  }

  private onRequest(id: RequestId, method: string, params: Record<string, unknown>): void {
    if (this.core.closing) return this.sendError(id, errorObject(ErrorCodes.ShuttingDown, 'the session is shutting down'));
    // Answered with id null (SPEC 6, since 1.3): the waiting request keeps the one answer its id gets.
    if (this.inFlight.has(id)) return this.sendError(null, errorObject(ErrorCodes.InvalidRequest, `request id ${JSON.stringify(id)} is already in use by a request in flight`));
    this.touching = undefined;
    let result: unknown;
    try {
      result = this.dispatch(id, method, params);
    } catch (error) {
      this.core.settled(id, this.touching);
      return this.sendThrown(id, error);
    }
    const touched = this.touching;
    if (result instanceof Promise) {
      this.inFlight.add(id);
      result.then(
        (value) => {
          this.inFlight.delete(id);
          this.core.settled(id, touched);
          // A waiting call's answer goes out a turn later: if the client's end of stream came
          // with what woke the call, what it took goes back instead of into a dead connection.
          setImmediate(() => this.sendResult(id, value));
        },
        (error) => {
          this.inFlight.delete(id);
          this.core.settled(id, touched);
          this.sendThrown(id, error);
        },
      );
    } else {
      this.core.settled(id, touched);
      this.sendResult(id, result);
    }
  }

  private dispatch(id: RequestId, method: string, params: Record<string, unknown>): unknown {
    if (method !== InitializeRequest.type.method) {
      if (!this.initialized) throw new RpcError(ErrorCodes.ServerNotInitialized, `${method} before initialize: send initialize first`);
      if (method.startsWith('inspect/') && !this.inspection) {
        const off = this.host.inspectionAllowed ? '' : ' (this manager has inspection turned off)';
        throw new RpcError(ErrorCodes.MethodNotFound, `${method} needs the inspection capability: ask for capabilities.inspection with protocol 1.1 in initialize${off}`);
      }
    }
    const handler = this.handlers.get(method);
    if (!handler) throw new RpcError(ErrorCodes.MethodNotFound, `unknown method ${JSON.stringify(method)}`);
    const result = handler(params, id);
    // Only a call's result is an application value to encode; every other result is protocol data,
    // sent as it is (a method named `$x` in a typeid's methodToTypeid must not become a `$dict`).
    if (method === CallRequest.type.method) return result;
    // A protocol answer read from a store (a peek of a queue kept in Redis) is sent once it is read.
    return result instanceof Promise ? result.then((value) => new WireResult(value)) : new WireResult(result);
  }

  /** The protocol's requests, by message type. */
  private protocolHandlers(): RequestHandlers {
    const { host, service, core } = this;
    return new RequestHandlers()
      .on(InitializeRequest.type, (params) => this.initialize(params))
      .on(CallRequest.type, (params, requestId) => {
        expectCallFields(params);
        return service.call(core, requestId, params.id, params.method, params.args, params.kwargs, this.reader, this.touch);
      })
      .on(CreateRequest.type, (params) => {
        expectFields(params, { typeid: 'string', args: 'array?', kwargs: 'object?' });
        const entry = service.create(core, params.typeid, params.args, params.kwargs, this.reader);
        this.touching = entry.id;
        return host.table.tokenOf(entry);
      })
      .on(IncrefRequest.type, (params) => {
        expectFields(params, { id: 'string' });
        this.touching = service.incref(core, params.id).id;
        return null;
      })
      .on(DecrefRequest.type, (params) => {
        expectFields(params, { id: 'string' });
        this.touching = service.decref(core, params.id).id;
        return null;
      })
      .on(DescribeRequest.type, (params) => {
        expectFields(params, {});
        return { typeids: service.describe() };
      })
      .on(ShutdownRequest.type, (params) => this.shutdown(params))
      .on(PingRequest.type, (params) => {
        expectFields(params, {});
        return null;
      })
      .on(InspectSnapshotRequest.type, (params) => {
        expectFields(params, {});
        return host.snapshot();
      })
      .on(InspectPeekRequest.type, (params) => this.peek(params))
      .on(InspectSubscribeRequest.type, (params: SubscribeParams) => {
        expectFields(params, { intervalMs: 'number?' });
        host.inspector.subscribe(this, notificationInterval(params.intervalMs));
        return null;
      })
      .on(InspectUnsubscribeRequest.type, (params) => {
        expectFields(params, {});
        host.inspector.unsubscribe(this.id);
        return null;
      })
      .on(InspectRemoveItemRequest.type, (params) => {
        expectFields(params, { id: 'string', index: 'number', expected: 'any' });
        if (!Number.isInteger(params.index) || params.index < 0) throw new RpcError(ErrorCodes.InvalidParams, 'index must be a whole number, 0 or more');
        const entry = service.entry(params.id, 'reference', true);
        try {
          const result = removeQueueItem(host.inspector, entry, params.index, params.expected);
          this.touching = entry.id;
          return result;
        } catch (error) {
          if (error instanceof RemovalRefused) throw new RpcError(ErrorCodes.InvalidParams, error.message);
          throw error;
        }
      })
      .on(InspectWatchCallsRequest.type, (params) => {
        expectFields(params, { intervalMs: 'number?' });
        host.activity.watch(this, notificationInterval(params.intervalMs));
        return null;
      })
      .on(InspectUnwatchCallsRequest.type, (params) => {
        expectFields(params, {});
        host.activity.unwatch(this.id);
        return null;
      });
  }

  private initialize(params: InitializeParams): InitializeResult {
    if (this.initialized) throw new RpcError(ErrorCodes.InvalidRequest, 'initialize was already called on this session');
    const agreement = agree(params, this.host);
    this.clientInfo = agreement.clientInfo;
    this.processId = agreement.processId;
    this.inspection = agreement.inspection;
    this.initialized = true;
    if (agreement.ping) this.watchLiveness();
    // Inspection tools show sessions by name: the name is known from now on.
    if (this.host.inspector.active) this.host.inspector.sessionsChanged();
    return { ...agreement.result, sessionId: this.id };
  }

  /** Drops the session when the client, which promised to ping, falls silent (SPEC 20.1). */
  private watchLiveness(): void {
    const timeoutMs = this.host.livenessTimeoutMs;
    this.liveness = new SilenceWatch(timeoutMs, {
      silent: () => {
        this.host.log(`session ${this.id}: nothing from the client for ${timeoutMs / 1000} s although it asked for liveness pings; dropping it`);
        this.core.peerLeft();
        this.socket.destroy();
      },
    });
  }

  private peek(params: PeekParams): PeekResult | Promise<PeekResult> {
    expectFields(params, { id: 'string', offset: 'number?', limit: 'number?' });
    const offset = params.offset ?? 0;
    const limit = params.limit ?? PEEK_DEFAULT_LIMIT;
    if (!Number.isInteger(offset) || offset < 0) throw new RpcError(ErrorCodes.InvalidParams, 'offset must be a whole number, 0 or more');
    if (!Number.isInteger(limit) || limit < 1 || limit > PEEK_MAX_LIMIT) throw new RpcError(ErrorCodes.InvalidParams, `limit must be a whole number from 1 to ${PEEK_MAX_LIMIT}`);
    return this.host.inspector.peek(this.service.entry(params.id, 'reference', true), offset, limit);
  }

  private shutdown(params: ShutdownParams): null {
    expectFields(params, { server: 'boolean?' });
    // At once, so a request pipelined after shutdown is refused rather than carried out.
    if (params.server) this.service.shutdown(this.core);
    else this.close();
    this.host.table.releaseSession(this.id);
    return null;
  }

  /** Sends a result; one that cannot reach the client gives back what its call took. */
  private sendResult(id: RequestId, value: unknown): void {
    if (this.core.peerGone) {
      this.core.undelivered(id, value);
      return;
    }
    let json: string;
    try {
      const result = value instanceof WireResult ? value.json : encodeValue(value, this.resultEncoding);
      json = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${writeJson(result ?? null)}}`;
      const limit = this.host.maxMessageBytes;
      if (json.length > limit / 3 && Buffer.byteLength(json) > limit) {
        const undone = this.core.undelivered(id, value) ? '; what the call took was given back' : '';
        const message = `the result of ${Buffer.byteLength(json)} bytes exceeds the message limit of ${limit} bytes and was not sent${undone}; ask for less`;
        return this.sendError(id, errorObject(ErrorCodes.MessageTooLarge, message));
      }
    } catch (error) {
      const message = (error as Error).message;
      const undone = this.core.undelivered(id, value) ? '; what the call took was given back' : '';
      return this.sendError(id, errorObject(ErrorCodes.RemoteException, `the result cannot be sent: ${message}${undone}`, { type: 'TypeError', message }));
    }
    this.core.delivered(id);
    this.write(json);
  }

  private sendThrown(id: RequestId, error: unknown): void {
    this.core.delivered(id);
    this.sendError(id, errorObjectFor(error, this.core.closing));
  }

  private sendError(id: RequestId | null, error: ErrorObject): void {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, error }));
  }

  private write(json: string): void {
    if (this.closed) return;
    this.outbox.push(json);
    if (this.outbox.size + this.socket.writableLength > OUTPUT_HIGH_WATER) this.throttle();
  }

  /**
   * The peer is not reading its answers fast enough: read no more requests (even ones already
   * received) until the socket drains, so one client cannot make the server buffer without bound.
   */
  private throttle(): void {
    if (this.throttled) return;
    this.throttled = true;
    this.decoder.pause();
    this.socket.pause();
  }

  private unthrottle(): void {
    if (!this.throttled || this.closed || this.framingFailed) return;
    this.throttled = false;
    this.socket.resume();
    try {
      this.decoder.resume();
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.onData(Buffer.alloc(0));
    }
  }
}

