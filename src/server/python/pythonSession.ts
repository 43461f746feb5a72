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
 * given back (see `holdings.ts`). References are another matter: Python counts them per process,
 * over short-lived connections, so they are held under one holder, {@link PYTHON_HOLDER}, and
 * only an explicit `decref` releases them, as in CPython.
 */

import type { Socket } from 'node:net';
import type { SessionSummary } from '../../common/protocol';
import { Slice, tupleFrom, isTuple } from '../../common/values';
import { CallCancelled, describeThrown, PyException } from '../exceptions';
import { callFallback, FALLBACK_METHODS } from '../fallbacks';
import { Holdings } from '../holdings';
import type { ObjectEntry } from '../objectTable';
import { nextSessionId, type SessionHost } from '../session';
import { SharedRef, referent } from '../sharedRef';
import { invokeMethod } from '../signature';
import { SessionCallContext, type CallingSession } from '../callContext';
import { PythonFrameDecoder, PythonFramingError } from './framing';
import { unpickle } from './pickle';
import { pickleMessage, type PickleDialect, type PickleOptions } from './pickler';
import { PyProxy, PyToken } from './pickleValues';
import { exceptionForPython, proxyTypeFor } from './pythonNames';
import { readRequest, type PythonRequest } from './requestReader';

/** The holder of every reference a Python client takes (Python counts references per process, not per connection). */
export const PYTHON_HOLDER = 'python';
/** The holder that keeps an object read back from a container by Python in the table (CPython keeps such objects too). */
const STORED_HOLDER = 'stored';

/** What a Python session needs from its manager, beyond what every session needs. */
export interface PythonHost extends SessionHost {
  /** The manager's address as Python tokens carry it: `[host, port]`, or a socket path. */
  pythonAddress(): readonly [string, number] | string;
  /** A connection became a client thread's channel (`accept_connection`): inspection lists it from now on. */
  sessionOpened(session: PythonSession): void;
}

/** A reply: CPython's `(kind, result)`. */
type Reply = readonly [kind: '#RETURN' | '#ERROR' | '#TRACEBACK' | '#PROXY' | '#UNSERIALIZABLE', result: unknown];

/** The call a channel is blocked in, for inspection. */
interface BlockedCall {
  readonly controller: AbortController;
  readonly requestId: number;
  readonly objectId: string;
  readonly typeid: string;
  readonly method: string;
  readonly since: number;
}

/** Python's text of a failure, as its client raises it (`RemoteError`). */
function traceback(type: string, message: string): string {
  return `Traceback (most recent call last):\n  (in the syncmanager manager)\n${type}${message ? `: ${message}` : ''}\n`;
}

let callCounter = 0;

/** `('#RETURN', None)`, the reply to every `put()` and most setters, is the same bytes every time: made once. */
const RETURN_NONE: Readonly<Record<PickleDialect, Buffer>> = {
  py2: pickleMessage(['#RETURN', null], { dialect: 'py2' }),
  py3: pickleMessage(['#RETURN', null], { dialect: 'py3' }),
};

/**
 * Python 2's proxies call methods Python 3 renamed: served as the Python 3 method they mean (an
 * old-style slice is a slice; `has_key` is `in`; an iterator's `next` is `__next__`).
 */
const python2Methods: Readonly<Record<string, (args: unknown[]) => [string, unknown[]]>> = {
  __getslice__: ([i, j]) => ['__getitem__', [new Slice(i, j, null)]],
  __setslice__: ([i, j, sequence]) => ['__setitem__', [new Slice(i, j, null), sequence]],
  __delslice__: ([i, j]) => ['__delitem__', [new Slice(i, j, null)]],
  has_key: (args) => ['__contains__', args],
  next: (args) => ['__next__', args],
};

/** One Python client connection. */
export class PythonSession implements CallingSession {
  /** Its id, as inspection shows it. */
  readonly id = nextSessionId();
  readonly startedAt = Date.now();
  /** Python sends no pid. */
  readonly processId = null;
  /** What the connection holds (locks, permits), given back when it closes. */
  readonly holdings: Holdings;
  /** The thread name `accept_connection` gave (`MainProcess`, `MainProcess|Thread-1`). */
  private threadName: string | undefined;
  private dialect: PickleDialect | undefined;
  private replyOptions: PickleOptions | undefined;
  private readonly decoder: PythonFrameDecoder;
  private readonly requests: Buffer[] = [];
  /** Bytes of the frames in {@link requests}, counted in the manager's buffer budget. */
  private queuedBytes = 0;
  private busy = false;
  private closed = false;
  private blocked: BlockedCall | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly host: PythonHost,
    /** The remote address, for logs and inspection. */
    readonly remoteAddress: string,
  ) {
    this.holdings = new Holdings(this.id, host.inspector, host.log);
    this.decoder = new PythonFrameDecoder(host.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => host.log(`python session ${this.id}: ${error.message}`));
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
    return this.blocked ? 1 : 0;
  }

  /** Feeds bytes (also the ones that arrived with the handshake). */
  onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
      for (const frame of frames) this.queuedBytes += frame.length;
      if (!this.host.buffers.hold(this, this.decoder.pendingBytes + this.queuedBytes)) throw new PythonFramingError(this.host.buffers.refusal());
    } catch (error) {
      this.decoder.discard();
      this.host.buffers.release(this);
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
    this.blocked?.controller.abort();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** What inspection shows of this session. */
  summary(): SessionSummary {
    const b = this.blocked;
    return {
      sessionId: this.id,
      ...(this.clientInfo ? { clientInfo: this.clientInfo } : {}),
      processId: null,
      remoteAddress: this.remoteAddress,
      protocol: 'python',
      connectedAt: this.startedAt,
      // Python's references belong to its process, not to a connection: see PYTHON_HOLDER.
      references: 0,
      pending: b ? [{ requestId: b.requestId, objectId: b.objectId, typeid: b.typeid, method: b.method, since: b.since }] : [],
      holds: this.holdings.objectIds(),
    };
  }

  /** A call of this session is about to wait (its context made a signal); Python's requests have no id, so one is made. */
  callBlocked(controller: AbortController, entry: ObjectEntry, method: string): void {
    this.blocked = { controller, requestId: ++callCounter, objectId: entry.id, typeid: entry.typeid, method, since: Date.now() };
    if (this.host.inspector.active) {
      this.host.inspector.sessionsChanged();
      this.host.inspector.touched(entry.id);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    // Withdrawn first, so what it held goes to other clients, not to its own waiting call.
    this.blocked?.controller.abort();
    this.holdings.end();
    this.requests.length = 0;
    this.decoder.discard();
    this.host.buffers.release(this);
    if (this.isChannel) this.host.sessionClosed(this);
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
      this.queuedBytes -= frame.length;
      this.host.buffers.hold(this, this.decoder.pendingBytes + this.queuedBytes);
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
          .then((settled) => {
            this.busy = false;
            this.answer(settled);
            this.serveQueued();
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

  /** Sends a call's reply; a call that was blocked is not any more. */
  private answer(reply: Reply): void {
    if (this.blocked) {
      const objectId = this.blocked.objectId;
      this.blocked = undefined;
      if (this.host.inspector.active) {
        this.host.inspector.sessionsChanged();
        this.host.inspector.touched(objectId);
      }
    }
    this.send(reply);
  }

  /** One request, start to reply. Never throws: every failure is a reply. */
  private serve(frame: Buffer): Reply | Promise<Reply> {
    // Python 3 pickles with protocol 3 or higher; a protocol 2 request is Python 2's.
    this.dialect ??= frame[0] === 0x80 && frame[1] === 2 ? 'py2' : 'py3';
    // The common shape (scalar arguments) is read directly; it holds no proxy to resolve.
    const request = readRequest(frame) ?? this.readGeneral(frame);
    if (!('method' in request)) return request;
    const { ident, method, args, kwargs } = request;
    if (!this.isChannel) return this.control(method, args, kwargs);
    if (this.dialect === 'py2' && Object.hasOwn(python2Methods, method)) {
      const [name, translated] = python2Methods[method](args);
      return this.callMethod(ident, name, translated, kwargs);
    }
    return this.callMethod(ident, method, args, kwargs);
  }

  /** A request of any shape, with the general pickle reader; proxies among its arguments become references. */
  private readGeneral(frame: Buffer): PythonRequest | Reply {
    let request: unknown;
    try {
      request = unpickle(frame, { maxValues: this.host.maxMessageValues });
    } catch (error) {
      return ['#TRACEBACK', traceback('UnpicklingError', (error as Error).message)];
    }
    if (!isTuple(request) || request.length !== 4) {
      return ['#TRACEBACK', traceback('ValueError', 'a request must be a tuple (ident, methodname, args, kwds)')];
    }
    const [ident, method, args, kwds] = request;
    if (typeof method !== 'string') return ['#TRACEBACK', traceback('TypeError', 'the method name must be a str')];
    try {
      return { ident, method, args: Array.isArray(args) ? args.map((a) => this.fromPython(a)) : [], kwargs: this.keywordsOf(kwds) };
    } catch (error) {
      return this.failure(error);
    }
  }

  /** The control calls of CPython's `Server.public`. */
  private control(method: string, args: unknown[], kwargs: Record<string, unknown>): Reply {
    const { table, registry } = this.host;
    try {
      switch (method) {
        case 'create': {
          const [typeid, ...rest] = args;
          const registration = typeof typeid === 'string' ? registry.get(typeid) : undefined;
          if (!registration) throw new PyException('KeyError', `typeid ${JSON.stringify(typeid)} is not registered`, [typeid]);
          if (!registration.create) throw new PyException('ValueError', `typeid ${JSON.stringify(typeid)} has no callable: its objects come only from methods that return proxies`);
          const entry = table.addReference(registration.create(rest, kwargs), registration, PYTHON_HOLDER);
          return ['#RETURN', tupleFrom([entry.id, tupleFrom([...entry.exposed])])];
        }
        case 'incref':
          table.incref(this.entryOf(args[0]), PYTHON_HOLDER);
          return ['#RETURN', null];
        case 'decref':
          table.decref(this.entryOf(args[0]), PYTHON_HOLDER);
          return ['#RETURN', null];
        case 'dummy':
          return ['#RETURN', null];
        case 'number_of_objects':
          return ['#RETURN', table.size];
        case 'debug_info': {
          const lines = [...table.all()].map((e) => `  ${e.id}:       refcount=${e.refcount}\n    ${e.typeid} object`);
          return ['#RETURN', lines.join('\n')];
        }
        case 'get_methods': {
          const token = args[0];
          const id = token instanceof PyToken ? token.id : args[0];
          return ['#RETURN', tupleFrom([...this.entryOf(id).exposed])];
        }
        case 'accept_connection': {
          this.threadName = typeof args[0] === 'string' ? args[0] : 'client';
          this.host.sessionOpened(this);
          return ['#RETURN', null];
        }
        case 'shutdown':
          if (!this.host.allowRemoteShutdown) throw new PyException('PermissionError', 'this manager does not allow clients to shut it down');
          this.host.log(`python session ${this.id} asked the manager to shut down`);
          setImmediate(() => this.host.shutdownServer());
          return ['#RETURN', null];
        default:
          throw new PyException('AttributeError', `'Server' has no public method ${JSON.stringify(method)}`);
      }
    } catch (error) {
      // CPython answers every failed control call with its traceback.
      const d = describeThrown(error);
      return ['#TRACEBACK', traceback(d.type, d.message)];
    }
  }

  /** A method call on a shared object, as CPython's `serve_client` makes it. */
  private callMethod(ident: unknown, method: string, args: unknown[], kwargs: Record<string, unknown>): Reply | Promise<Reply> {
    const entry = typeof ident === 'string' ? this.host.table.get(ident) : undefined;
    if (!entry) return ['#TRACEBACK', traceback('KeyError', `${JSON.stringify(ident)}: no such object (never created, or every reference was released)`)];
    if (!entry.exposedSet.has(method)) {
      if (FALLBACK_METHODS.has(method)) {
        try {
          return ['#RETURN', callFallback(entry.obj, method)];
        } catch (error) {
          return this.failure(error);
        }
      }
      const exposed = `(${entry.exposed.map((m) => `'${m}'`).join(', ')}${entry.exposed.length === 1 ? ',' : ''})`;
      return ['#TRACEBACK', traceback('AttributeError', `method '${method}' of ${entry.typeid} object is not in exposed=${exposed}`)];
    }
    let result: unknown;
    try {
      result = invokeMethod(entry.obj, method, args, kwargs, new SessionCallContext(this, 0, entry, method));
    } catch (error) {
      return this.failure(error);
    }
    if (result instanceof Promise) {
      return result.then(
        (settled: unknown) => this.resultReply(entry, method, settled),
        (error: unknown) => this.failure(error),
      );
    }
    return this.resultReply(entry, method, result);
  }

  /** A method's result: `#RETURN`, or `#PROXY` for a method of `methodToTypeid`. */
  private resultReply(entry: ObjectEntry, method: string, result: unknown): Reply {
    if (this.host.inspector.active) this.host.inspector.touched(entry.id);
    const typeid = Object.hasOwn(entry.methodToTypeid, method) ? entry.methodToTypeid[method] : undefined;
    if (typeid === undefined) return ['#RETURN', result];
    return this.proxyReply(typeid, result);
  }

  /** `#PROXY`: the result becomes an object of `typeid` with one reference, which the client's proxy adopts. */
  private proxyReply(typeid: string, value: unknown): Reply {
    const registration = this.host.registry.get(typeid);
    if (!registration) return ['#TRACEBACK', traceback('KeyError', `methodToTypeid names typeid ${JSON.stringify(typeid)}, which is not registered`)];
    try {
      const obj = registration.create ? registration.create([value], {}) : referent(value);
      const entry = this.host.table.addReference(obj, registration, PYTHON_HOLDER);
      return ['#PROXY', tupleFrom([tupleFrom([...entry.exposed]), this.tokenOf(entry)])];
    } catch (error) {
      return this.failure(error);
    }
  }

  /** An exception as Python's client raises it: `#ERROR` with the exception when Python has its class, else `#TRACEBACK`. */
  private failure(error: unknown): Reply {
    if (error instanceof CallCancelled) return ['#TRACEBACK', traceback('RuntimeError', error.message)];
    const d = describeThrown(error);
    const exception = exceptionForPython(d.type, d.message, d.args, this.dialect ?? 'py3');
    return exception ? ['#ERROR', exception] : ['#TRACEBACK', traceback(d.type, d.message)];
  }

  private entryOf(id: unknown): ObjectEntry {
    const entry = typeof id === 'string' ? this.host.table.get(id) : undefined;
    if (!entry) throw new PyException('KeyError', JSON.stringify(id), [id]);
    return entry;
  }

  private tokenOf(entry: ObjectEntry): PyToken {
    return new PyToken(entry.typeid, this.host.pythonAddress(), entry.id);
  }

  /** The keyword arguments: a dict with str keys. */
  private keywordsOf(kwds: unknown): Record<string, unknown> {
    if (kwds === null || kwds === undefined) return {};
    if (typeof kwds !== 'object' || Array.isArray(kwds) || kwds instanceof Map || kwds instanceof Set) {
      throw new PyException('TypeError', 'keyword arguments must be a dict with str keys');
    }
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(kwds)) out[key] = this.fromPython((kwds as Record<string, unknown>)[key]);
    return out;
  }

  /**
   * A value from Python as the server keeps values: proxies inside it become references to the
   * live objects they name. Copies only what contains a proxy.
   */
  private fromPython(value: unknown): unknown {
    if (value instanceof PyProxy) {
      const entry = this.host.table.get(value.token.id);
      if (!entry) throw new PyException('KeyError', `a proxy names object ${JSON.stringify(value.token.id)}, which does not exist`, [value.token.id]);
      return SharedRef.of(entry.obj);
    }
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item = this.fromPython(value[i]);
        if (item !== value[i]) (out ??= value.slice())[i] = item;
      }
      if (!out) return value;
      return isTuple(value) ? tupleFrom(out) : out;
    }
    if (value instanceof Map) {
      let changed = false;
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value) {
        const item = this.fromPython(v);
        changed ||= item !== v;
        out.set(k, item);
      }
      return changed ? out : value;
    }
    if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      let out: Record<string, unknown> | undefined;
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        const item = this.fromPython(v);
        if (item !== v) {
          out ??= { ...(value as Record<string, unknown>) };
          Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
        }
      }
      return out ?? value;
    }
    return value;
  }

  /** A stored reference, as Python reads it: a proxy it rebuilds (and increfs) on its side. */
  private refToPython(value: object): PyProxy | undefined {
    if (!(value instanceof SharedRef)) return undefined;
    const table = this.host.table;
    const token = table.peekToken(value.obj);
    // Python's client increfs the object after it reads the proxy: it must be in the table then.
    const entry = (token && table.get(token.id)) ?? table.addReferenceTo(value.obj, STORED_HOLDER);
    return new PyProxy(this.tokenOf(entry), proxyTypeFor(entry), [...entry.exposed]);
  }

  private send(reply: Reply): void {
    if (this.closed) return;
    let message: Buffer;
    try {
      const [kind, result] = reply;
      message = kind === '#RETURN' && result == null ? RETURN_NONE[this.dialect ?? 'py3'] : pickleMessage(reply, this.pickleOptions());
    } catch (error) {
      message = pickleMessage(['#UNSERIALIZABLE', traceback('PicklingError', (error as Error).message)], { dialect: this.dialect ?? 'py3' });
    }
    this.socket.write(message);
  }

  /** How replies are pickled: for the client's Python, with the server's references as proxies. */
  private pickleOptions(): PickleOptions {
    if (this.replyOptions) return this.replyOptions;
    const options: PickleOptions = { dialect: this.dialect ?? 'py3', encodeRef: (v) => this.refToPython(v) };
    // Known once the first request is read; a reply before that (a framing error) is not kept.
    if (this.dialect) this.replyOptions = options;
    return options;
  }
}
