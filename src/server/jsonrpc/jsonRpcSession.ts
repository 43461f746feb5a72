/**
 * One client session: the JSON-RPC side of an authenticated connection. It parses frames, hands
 * each message that passes `messageChecks.ts` to its handler (the object service's requests here,
 * `inspect/*` in `inspectionHandlers.ts`), and writes the answers, batching every answer produced
 * in one event-loop turn into a single write. Blocking calls hold only their own request:
 * `$/cancelRequest` or the connection closing withdraws one with no side effect. A session that
 * agreed on resumption keeps `sessionResumption.ts`'s state while its connection is gone.
 */

import type { Socket } from 'node:net';
import { ErrorCodes } from '../../common/errorCodes';
import { bytesOver, ContentLengthDecoder, FramingError, type OutgoingMessage } from '../../common/framing';
import { SilenceWatch } from '../../common/liveness';
import { Outbox } from '../../common/outbox';
import {
  AckRequest,
  AnswersSeenNotification,
  CallRequest,
  CancelNotification,
  CreateRequest,
  DecrefRequest,
  DescribeRequest,
  IncrefRequest,
  InitializeRequest,
  NackRequest,
  PingRequest,
  ShutdownRequest,
  type ClientInfo,
  type InitializeParams,
  type InitializeResult,
  type ResumeRequest,
  type SessionSummary,
  type ShutdownParams,
} from '../../common/protocol';
import { exceedsJsonValues } from '../jsonValueCount';
import { givenBackNote, resultTooLarge, tooManyValues } from '../limits';
import type { ObjectService } from '../calls/objectService';
import { endConnection, SessionCore, type ConnectedSession, type RequestId, type SessionHost } from '../calls/sessionCore';
import { errorObject, errorObjectFor, type ErrorObject } from './errorObjects';
import { agree } from './initialize';
import { ackOf, expectCallFields, expectCreateFields, expectFields, RpcError } from './paramChecks';
import { handleInspection, inspectionNotGranted, type InspectingSession } from './inspectionHandlers';
import { readMessage, MessageRefused, type IncomingMessage } from './messageChecks';
import { RequestHandlers } from './requestHandlers';
import { OwedAnswers } from './owedAnswers';
import { WireResult, WireValues } from './wireValues';
import type { ResumeTokens } from './resumeTokens';
import { SessionResumption, sessionToResume } from './sessionResumption';
import { adoptFromGroup } from './groupResumption';
import { listen, unlisten, type SocketListeners } from './socketListeners';
import { dropChunks } from '../acceptedReads';
import { settleDelivery } from './deliveryRequests';
import type { GroupSessions } from '../store/objectStore';

/** Answer bytes a session may queue before it stops reading requests. */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

/** What a JSON-RPC session needs from its manager beyond what every session does. */
export interface JsonRpcHost extends SessionHost {
  /** The resumable sessions, by resume token (SPEC 20.4). */
  readonly resumeTokens: ResumeTokens<Session>;
  /** The resumable sessions of the manager's group, which any of its managers can resume (SPEC 20.4.1). */
  readonly groupSessions?: GroupSessions;
}

/** One connected client. */
export class Session implements ConnectedSession, InspectingSession {
  /** What every session is: id, holdings, waiting calls, the close order. */
  readonly core: SessionCore;
  clientInfo: ClientInfo | undefined;
  processId: number | null = null;
  private initialized = false;
  /** Whether initialize granted the inspection capability. */
  private inspection = false;
  private closed = false;
  private closeStarted = false;
  private decoder: ContentLengthDecoder;
  private outbox: Outbox;
  /** The socket the session reads and writes now; undefined while it waits to be resumed. */
  private attached: Socket | undefined;
  private listeners: SocketListeners | undefined;
  /** What the session keeps to be resumed (SPEC 20.4); undefined when initialize did not agree on resumption. */
  private resumption: SessionResumption | undefined;
  /** The session that took this connection over by resuming (this one then ended). */
  private handedTo: Session | undefined;
  private readonly handlers: RequestHandlers;
  /** Watches a client that agreed on ping for silence (SPEC 20.1). */
  private liveness: SilenceWatch | undefined;
  /** Whether reading is paused until the peer reads its answers. */
  private throttled = false;
  private framingFailed = false;
  /** Requests answered later (blocking or asynchronous), and the results a turn later. */
  private readonly owed = new OwedAnswers((id, value) => this.sendResult(id, value));
  /** The object the request being handled acts on, for inspection's change notifications. */
  private touching: string | undefined;
  readonly touch = (objectId: string): void => {
    this.touching = objectId;
  };
  /** How values cross the wire, both ways. */
  readonly values: WireValues;

  constructor(
    private socket: Socket,
    private readonly host: JsonRpcHost,
    private readonly service: ObjectService,
    /** The remote address, for logs and inspection. */
    public remoteAddress: string,
  ) {
    this.core = new SessionCore(host);
    this.values = new WireValues(host, service, this.core.holder);
    this.decoder = new ContentLengthDecoder(this.onMessage, host.maxMessageBytes, true);
    this.outbox = this.outboxFor(socket);
    this.handlers = this.protocolHandlers();
    this.attach(socket);
  }

  private outboxFor(socket: Socket): Outbox {
    return new Outbox(socket, (accepted) => {
      // No 'drain' follows a write the socket took whole: resume at once then.
      if (!accepted) this.throttle();
      else if (this.throttled) this.unthrottle();
    });
  }

  /**
   * Reads and writes `socket` from now on. Its end closes the session, or, for a session that
   * agreed on resumption and did not ask to end, detaches it to wait for a resumption (SPEC 20.4).
   */
  private attach(socket: Socket): void {
    this.socket = socket;
    this.attached = socket;
    const listeners: SocketListeners = {
      data: (chunk) => this.onData(chunk),
      place: () => this.decoder.readPlace,
      drain: () => this.unthrottle(),
      end: () => {
        if (this.keepsOnLoss) return this.detach('the connection ended');
        this.core.peerLeft();
        this.close();
      },
      close: () => {
        if (this.keepsOnLoss) return this.detach('the connection closed');
        this.onClose();
      },
      error: (error) => {
        this.host.log(`session ${this.id}: ${error.message}`);
        if (this.keepsOnLoss) return this.detach(error.message);
        this.core.peerLeft();
      },
    };
    this.listeners = listeners;
    listen(socket, listeners);
  }

  /** Stops listening to the socket (it is handed over, or gone). */
  private unlisten(): void {
    unlisten(this.socket, this.listeners);
    this.listeners = this.attached = undefined;
  }

  /** Whether losing the connection now detaches the session (resumption agreed, not ending) rather than ending it. */
  private get keepsOnLoss(): boolean {
    return this.resumption !== undefined && !this.closeStarted && !this.core.closing && !this.closed;
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

  /** Requests currently blocked (of the session that took this connection over, once one has). */
  get pendingCount(): number {
    return (this.handedTo ?? this).core.pendingCount;
  }

  /** What inspection shows of this session. */
  summary(): SessionSummary {
    const summary = this.core.summary({ protocol: 'jsonrpc', remoteAddress: this.remoteAddress, processId: this.processId, clientInfo: this.clientInfo });
    if (this.resumption?.detached) summary.resumableUntil = this.resumption.resumableUntil;
    return summary;
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
      this.decoder.pushTransient(chunk);
      // The connection was handed to the session it resumed: the bytes held are that session's.
      if (this.handedTo) return this.handedTo.onData(Buffer.alloc(0));
      if (!this.core.holdBuffered(this.decoder.pendingBytes)) throw new FramingError(this.host.buffers.refusal(), 'tooLarge');
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.decoder.discard();
      this.core.dropBuffered();
      // The stream cannot be resynchronised: read nothing more, answer once, close.
      this.framingFailed = true;
      // Still read (and drop) what comes, so the peer's end is seen and the socket closes promptly.
      dropChunks(this.socket);
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
    // Ending for good: from now on the session cannot be resumed.
    this.host.resumeTokens.forget(this);
    if (this.resumption?.detached) return this.endDetached();
    this.core.beginClosing();
    this.owed.endWhenAnswered(() => {
      this.outbox.flush();
      // Nothing written from now on reaches the client: an answer after this gives back what its call took.
      this.core.peerLeft();
      endConnection(this.socket);
    });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.liveness?.stop();
    this.outbox.clear();
    this.decoder.discard();
    this.host.resumeTokens.forget(this);
    if (this.core.end()) this.host.sessionClosed(this);
  }

  /**
   * The connection of a resumable session is gone (SPEC 20.4): the session keeps everything it
   * holds, and its waiting calls go on waiting, for the agreed window; then it ends as any other.
   */
  private detach(why: string): void {
    const resumption = this.resumption;
    if (!resumption || resumption.detached || this.closed) return;
    const socket = this.socket;
    this.unlisten();
    this.liveness?.stop();
    this.liveness = undefined;
    // What was queued is kept in the answer log: a resumed client asks for it again.
    this.outbox.clear();
    this.decoder.discard();
    this.core.dropBuffered();
    this.throttled = false;
    this.framingFailed = false;
    socket.destroy();
    resumption.detach(() => this.endDetached());
    this.host.log(`session ${this.id}: ${why}; detached, resumable for ${resumption.withinMs / 1000} s`);
    if (this.host.inspector.active) this.host.inspector.sessionsChanged();
  }

  /** A detached session's window is over (or the manager stops): it ends, giving everything back. */
  private endDetached(): void {
    if (!this.resumption?.detached || this.closed) return;
    const parked = this.resumption.closeWindow();
    this.resumption = undefined;
    this.closed = true;
    this.host.resumeTokens.forget(this);
    this.host.log(`session ${this.id}: not resumed in time; releasing what it held`);
    this.core.peerLeft();
    // Answers nobody will receive: what their calls took goes back.
    for (const answer of parked) if ('value' in answer) this.core.undelivered(answer.id, answer.value);
    if (this.core.end()) this.host.sessionClosed(this);
  }

  /**
   * `initialize` with `capabilities.resume.token` (SPEC 20.4): the session the token names takes this connection
   * over, and this session, which held nothing yet, ends quietly.
   * @throws RpcError SessionNotResumable (this session stays as it was, uninitialized).
   */
  private resumeOther(id: RequestId, params: InitializeParams): void {
    agree(params, this.host);
    const resume = params.capabilities!.resume! as Required<ResumeRequest>;
    const target = this.host.groupSessions && !this.host.resumeTokens.find(resume.token) ? undefined : sessionToResume(this.host.resumeTokens, resume, this, (s) => (s.closeStarted || s.closed ? undefined : s.resumption));
    if (!target) return this.adopt(id, params, resume, this.host.groupSessions!);
    const { socket, decoder, remoteAddress } = this;
    this.unlisten();
    this.handedTo = target;
    this.closed = true;
    this.core.dropBuffered();
    this.core.end();
    this.host.sessionClosed(this);
    target.takeOver(socket, decoder, remoteAddress, id, resume.answersSeen);
  }

  /** `initialize` with a token this manager does not know, in a group (SPEC 20.4.1): this session takes over the one
   *  another manager of the group kept, if that manager is gone. Requests pipelined behind initialize wait for it. */
  private adopt(id: RequestId, params: InitializeParams, resume: Required<ResumeRequest>, group: GroupSessions): void {
    this.throttle();
    adoptFromGroup(group, this.service, this.core, resume, this.host.log)
      .then((resumption) => {
        // The connection went while the group handed the session over: it ends here, giving everything back.
        if (this.closed || this.core.closing) return group.ended(this.id);
        this.initialize(params, resumption);
        this.host.resumeTokens.adopt(this, resume.token);
        this.core.settled(id, undefined);
        this.sendResult(id, new WireResult(resumption.resumedResult(this.id)));
        resumption.keepAnswers(resume.answersSeen);
        this.host.log(`session ${this.id} taken over from another manager of the group, from ${this.remoteAddress}`);
      })
      .catch((error: unknown) => this.sendThrown(id, error))
      .finally(() => this.unthrottle());
  }

  /** Goes on over a new connection, which resumed this session with request `initializeId`. */
  private takeOver(socket: Socket, decoder: ContentLengthDecoder, remoteAddress: string, initializeId: RequestId, answersSeen: number): void {
    // The manager may not have seen the old connection go yet (a half-open socket): it goes now.
    if (this.attached) this.detach('resumed over a new connection');
    const resumption = this.resumption!;
    const parked = resumption.closeWindow();
    resumption.answers!.resumed(answersSeen);
    this.remoteAddress = remoteAddress;
    this.decoder = decoder;
    decoder.redirect(this.onMessage);
    decoder.acceptAttachments = this.values.binaryAttachments;
    this.outbox = this.outboxFor(socket);
    this.attach(socket);
    this.write(`{"jsonrpc":"2.0","id":${JSON.stringify(initializeId)},"result":${JSON.stringify(resumption.resumedResult(this.id))}}`);
    if (resumption.agreed.capabilities.ping) this.watchLiveness();
    this.host.log(`session ${this.id} resumed from ${remoteAddress}`);
    for (const answer of parked) {
      if ('value' in answer) this.sendResult(answer.id, answer.value);
      else this.sendError(answer.id, answer.error);
    }
    if (this.host.inspector.active) this.host.inspector.sessionsChanged();
  }

  private readonly onMessage = (body: string, attachments?: Buffer[], notUtf8?: boolean): void => {
    this.liveness?.heard();
    if (exceedsJsonValues(body, this.host.maxMessageValues)) return this.refuseCostly(tooManyValues('JSON', this.host.maxMessageValues));
    let message: IncomingMessage | undefined;
    try {
      message = readMessage(body, attachments, notUtf8);
    } catch (error) {
      if (!(error instanceof MessageRefused)) throw error;
      return this.sendError(error.id, error.error);
    }
    // A response from the client: the server sends no requests in 1.0, so there is nothing to match.
    if (message === undefined) return;
    if (message.id === undefined) return this.onNotification(message.method, message.params);
    this.onRequest(message.id, message.method, message.params ?? {});
  };

  private onNotification(method: string, params: unknown): void {
    if (method === CancelNotification.type.method) {
      const id = (params as { id?: unknown } | null)?.id;
      if (typeof id === 'number' || typeof id === 'string') this.core.cancel(id, this.owed.has(id));
    } else if (method === AnswersSeenNotification.type.method) {
      const count = (params as { count?: unknown } | null)?.count;
      if (typeof count === 'number') this.resumption?.answers?.seen(count);
    }
    // Every other notification is ignored, as JSON-RPC asks.
  }

  private onRequest(id: RequestId, method: string, params: Record<string, unknown>): void {
    if (this.core.closing) return this.sendError(id, errorObject(ErrorCodes.ShuttingDown, 'the session is shutting down'));
    if (this.resumption?.answers) {
      // A request sent again after a resumption (SPEC 20.4, 20.4.1): answered as before, never carried out twice.
      const kept = this.resumption.keptAnswer(id, method);
      if (kept) return 'json' in kept ? this.writeAnswer(id, kept.json) : 'error' in kept ? this.sendError(id, kept.error) : this.sendResult(id, kept.value);
      if (this.owed.has(id)) return;
    }
    if (method === InitializeRequest.type.method && !this.initialized) return this.onInitialize(id, params as unknown as InitializeParams);
    // Answered with id null (SPEC 6, since 1.3): the waiting request keeps the one answer its id gets.
    if (this.owed.has(id)) return this.sendError(null, errorObject(ErrorCodes.InvalidRequest, `request id ${JSON.stringify(id)} is already in use by a request in flight`));
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
      this.owed.started(id);
      result.then(
        (value) => {
          this.core.settled(id, touched);
          this.owed.settledWith(id, value);
        },
        (error) => {
          this.core.settled(id, touched);
          this.sendThrown(id, error);
          this.owed.settled(id);
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
      if (method.startsWith('inspect/') && !this.inspection) throw inspectionNotGranted(method, this.host.inspectionAllowed);
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
    const handlers = new RequestHandlers()
      .on(InitializeRequest.type, (params) => this.initialize(params))
      .on(CallRequest.type, (params, requestId) => {
        expectCallFields(params);
        const ack = params.ack === undefined && params.visibilityTimeout === undefined ? undefined : ackOf(params);
        return service.call(core, requestId, params.id, params.method, params.args, params.kwargs, this.values.reader, this.touch, ack);
      })
      .on(AckRequest.type, (params) => settleDelivery(service, core, params, 'ack', this.touch))
      .on(NackRequest.type, (params) => settleDelivery(service, core, params, 'nack', this.touch))
      .on(CreateRequest.type, (params) => {
        expectCreateFields(params);
        const entry = service.create(core, params.typeid, params.args, params.kwargs, this.values.reader);
        this.touching = entry.id;
        return service.afterKnown(entry, host.table.tokenOf(entry));
      })
      .on(IncrefRequest.type, (params) => {
        expectFields(params, { id: 'string' });
        // An object of the group made through another manager is read from the store first.
        const entry = service.increfInGroup(core, params.id);
        this.touching = params.id;
        return entry instanceof Promise ? entry.then(() => null) : null;
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
      });
    return handleInspection(handlers, this, host, service);
  }

  /** The first `initialize`: a new session, or (with `resume`) the resumption of one (SPEC 20.4). */
  private onInitialize(id: RequestId, params: InitializeParams): void {
    try {
      if (typeof params === 'object' && params.capabilities?.resume?.token !== undefined) return this.resumeOther(id, params);
      const result = this.initialize(params);
      this.core.settled(id, undefined);
      // The answer to initialize is not one the client counts (SPEC 20.4): the log starts after it.
      this.sendResult(id, new WireResult(result));
      this.resumption?.keepAnswers();
    } catch (error) {
      this.core.settled(id, undefined);
      this.sendThrown(id, error);
    }
  }

  /** A new session, or (`adopted`) one taken over from another manager of the group with what it agreed then. */
  private initialize(params: InitializeParams, adopted?: SessionResumption): InitializeResult {
    if (this.initialized) throw new RpcError(ErrorCodes.InvalidRequest, 'initialize was already called on this session');
    const agreement = agree(params, this.host);
    this.clientInfo = agreement.clientInfo;
    this.processId = agreement.processId;
    // What this session has: as agreed now, or (taken over) as its client agreed at first.
    const granted = (adopted?.agreed ?? agreement.result).capabilities;
    this.inspection = granted.inspection === true;
    this.decoder.acceptAttachments = this.values.binaryAttachments = granted.binaryAttachments === true;
    this.initialized = true;
    this.resumption = adopted;
    if (granted.ping) this.watchLiveness();
    // Inspection tools show sessions by name: the name is known from now on.
    if (this.host.inspector.active) this.host.inspector.sessionsChanged();
    const result: InitializeResult = { ...agreement.result, sessionId: this.id };
    if (agreement.resumeWithinMs !== undefined && !adopted) {
      this.resumption = SessionResumption.agreed(this, this.host, agreement.resumeWithinMs, agreement.result);
      result.resumeToken = this.resumption.token;
    }
    return result;
  }

  /** Drops the session when the client, which promised to ping, falls silent (SPEC 20.1). */
  private watchLiveness(): void {
    const timeoutMs = this.host.livenessTimeoutMs;
    this.liveness = new SilenceWatch(timeoutMs, {
      silent: () => {
        const silence = `nothing from the client for ${timeoutMs / 1000} s although it asked for liveness pings`;
        if (this.keepsOnLoss) return this.detach(silence);
        this.host.log(`session ${this.id}: ${silence}; dropping it`);
        this.core.peerLeft();
        this.socket.destroy();
      },
    });
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
    if (this.resumption?.detached) return this.resumption.park({ id, value });
    let json: OutgoingMessage;
    try {
      json = this.values.answer(id, value);
      const limit = this.host.maxMessageBytes;
      const bytes = bytesOver(json, limit);
      if (bytes !== undefined) {
        const message = resultTooLarge(limit, bytes, this.core.undelivered(id, value));
        return this.sendError(id, errorObject(ErrorCodes.MessageTooLarge, message));
      }
    } catch (error) {
      const message = (error as Error).message;
      const undone = givenBackNote(this.core.undelivered(id, value));
      return this.sendError(id, errorObject(ErrorCodes.RemoteException, `the result cannot be sent: ${message}${undone}`, { type: 'TypeError', message }));
    }
    this.core.delivered(id);
    this.writeAnswer(id, json);
  }

  private sendThrown(id: RequestId, error: unknown): void {
    this.core.delivered(id);
    this.sendError(id, errorObjectFor(error, this.core.closing));
  }

  private sendError(id: RequestId | null, error: ErrorObject): void {
    if (id !== null && this.resumption?.detached) return this.resumption.park({ id, error });
    const json = JSON.stringify({ jsonrpc: '2.0', id, error });
    if (id === null) this.write(json);
    else this.writeAnswer(id, json);
  }

  /** Writes the answer to request `id`; a resumable session keeps it until the client has counted it (SPEC 20.4). */
  private writeAnswer(id: RequestId, json: OutgoingMessage): void {
    this.resumption?.answers?.written(id, json);
    this.write(json);
  }

  private write(json: OutgoingMessage): void {
    if (this.closed || !this.attached) return;
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

