/**
 * A Python `multiprocessing.managers` client's connection, served with CPython's own manager
 * protocol after the shared handshake: pickled `(ident, method, args, kwds)` requests in
 * length-prefixed frames, answered `#RETURN`, `#ERROR`, `#TRACEBACK`, `#PROXY` or
 * `#UNSERIALIZABLE`. Python clients and JSON-RPC clients share the same objects.
 *
 * As in CPython, a connection first makes one control call (`create`, `incref`, `decref`,
 * `dummy`, `debug_info`, `number_of_objects`, `shutdown`, `get_methods`): Python opens a fresh
 * connection for each, and the server closes it after the reply. `accept_connection` turns a
 * connection into one client thread's channel for method calls, served one at a time (a
 * blocking `get()` holds it, as in Python).
 *
 * Better than CPython's server: a blocked call of a connection that closes (its process was
 * killed) is withdrawn and takes nothing, and the locks and permits that connection holds are
 * given back (see `calls/holdings.ts`). References are another matter: Python counts them per process,
 * over short-lived connections, so they are held under one holder, {@link PYTHON_HOLDER}, and
 * only an explicit `decref` releases them, as in CPython.
 */

import type { Socket } from 'node:net';
import type { SessionSummary } from '../../common/protocol';
import { readChunks } from '../acceptedReads';
import { tupleFrom } from '../../common/valueTypes';
import { ProxyResult, type ObjectService } from '../calls/objectService';
import { endConnection, SessionCore, type ConnectedSession, type SessionHost } from '../calls/sessionCore';
import { controlCall, type ControlCaller } from './controlCalls';
import { PythonFrameDecoder, PythonFramingError } from './framing';
import { readPythonRequest } from './generalRequestReader';
import { python2Methods } from './python2Methods';
import { DECODED, type ReferenceOf } from './pythonArguments';
import { failureReply, traceback, unsendableReply, type Reply } from './pythonReplies';
import { ReplyPickler } from './replyPickler';

/** The holder of every reference a Python client takes (Python counts references per process, not per connection). */
export const PYTHON_HOLDER = 'python';

/** What a Python session needs from its manager, beyond what every session needs. */
export interface PythonHost extends SessionHost {
  /** The manager's address as Python tokens carry it: `[host, port]`, or a socket path. */
  pythonAddress(): readonly [string, number] | string;
  /** A connection became a client thread's channel (`accept_connection`): inspection lists it from now on. */
  sessionOpened(session: PythonSession): void;
}

/** Python's requests carry no id: each call gets a number, for inspection and withdrawal. */
let callCounter = 0;

/** One Python client connection. */
export class PythonSession implements ConnectedSession, ControlCaller {
  /** What every session is: id, holdings, waiting calls, the close order. */
  readonly core: SessionCore;
  /** Python sends no pid. */
  readonly processId = null;
  /** The thread name `accept_connection` gave (`MainProcess`, `MainProcess|Thread-1`). */
  private threadName: string | undefined;
  /** Pickles the replies, for the client's Python once its first request told which. */
  private readonly replies: ReplyPickler;
  private readonly decoder: PythonFrameDecoder;
  private readonly requests: Buffer[] = [];
  /** Bytes of the frames in {@link requests}, counted in the manager's buffer budget. */
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  /** The call being served, and the object it reached (for inspection). */
  private requestId = 0;
  private touched: string | undefined;
  private readonly touch = (objectId: string): void => {
    this.touched = objectId;
  };
  private readonly referenceOf: ReferenceOf = (objectId) => this.service.argumentReference(objectId);

  constructor(
    private readonly socket: Socket,
    private readonly host: PythonHost,
    private readonly service: ObjectService,
    /** The remote address, for logs and inspection. */
    readonly remoteAddress: string,
  ) {
    this.core = new SessionCore(host, PYTHON_HOLDER);
    this.decoder = new PythonFrameDecoder(host.maxMessageBytes);
    this.replies = new ReplyPickler(host, service);
    readChunks(socket, (chunk) => this.onData(chunk), true);
    this.core.watch(socket, { close: () => this.close(), closed: () => this.onClose(), label: 'python session' });
  }

  /** Its id, as inspection shows it. */
  get id(): string {
    return this.core.id;
  }

  /** Whether it serves method calls (after `accept_connection`), and so shows in inspection. */
  get isChannel(): boolean {
    return this.threadName !== undefined;
  }

  /** How inspection names the client. */
  get clientInfo(): { name: string } | undefined {
    return this.threadName === undefined ? undefined : { name: `python ${this.threadName}` };
  }

  /** Never: a Python connection makes one call at a time, so its answers cannot pile up unread. */
  get isThrottled(): boolean {
    return false;
  }

  /** Calls currently blocked (0 or 1: a Python connection makes one call at a time). */
  get pendingCount(): number {
    return this.core.pendingCount;
  }

  /** Feeds bytes (also the ones that arrived with the handshake). */
  onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
      for (const frame of frames) this.queuedBytes += frame.length;
      if (!this.core.holdBuffered(this.decoder.pendingBytes + this.queuedBytes)) throw new PythonFramingError(this.host.buffers.refusal());
    } catch (error) {
      this.decoder.discard();
      this.core.dropBuffered();
      // A length that cannot be right: the stream cannot be resynchronised.
      this.host.log(`python session ${this.id}: ${(error as Error).message}; closing`);
      this.send(['#TRACEBACK', traceback('ValueError', (error as Error).message)]);
      this.close();
      return;
    }
    for (const frame of frames) this.requests.push(frame);
    this.serveQueued();
  }

  /** Ends the connection: a blocked call is withdrawn with no effect. */
  close(): void {
    if (this.closed) return;
    this.core.beginClosing();
    endConnection(this.socket);
  }

  /** What inspection shows of this session. Python's references belong to its process, not to a connection: see PYTHON_HOLDER. */
  summary(): SessionSummary {
    return this.core.summary({ protocol: 'python', remoteAddress: this.remoteAddress, processId: null, clientInfo: this.clientInfo });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.requests.length = 0;
    this.decoder.discard();
    if (this.core.end() && this.isChannel) this.host.sessionClosed(this);
  }

  /**
   * Serves the queued requests one at a time, in order. A call that completes at once (most do)
   * is answered right here, in the same turn of the event loop as its bytes arrived; a call that
   * waits (a `get()` on an empty queue) holds the requests behind it until it settles, as
   * CPython's thread per connection does.
   */
  private serveQueued(): void {
    while (!this.busy && !this.closed) {
      const frame = this.requests.shift();
      if (!frame) return;
      this.requestId = ++callCounter;
      this.touched = undefined;
      this.queuedBytes -= frame.length;
      this.core.holdBuffered(this.decoder.pendingBytes + this.queuedBytes);
      let reply: Reply | Promise<Reply>;
      try {
        reply = this.serve(frame);
      } catch (error) {
        // serve() turns every failure into a reply; this is for a bug, which must not end the manager.
        reply = this.internalError(error);
      }
      if (reply instanceof Promise) {
        this.busy = true;
        reply
          .catch((error: unknown) => this.internalError(error))
          // A waiting call's reply goes out a turn later: if the client's end of stream came with
          // what woke the call, what it took goes back instead of into a dead connection.
          .then((settled) => {
            setImmediate(() => {
              this.busy = false;
              this.answer(settled);
              if (!this.isChannel) return this.close();
              this.serveQueued();
            });
          });
        return;
      }
      this.answer(reply);
      // A control connection serves one request, then CPython's server closes it: so do we, at
      // once, rather than leave the closing to the client (it frees the socket sooner, too).
      if (!this.isChannel) return this.close();
    }
  }

  private internalError(error: unknown): Reply {
    this.host.log(`python session ${this.id}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ['#TRACEBACK', traceback('RuntimeError', `internal error in the manager: ${error instanceof Error ? error.message : String(error)}`)];
  }

  /**
   * Sends a call's reply; a call that was blocked is not any more. A result that cannot reach the
   * client (its connection is gone, it is too large, or no pickle can hold it) gives back what its
   * call took, and the client is told so.
   */
  private answer(reply: Reply): void {
    this.core.settled(this.requestId, this.touched);
    const [kind, result] = reply;
    if (kind !== '#RETURN') {
      this.core.delivered(this.requestId);
      return this.send(reply);
    }
    if (this.core.peerGone) {
      this.core.undelivered(this.requestId, result);
      return;
    }
    let message: Buffer;
    try {
      message = this.replies.pickle(reply);
    } catch (error) {
      const givenBack = this.core.undelivered(this.requestId, result);
      return this.send(unsendableReply(error, givenBack));
    }
    this.core.delivered(this.requestId);
    if (!this.closed) this.socket.write(message);
  }

  /** One request, start to reply. Never throws: every failure is a reply. */
  private serve(frame: Buffer): Reply | Promise<Reply> {
    // Python 3 pickles with protocol 3 or higher; a protocol 2 request is Python 2's.
    const dialect = (this.replies.dialect ??= frame[0] === 0x80 && frame[1] === 2 ? 'py2' : 'py3');
    // The common shape (scalar arguments) is read directly; it holds no proxy to resolve.
    const request = readPythonRequest(frame, this.host, this.referenceOf, dialect);
    if (!('method' in request)) return request;
    const { ident, method, args, kwargs } = request;
    if (!this.isChannel) return controlCall(this, this.service, this.host, method, args, kwargs);
    if (dialect === 'py2' && Object.hasOwn(python2Methods, method)) {
      const [name, translated] = python2Methods[method](args);
      return this.callMethod(ident, name, translated, kwargs);
    }
    return this.callMethod(ident, method, args, kwargs);
  }

  /** `accept_connection`: from now on the connection serves one client thread's method calls, and inspection lists it. */
  acceptConnection(threadName: string): void {
    this.threadName = threadName;
    this.host.sessionOpened(this);
  }

  /** A method call on a shared object, as CPython's `serve_client` makes it. */
  private callMethod(ident: unknown, method: string, args: unknown[], kwargs: Record<string, unknown>): Reply | Promise<Reply> {
    let result: unknown;
    try {
      result = this.service.call(this.core, this.requestId, ident, method, args, kwargs, DECODED, this.touch);
    } catch (error) {
      return this.failure(error);
    }
    if (result instanceof Promise) {
      return result.then(
        (settled: unknown) => this.resultReply(settled),
        (error: unknown) => this.failure(error),
      );
    }
    return this.resultReply(result);
  }

  /** A method's result: `#RETURN`, or `#PROXY` for a method of `methodToTypeid`. */
  private resultReply(result: unknown): Reply {
    if (!(result instanceof ProxyResult)) return ['#RETURN', result];
    // The new object has one reference, which the client's proxy adopts.
    const entry = result.entry;
    return ['#PROXY', tupleFrom([tupleFrom([...entry.exposed]), this.replies.tokenOf(entry)])];
  }

  private failure(error: unknown): Reply {
    return failureReply(error, this.replies.dialect ?? 'py3');
  }

  private send(reply: Reply): void {
    if (this.closed) return;
    let message: Buffer;
    try {
      message = this.replies.pickle(reply);
    } catch (error) {
      message = this.replies.pickle(unsendableReply(error, false));
    }
    this.socket.write(message);
  }
}
