/**
 * One client session: the JSON-RPC side of an authenticated connection. It parses frames, checks
 * each message, dispatches to the manager, and writes the answers, batching every answer produced
 * in one event-loop turn into a single write. Blocking calls hold only their own request: each gets
 * an AbortSignal that `$/cancelRequest` or the connection closing aborts, withdrawing the call with
 * no side effect.
 */

import type { Socket } from 'node:net';
import { ErrorCodes } from '../common/errorCodes';
import { ContentLengthDecoder, FramingError, frameMessage } from '../common/framing';
import {
  type CallParams,
  type CreateParams,
  type InitializeParams,
  type InitializeResult,
  type RefParams,
  type ShutdownParams,
  type ClientInfo,
  type ServerCapabilities,
  type InspectSnapshot,
  type PeekParams,
  type PeekResult,
  type SessionSummary,
  type SubscribeParams,
  type Token,
  PROTOCOL_VERSION,
} from '../common/protocol';
import { decodeValue, encodeValue, ValueCodecError, type DecodeOptions, type ProxyCodec } from '../common/values';
import { CallCancelled, describeThrown, PyException } from './exceptions';
import { NoReferenceError, type ObjectEntry, type ObjectTable } from './objectTable';
import type { Inspector } from './inspector';
import { PEEK_DEFAULT_LIMIT, PEEK_MAX_LIMIT } from './inspector';
import type { Registry } from './registry';
import type { CallContext } from './signature';
import { invokeMethod } from './signature';
import { callFallback, FALLBACK_METHODS } from './fallbacks';
import { SharedRef, referent } from './sharedRef';
import { Holdings } from './holdings';
import type { BufferBudget } from './bufferBudget';
import { exceedsJsonValues } from './jsonValueCount';
import { tooManyValues } from './limits';
import { SessionCallContext, type CallingSession } from './callContext';

/** What a session needs from its manager. */
export interface SessionHost {
  readonly registry: Registry;
  readonly table: ObjectTable;
  readonly serverVersion: string;
  readonly maxMessageBytes: number;
  /** Most values one message may hold once read (see `limits.ts`). */
  readonly maxMessageValues: number;
  /** The bytes of incomplete messages all sessions hold, counted together. */
  readonly buffers: BufferBudget;
  /** Whether `shutdown { server: true }` may stop the manager. */
  readonly allowRemoteShutdown: boolean;
  /** Stops the manager (remote shutdown). */
  shutdownServer(): void;
  /** Called once when the session ends (a JSON-RPC session, or a Python client's channel). */
  sessionClosed(session: { readonly id: string; readonly clientInfo?: { name: string }; readonly remoteAddress: string }): void;
  /** Collects changes for inspection tools. */
  readonly inspector: Inspector;
  /** Whether clients that ask may inspect (the manager's `inspection` option). */
  readonly inspectionAllowed: boolean;
  /** Everything inspection shows. */
  snapshot(): InspectSnapshot;
  log(message: string): void;
}

/** An error to answer with a protocol code. */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

type RequestId = number | string;


/** A call result that goes back as a `$proxy` value. */
class ProxyResult {
  constructor(readonly token: Token) {}
}

/** A protocol result already in wire form (inspection results carry encoded values): sent as is. */
class WireResult {
  constructor(readonly json: unknown) {}
}


const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);

/** A call with no arguments: none given, or given empty (`args: []`, `kwargs: {}`), which is the same call. */
function isEmptyCall(params: { args?: unknown; kwargs?: unknown }): boolean {
  return (params.args === undefined || (Array.isArray(params.args) && params.args.length === 0)) && (params.kwargs === undefined || Object.keys(params.kwargs as object).length === 0);
}
const EMPTY_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Decodes keyword arguments member by member: the object itself is a name → value map, never a
 * tagged value, and a name starting with `$` is refused (it could not be told from a tag).
 */
function decodeKeywords(kwargs: Record<string, unknown>, argumentDecoding: DecodeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(kwargs)) {
    if (name.startsWith('$')) throw new RpcError(ErrorCodes.InvalidParams, `keyword argument names may not start with $: ${JSON.stringify(name)}`);
    out[name] = decodeValue(kwargs[name], argumentDecoding);
  }
  return out;
}

let sessionCounter = 0;

/** A new session id (`s1`, `s2`, ...), one sequence for every protocol, as inspection shows them. */
export function nextSessionId(): string {
  return `s${++sessionCounter}`;
}

/** A blocked call: what withdraws it, and what inspection shows of it. */
interface PendingCall {
  readonly controller: AbortController;
  readonly objectId: string;
  readonly typeid: string;
  readonly method: string;
  readonly since: number;
}

/** One connected client. */
export class Session implements CallingSession {
  /** This session's id, as inspection shows it. */
  readonly id = nextSessionId();
  /** The same id, as inspection subscribers name it. */
  get sessionId(): string {
    return this.id;
  }
  /** When the session started (ms since the epoch). */
  readonly startedAt = Date.now();
  clientInfo: ClientInfo | undefined;
  processId: number | null = null;
  private initialized = false;
  /** Whether initialize granted the inspection capability. */
  private inspection = false;
  private closing = false;
  private closed = false;
  private readonly decoder: ContentLengthDecoder;
  /** Requests that are waiting (blocking calls), with the controller that withdraws them. */
  private readonly pending = new Map<RequestId, PendingCall>();
  private outbox: string[] = [];
  /** Characters queued in the outbox, for backpressure. */
  private outboxSize = 0;
  /** Whether reading is paused until the peer reads its answers. */
  private throttled = false;
  private framingFailed = false;
  /** Ids of requests answered later (blocking or asynchronous): an id may not be reused while in flight. */
  private readonly inFlight = new Set<RequestId>();
  /** The object the request being dispatched acts on, for inspection's change notifications. */
  private touching: string | undefined;
  private flushScheduled = false;
  /** What this session holds (locks, permits), given back when it ends. */
  readonly holdings: Holdings;
  /**
   * Decoding of arguments: floats keep their floatness; a `$proxy` becomes a reference to the
   * live object it names (nested proxies: a queue stored in a dict, a lock given to a Condition).
   */
  private readonly argumentDecoding: DecodeOptions = {
    boxFloats: true,
    decodeProxy: (token) => {
      const entry = this.host.table.get(token.id);
      if (!entry) throw new ValueCodecError(`$proxy {at} names object ${JSON.stringify(token.id)}, which does not exist (never created, or every reference was released)`);
      if (entry.typeid !== token.typeid) {
        throw new ValueCodecError(`$proxy {at} names object ${JSON.stringify(token.id)} as a ${JSON.stringify(token.typeid)}, but it is a ${JSON.stringify(entry.typeid)}`);
      }
      return SharedRef.of(entry.obj);
    },
  };
  /**
   * Encoding of results: a proxy result is its token; a stored reference gives this session a
   * reference of its own and goes as a `$proxy`.
   */
  private readonly resultEncoding: ProxyCodec = {
    encodeProxy: (value) => {
      if (value instanceof ProxyResult) return value.token;
      if (value instanceof SharedRef) return this.host.table.tokenOf(this.host.table.addReferenceTo(value.obj, this.id));
      return undefined;
    },
  };

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
    /** The remote address, for logs and inspection. */
    readonly remoteAddress: string,
  ) {
    this.holdings = new Holdings(this.id, host.inspector, host.log);
    this.decoder = new ContentLengthDecoder((body) => this.onMessage(body), host.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => host.log(`session ${this.id}: ${error.message}`));
    socket.on('drain', () => this.unthrottle());
  }

  /** Whether the session stopped reading because its peer does not read its answers. */
  get isThrottled(): boolean {
    return this.throttled;
  }

  /** Requests currently blocked. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Records a call that is about to wait (called by its context when the method asks for a signal). */
  callBlocked(controller: AbortController, entry: ObjectEntry, method: string, requestId: RequestId): void {
    this.pending.set(requestId, { controller, objectId: entry.id, typeid: entry.typeid, method, since: Date.now() });
    if (this.host.inspector.active) {
      this.host.inspector.sessionsChanged();
      // Its waiters changed (a queue's waitingGetters, say).
      this.host.inspector.touched(entry.id);
    }
  }

  /** What inspection shows of this session. */
  summary(): SessionSummary {
    const summary: SessionSummary = {
      sessionId: this.id,
      processId: this.processId,
      remoteAddress: this.remoteAddress,
      protocol: 'jsonrpc',
      connectedAt: this.startedAt,
      references: this.host.table.referencesOf(this.id),
      pending: [...this.pending].map(([requestId, c]) => ({ requestId, objectId: c.objectId, typeid: c.typeid, method: c.method, since: c.since })),
      holds: this.holdings.objectIds(),
    };
    if (this.clientInfo) summary.clientInfo = this.clientInfo;
    return summary;
  }

  /** Sends a notification to the client. */
  notify(method: string, params: unknown): void {
    if (this.closing) return;
    this.write(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Feeds bytes (also the ones that arrived with the handshake). */
  onData(chunk: Buffer): void {
    if (this.closed || this.framingFailed) return;
    try {
      this.decoder.push(chunk);
      if (!this.host.buffers.hold(this, this.decoder.pendingBytes)) throw new FramingError(this.host.buffers.refusal(), 'tooLarge');
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.host.buffers.release(this);
      this.decoder.discard();
      // The stream cannot be resynchronised: read nothing more, answer once, close.
      this.framingFailed = true;
      this.socket.removeAllListeners('data');
      // Still read (and drop) what comes, so the peer's end is seen and the socket closes promptly.
      this.socket.resume();
      const code = error.kind === 'tooLarge' ? ErrorCodes.MessageTooLarge : ErrorCodes.ParseError;
      this.host.log(`session ${this.id}: ${error.message}; closing`);
      this.sendError(null, code, error.message);
      this.close();
    }
  }

  /** Refuses a message over a limit that is read only once its body is there: answered, then the connection is closed (SPEC 19). */
  private refuseCostly(message: string): void {
    this.host.log(`session ${this.id}: ${message}; closing`);
    this.sendError(null, ErrorCodes.MessageTooLarge, message);
    this.decoder.pause();
    this.close();
  }

  /** Ends the session: answers what is pending with ShuttingDown, then closes the connection. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.abortAll();
    // The withdrawn calls answer in later microtasks: end the connection once they have.
    setImmediate(() => {
      this.flush();
      this.socket.end();
      // A peer that never reads would keep the socket half-open forever.
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    // Blocked calls are withdrawn first, so what it held goes to other clients, not its own waiters.
    this.abortAll();
    this.holdings.end();
    this.outbox = [];
    this.decoder.discard();
    this.host.buffers.release(this);
    this.host.inspector.unsubscribe(this.id);
    const referenced = this.host.inspector.active ? this.host.table.idsHeldBy(this.id) : [];
    this.host.table.releaseSession(this.id);
    // Objects that stay lost a holder: their rows change too.
    for (const id of referenced) if (this.host.table.get(id)) this.host.inspector.touched(id);
    this.host.sessionClosed(this);
  }

  private abortAll(): void {
    for (const call of [...this.pending.values()]) call.controller.abort();
  }

  private onMessage(body: string): void {
    if (exceedsJsonValues(body, this.host.maxMessageValues)) return this.refuseCostly(tooManyValues('JSON', this.host.maxMessageValues));
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (error) {
      this.sendError(null, ErrorCodes.ParseError, `invalid JSON: ${(error as Error).message}`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      const what = Array.isArray(message) ? 'batch requests are not supported: send requests one by one (they may be pipelined)' : 'a message must be a JSON object';
      this.sendError(null, ErrorCodes.InvalidRequest, what);
      return;
    }
    const m = message as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const hasId = 'id' in m;
    // An id is answered only if it can be echoed exactly: a string, or a number a double holds as
    // sent (not Infinity from 1e999, not an integer beyond ±(2^53 − 1)).
    const exactNumber = typeof m.id === 'number' && Number.isFinite(m.id) && (!Number.isInteger(m.id) || Number.isSafeInteger(m.id));
    const id = hasId && (exactNumber || typeof m.id === 'string') ? (m.id as RequestId) : null;
    if (m.jsonrpc !== '2.0') return this.sendError(id, ErrorCodes.InvalidRequest, 'jsonrpc must be "2.0"');
    if (typeof m.method !== 'string') {
      // A response from the client: the server sends no requests in 1.0, so there is nothing to match.
      if ('result' in m || 'error' in m) return;
      return this.sendError(id, ErrorCodes.InvalidRequest, 'method must be a string');
    }
    if (!hasId) return this.onNotification(m.method, m.params);
    if (id === null) {
      const why = typeof m.id === 'number' ? 'an integer id must be within ±(2^53 − 1) to be echoed exactly: use a smaller number or a string' : 'id must be a number or a string';
      return this.sendError(null, ErrorCodes.InvalidRequest, why);
    }
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      return this.sendError(id, ErrorCodes.InvalidParams, 'params must be an object (parameters are passed by name)');
    }
    this.onRequest(id, m.method, (m.params ?? {}) as Record<string, unknown>);
  }

  private onNotification(method: string, params: unknown): void {
    if (method === '$/cancelRequest') {
      const id = (params as { id?: unknown } | null)?.id;
      if (typeof id === 'number' || typeof id === 'string') this.pending.get(id)?.controller.abort();
    }
    // Every other notification is ignored, as JSON-RPC asks.
  }

  private onRequest(id: RequestId, method: string, params: Record<string, unknown>): void {
    if (this.closing) return this.sendError(id, ErrorCodes.ShuttingDown, 'the session is shutting down');
    if (this.inFlight.has(id)) return this.sendError(id, ErrorCodes.InvalidRequest, `request id ${JSON.stringify(id)} is already in use by a request in flight`);
    this.touching = undefined;
    let result: unknown;
    try {
      result = this.dispatch(id, method, params);
    } catch (error) {
      this.settled(id, this.touching);
      return this.sendThrown(id, error);
    }
    const touched = this.touching;
    if (result instanceof Promise) {
      this.inFlight.add(id);
      result.then(
        (value) => {
          this.settled(id, touched);
          this.sendResult(id, value);
        },
        (error) => {
          this.settled(id, touched);
          this.sendThrown(id, error);
        },
      );
    } else {
      this.settled(id, touched);
      this.sendResult(id, result);
    }
  }

  /** A request is answered: forget it, and tell inspection what it touched. */
  private settled(id: RequestId, touched: string | undefined): void {
    this.inFlight.delete(id);
    const call = this.pending.get(id);
    if (call) this.pending.delete(id);
    const inspector = this.host.inspector;
    if (!inspector.active) return;
    if (call) inspector.sessionsChanged();
    if (touched) inspector.touched(touched);
  }

  private dispatch(id: RequestId, method: string, params: Record<string, unknown>): unknown {
    // Only a call's result is an application value to encode; every other result is protocol data,
    // sent as it is (a method named `$x` in a typeid's methodToTypeid must not become a `$dict`).
    if (method === 'object/call' && this.initialized) return this.call(id, params as unknown as CallParams);
    return new WireResult(this.dispatchProtocol(method, params));
  }

  private dispatchProtocol(method: string, params: Record<string, unknown>): unknown {
    if (method === 'initialize') return this.initialize(params as unknown as InitializeParams);
    if (!this.initialized) throw new RpcError(ErrorCodes.ServerNotInitialized, `${method} before initialize: send initialize first`);
    if (method.startsWith('inspect/') && !this.inspection) {
      throw new RpcError(
        ErrorCodes.MethodNotFound,
        `${method} needs the inspection capability: ask for capabilities.inspection with protocol 1.1 in initialize${this.host.inspectionAllowed ? '' : ' (this manager has inspection turned off)'}`,
      );
    }
    switch (method) {
      case 'object/create':
        return this.create(params as unknown as CreateParams);
      case 'object/incref':
        return this.incref(params as unknown as RefParams);
      case 'object/decref':
        return this.decref(params as unknown as RefParams);
      case 'manager/describe':
        expectFields(params, {});
        return { typeids: this.host.registry.describe() };
      case 'shutdown':
        return this.shutdown(params as ShutdownParams);
      case 'inspect/snapshot':
        expectFields(params, {});
        return this.host.snapshot();
      case 'inspect/peek':
        return this.peek(params as unknown as PeekParams);
      case 'inspect/subscribe': {
        expectFields(params, { intervalMs: 'number?' });
        const interval = (params as SubscribeParams).intervalMs ?? 100;
        if (!(interval >= 10 && interval <= 60_000)) throw new RpcError(ErrorCodes.InvalidParams, 'intervalMs must be between 10 and 60000');
        this.host.inspector.subscribe(this, interval);
        return null;
      }
      case 'inspect/unsubscribe':
        expectFields(params, {});
        this.host.inspector.unsubscribe(this.id);
        return null;
      default:
        throw new RpcError(ErrorCodes.MethodNotFound, `unknown method ${JSON.stringify(method)}`);
    }
  }

  private initialize(params: InitializeParams): InitializeResult {
    if (this.initialized) throw new RpcError(ErrorCodes.InvalidRequest, 'initialize was already called on this session');
    expectFields(params, { protocolVersion: 'string', clientInfo: 'object?', processId: 'number|null?', capabilities: 'object?' });
    const match = /^(\d+)\.(\d+)$/.exec(params.protocolVersion);
    if (!match) throw new RpcError(ErrorCodes.InvalidParams, `protocolVersion ${JSON.stringify(params.protocolVersion)} must be "major.minor"`);
    const [ourMajor, ourMinor] = PROTOCOL_VERSION.split('.').map(Number);
    if (Number(match[1]) !== ourMajor) {
      const message = `protocol ${params.protocolVersion} is not supported: this server speaks ${PROTOCOL_VERSION}`;
      throw new RpcError(ErrorCodes.UnsupportedProtocolVersion, message, { type: 'UnsupportedProtocolVersion', message, supported: [PROTOCOL_VERSION] });
    }
    if (params.processId !== undefined && params.processId !== null && !Number.isSafeInteger(params.processId)) {
      throw new RpcError(ErrorCodes.InvalidParams, 'field processId must be a whole number or null');
    }
    if (params.clientInfo !== undefined) {
      expectFields(params.clientInfo as unknown as Record<string, unknown>, { name: 'string', version: 'string?' }, 'clientInfo.');
    }
    this.clientInfo = params.clientInfo;
    this.processId = params.processId ?? null;
    this.initialized = true;
    const agreedMinor = Math.min(ourMinor, Number(match[2]));
    // Inspection is granted only to a 1.1 client that asks for it, by a manager that allows it.
    this.inspection = agreedMinor >= 1 && params.capabilities?.inspection === true && this.host.inspectionAllowed;
    const capabilities: ServerCapabilities = { cancellation: true };
    // Proxies inside arguments are accepted from every client; 1.2 clients are told so.
    if (agreedMinor >= 2) {
      capabilities.nestedProxies = true;
      // The same port serves Python's own manager clients, which share these objects.
      capabilities.pythonBridge = true;
    }
    if (this.inspection) capabilities.inspection = true;
    // Inspection tools show sessions by name: the name is known from now on.
    if (this.host.inspector.active) this.host.inspector.sessionsChanged();
    return {
      protocolVersion: `${ourMajor}.${agreedMinor}`,
      serverInfo: { name: 'syncmanager', version: this.host.serverVersion },
      capabilities,
      sessionId: this.id,
    };
  }

  private create(params: CreateParams): unknown {
    expectFields(params, { typeid: 'string', args: 'array?', kwargs: 'object?' });
    const registration = this.host.registry.get(params.typeid);
    if (!registration) throw new RpcError(ErrorCodes.UnknownTypeid, `typeid ${JSON.stringify(params.typeid)} is not registered`);
    if (!registration.create) {
      throw new RpcError(ErrorCodes.UnknownTypeid, `typeid ${JSON.stringify(params.typeid)} has no callable: its objects come only from methods that return proxies`);
    }
    const args = params.args ? (decodeValue(params.args, this.argumentDecoding) as unknown[]) : EMPTY_ARGS;
    const kwargs = params.kwargs ? decodeKeywords(params.kwargs, this.argumentDecoding) : EMPTY_KWARGS;
    const obj = registration.create(args, kwargs);
    const entry = this.host.table.addReference(obj, registration, this.id);
    this.touching = entry.id;
    return this.host.table.tokenOf(entry);
  }

  private call(requestId: RequestId, params: CallParams): unknown {
    if (typeof params.id !== 'string' || typeof params.method !== 'string' || !onlyCallFields(params)) {
      expectFields(params, { id: 'string', method: 'string', args: 'array?', kwargs: 'object?' });
    }
    if (params.args !== undefined && !Array.isArray(params.args)) throw new RpcError(ErrorCodes.InvalidParams, 'args must be an array');
    if (params.kwargs !== undefined && (typeof params.kwargs !== 'object' || params.kwargs === null || Array.isArray(params.kwargs))) {
      throw new RpcError(ErrorCodes.InvalidParams, 'kwargs must be an object');
    }
    const entry = this.host.table.get(params.id);
    if (!entry) throw new RpcError(ErrorCodes.UnknownObject, `no object with id ${JSON.stringify(params.id)} (never created, or every reference was released)`);
    if (!entry.exposedSet.has(params.method)) {
      // __repr__, __str__ and #GETVALUE answer for every object, as in Python's manager.
      if (FALLBACK_METHODS.has(params.method) && isEmptyCall(params)) return callFallback(entry.obj, params.method);
      throw new RpcError(ErrorCodes.MethodNotExposed, `method '${params.method}' of ${entry.typeid} object ${entry.id} is not exposed`, {
        type: 'AttributeError',
        message: `method '${params.method}' of ${entry.typeid} object is not exposed (exposed: ${entry.exposed.join(', ')})`,
      });
    }
    const args = params.args === undefined ? EMPTY_ARGS : (decodeValue(params.args, this.argumentDecoding) as unknown[]);
    const kwargs = params.kwargs === undefined ? EMPTY_KWARGS : decodeKeywords(params.kwargs, this.argumentDecoding);
    this.touching = entry.id;
    const result = invokeMethod(entry.obj, params.method, args, kwargs, this.contextFor(requestId, entry, params.method));
    const typeid = Object.hasOwn(entry.methodToTypeid, params.method) ? entry.methodToTypeid[params.method] : undefined;
    if (typeid === undefined) return result;
    // The result goes back as a proxy: make it an object of the mapped typeid, referenced by this session.
    return result instanceof Promise ? result.then((value) => this.proxyResult(typeid, value)) : this.proxyResult(typeid, result);
  }

  private proxyResult(typeid: string, value: unknown): unknown {
    // A session that closed while the call ran must not be given a reference nobody will release.
    if (this.closing) throw new CallCancelled('the session closed before the result arrived');
    const registration = this.host.registry.get(typeid);
    if (!registration) throw new RpcError(ErrorCodes.UnknownTypeid, `methodToTypeid names typeid ${JSON.stringify(typeid)}, which is not registered`);
    const obj = registration.create ? registration.create([value], EMPTY_KWARGS) : referent(value);
    return new ProxyResult(this.host.table.tokenOf(this.host.table.addReference(obj, registration, this.id)));
  }

  /** A call context whose signal is made only if the method asks for it (most calls never block). */
  private contextFor(requestId: RequestId, entry: ObjectEntry, method: string): CallContext {
    return new SessionCallContext(this, requestId, entry, method);
  }

  private peek(params: PeekParams): PeekResult {
    expectFields(params, { id: 'string', offset: 'number?', limit: 'number?' });
    const offset = params.offset ?? 0;
    const limit = params.limit ?? PEEK_DEFAULT_LIMIT;
    if (!Number.isInteger(offset) || offset < 0) throw new RpcError(ErrorCodes.InvalidParams, 'offset must be a whole number, 0 or more');
    if (!Number.isInteger(limit) || limit < 1 || limit > PEEK_MAX_LIMIT) throw new RpcError(ErrorCodes.InvalidParams, `limit must be a whole number from 1 to ${PEEK_MAX_LIMIT}`);
    const entry = this.entryOf(params.id);
    return this.host.inspector.peek(entry, offset, limit);
  }

  /** The object with this id; UnknownObject if the table has none. */
  private entryOf(id: string): ObjectEntry {
    const entry = this.host.table.get(id);
    if (!entry) throw new RpcError(ErrorCodes.UnknownObject, `no object with id ${JSON.stringify(id)}`);
    return entry;
  }

  private incref(params: RefParams): null {
    expectFields(params, { id: 'string' });
    const entry = this.entryOf(params.id);
    this.host.table.incref(entry, this.id);
    this.touching = entry.id;
    return null;
  }

  private decref(params: RefParams): null {
    expectFields(params, { id: 'string' });
    const entry = this.entryOf(params.id);
    this.host.table.decref(entry, this.id);
    this.touching = entry.id;
    return null;
  }

  private shutdown(params: ShutdownParams): null {
    expectFields(params, { server: 'boolean?' });
    if (params.server) {
      if (!this.host.allowRemoteShutdown) throw new PyException('PermissionError', 'this manager does not allow clients to shut it down');
      this.host.log(`session ${this.id} asked the manager to shut down`);
      setImmediate(() => this.host.shutdownServer());
    } else {
      // At once, so a request pipelined after shutdown is refused rather than carried out.
      this.close();
    }
    this.host.table.releaseSession(this.id);
    return null;
  }

  private sendResult(id: RequestId, value: unknown): void {
    let json: string;
    try {
      const result = value instanceof WireResult ? value.json : encodeValue(value, this.resultEncoding);
      json = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result ?? null)}}`;
      if (json.length > this.host.maxMessageBytes / 3 && Buffer.byteLength(json) > this.host.maxMessageBytes) {
        return this.sendError(id, ErrorCodes.MessageTooLarge, `the result of ${Buffer.byteLength(json)} bytes exceeds the message limit of ${this.host.maxMessageBytes} bytes; nothing else was lost, ask for less`);
      }
    } catch (error) {
      return this.sendError(id, ErrorCodes.RemoteException, `the result cannot be sent: ${(error as Error).message}`, { type: 'TypeError', message: (error as Error).message });
    }
    this.write(json);
  }

  private sendThrown(id: RequestId, error: unknown): void {
    if (error instanceof RpcError) return this.sendError(id, error.code, error.message, error.data);
    if (error instanceof CallCancelled) {
      const code = this.closing ? ErrorCodes.ShuttingDown : ErrorCodes.RequestCancelled;
      return this.sendError(id, code, this.closing ? 'the session is shutting down; the call was withdrawn with no effect' : error.message);
    }
    if (error instanceof ValueCodecError) return this.sendError(id, ErrorCodes.InvalidValue, error.message);
    if (error instanceof NoReferenceError) return this.sendError(id, ErrorCodes.NoReference, error.message);
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
      return this.sendError(id, ErrorCodes.RemoteException, d.type + (d.message ? `: ${d.message}` : ''), data);
    }
    this.sendError(id, ErrorCodes.InternalError, `internal error: ${String(error)}`);
  }

  private sendError(id: RequestId | null, code: number, message: string, data?: Record<string, unknown>): void {
    const error: Record<string, unknown> = { code, message };
    error.data = data ?? { type: errorTypeName(code), message };
    this.write(JSON.stringify({ jsonrpc: '2.0', id, error }));
  }

  private write(json: string): void {
    if (this.closed) return;
    const frame = frameMessage(json);
    this.outbox.push(frame);
    this.outboxSize += frame.length;
    if (this.outboxSize + this.socket.writableLength > OUTPUT_HIGH_WATER) this.throttle();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes every queued answer at once. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || this.closed || this.socket.writableEnded) return;
    const data = this.outbox.length === 1 ? this.outbox[0] : this.outbox.join('');
    this.outbox = [];
    this.outboxSize = 0;
    // No 'drain' follows a write the socket took whole: resume at once then.
    if (!this.socket.write(data)) this.throttle();
    else if (this.throttled) this.unthrottle();
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

/** Answer bytes a session may queue before it stops reading requests. */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

const codeNames = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

function errorTypeName(code: number): string {
  return codeNames.get(code) ?? 'Error';
}

const callFields = new Set(['id', 'method', 'args', 'kwargs']);

/** The hot path's cheap check that a call has no unknown fields. */
function onlyCallFields(params: object): boolean {
  for (const key of Object.keys(params)) if (!callFields.has(key)) return false;
  return true;
}

type FieldType = 'string' | 'string?' | 'number?' | 'number|null?' | 'object?' | 'array?' | 'boolean?';

/** Checks a params object's fields, naming the first one that is wrong or unknown. */
function expectFields(params: object, fields: Record<string, FieldType>, prefix = ''): void {
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(fields, key)) throw new RpcError(ErrorCodes.InvalidParams, `unknown field ${prefix}${key}`);
  }
  for (const [key, type] of Object.entries(fields)) {
    const value = (params as Record<string, unknown>)[key];
    const optional = type.endsWith('?');
    if (value === undefined) {
      if (optional) continue;
      throw new RpcError(ErrorCodes.InvalidParams, `missing field ${prefix}${key} (${type.replace('?', '')})`);
    }
    const base = type.replace('?', '');
    const ok =
      base === 'array' ? Array.isArray(value)
      : base === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : base === 'number|null' ? value === null || typeof value === 'number'
      : typeof value === base;
    if (!ok) throw new RpcError(ErrorCodes.InvalidParams, `field ${prefix}${key} must be ${base === 'number|null' ? 'a number or null' : `a${base === 'object' || base === 'array' ? 'n' : ''} ${base}`}, got ${describeJson(value)}`);
  }
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}
