/**
 * `connect()`: a client of a running manager, the TypeScript side of BaseManager.connect().
 * It authenticates, says who it is, learns the registered typeids, and then makes proxies:
 * `await manager.create('Queue')`, or `await manager.get_task_queue()` for a typeid registered
 * with a creation method, exactly as Python's `m.get_task_queue()`.
 */

import { basename } from 'node:path';
import { authkeyBytes } from '../common/authkey';
import { parseAddresses, formatAddress, type Address } from '../common/address';
import { ADDRESS_VARIABLE, AUTHKEY_VARIABLE } from '../common/environmentVariables';
import { ErrorCodes } from '../common/errorCodes';
import {
  AckRequest,
  CallRequest,
  CreateRequest,
  DecrefRequest,
  DescribeRequest,
  InitializeRequest,
  NackRequest,
  PROTOCOL_VERSION,
  ShutdownRequest,
  type CreateParams,
  type DeliveryResult,
  type DescribeResult,
  type InitializeParams,
  type InitializeResult,
  type SessionElsewhereData,
  type RequestType,
  type Token,
  type TypeidDescription,
} from '../common/protocol';
import { DEFAULT_CLIENT_LIVENESS_TIMEOUT_S } from '../common/liveness';
import { SYNC_MANAGER_TYPEIDS } from '../common/syncTypeids';
import { decodeValue, encodeValue, type ProxyCodec } from '../common/valueCodec';
import { VERSION } from '../common/version';
import { BaseProxy, proxyBase, type ProxyHost } from './baseProxy';
import { builtinProxyClasses } from './builtinProxies';
import { makeDynamicProxy, type DynamicProxy } from './dynamicProxy';
import {
  AuthenticationError,
  ConnectionClosedError,
  ConnectionLostError,
  errorFromResponse,
  ManagerError,
  ProtocolError,
  ProxyReleasedError,
  StaleProxyError,
  TimeoutError,
  UnknownDeliveryError,
  UnknownObjectError,
  UnknownTypeidError,
} from './errors';
import { Inspection } from './inspection';
import { splitArguments } from './kwargs';
import { backoffDelay, ConnectionEventTable, reconnectPolicy, type ConnectionEvents, type ReconnectOptions, type ReconnectPolicy } from './reconnect';
import { failOrphan, RpcConnection, RpcResponseError, type AnswerMapping, type RequestIds } from './rpcConnection';
import { CallTextWriter, encodeKeywords } from './callText';
import { keyRefused, openAuthenticatedSocket, type ClientTlsOptions } from './socketTransport';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * The manager's address. Default: `$SYNCMANAGER_ADDRESS`. Several managers of one group (a
   * Redis store) are comma-separated, `host:port,host:port`: connecting and every reconnection try
   * them in turn, from the last one that worked, so a resumable session moves on to another manager
   * when its own is gone (SPEC 20.4.1).
   */
  address?: string | { host: string; port: number } | readonly [string, number];
  /** The shared secret. Default: `$SYNCMANAGER_AUTHKEY`. */
  authkey?: string | Uint8Array;
  /** How this client shows in the manager's inspection tools. Default: the script's file name. */
  name?: string;
  /** Seconds to connect, authenticate and initialize. Default 10. */
  timeout?: number;
  /** Speak TLS to a manager that serves it (`syncmanager serve --tls-cert ...`); `true` trusts the system's CAs. */
  tls?: ClientTlsOptions;
  /**
   * Reconnect when the connection is lost (the default), with bounded exponential backoff and
   * jitter; `false` ends the client at the first loss instead. See {@link ReconnectOptions}.
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Seconds without a word from the manager after which the connection counts as lost (a stopped
   * or unreachable manager): waiting calls fail with ConnectionLostError. The client pings every
   * quarter of it, and the manager drops this client if the pings stop. Default 10; 0 turns it off.
   */
  livenessTimeout?: number;
  /**
   * Session resumption (off by default): when the connection drops, the manager keeps this
   * client's session for `withinMs` (its references, the locks, permits and conditions it holds,
   * its waiting calls), and a reconnect within that time resumes it: proxies go on working and
   * calls in flight complete exactly once. Past the window the client starts a new session, as
   * without it. Needs reconnection (the default).
   */
  resume?: ResumeOptions;
}

/** Options of `connect({ resume })`. */
export interface ResumeOptions {
  /** How long the manager keeps the session after its connection drops, in ms (the manager may grant less). */
  withinMs: number;
}

/** An authenticated, initialized connection and what the manager said on it. */
interface OpenedSession {
  rpc: RpcConnection;
  init: InitializeResult;
  description: DescribeResult;
  /** Why resuming the earlier session was refused (a new session was started instead). */
  resumeRefused?: string;
}

/** What resuming a session takes: its token, and how many of its answers the client received. */
interface ResumeFrom {
  token: string;
  answersSeen: number;
}

/** How a client opens its connection again, and when it stops trying. */
interface Reopener {
  open(resume?: ResumeFrom): Promise<OpenedSession>;
  policy: ReconnectPolicy;
}

type ConnectionState = 'open' | 'reconnecting' | 'closed';

/** Any proxy a manager hands out: a typed one for built-in types, a dynamic one otherwise. */
export type AnyProxy = DynamicProxy;

/**
 * A manager that sends what this client cannot read on `limit` connections within `withinMs` is not
 * reconnected to again (SPEC 20.2): one that sends the same unreadable answer at every resumption
 * would otherwise keep the client reconnecting for ever.
 */
const UNREADABLE_LOSSES = { limit: 3, withinMs: 60_000 };

/** A connected client. Creation methods of typeids appear as methods: `manager.get_task_queue()`. */
export class ManagerClient {
  #typeids = new Map<string, TypeidDescription>();
  #rpc: RpcConnection;
  #serverInfo: InitializeResult;
  #state: ConnectionState = 'open';
  /** When recent connections were lost to a message this client could not read. */
  #unreadableLosses: number[] = [];
  /** Set by close(): a loss after it is the end, not a reason to reconnect. */
  #closing = false;
  /** Counts connections: a token from an earlier one holds no reference on the current one. */
  #epoch = 0;
  readonly #tokenEpoch = new WeakMap<Token, number>();
  /** Tokens of shared typeids' objects, by the typeid that fetches them again after a reconnect. */
  readonly #sharedOrigin = new WeakMap<Token, string>();
  /** What a stale shared token stands for on the current connection. */
  readonly #rebound = new WeakMap<Token, { epoch: number; token: Promise<Token>; resolved?: Token }>();
  readonly #events = new ConnectionEventTable();
  readonly #endListeners: ((error: ManagerError) => void)[] = [];
  /** Calls waiting for a reconnect to finish. */
  #waiters: { resolve(): void; reject(error: ManagerError): void; keepsAlive: boolean }[] = [];
  #backoffTimer: NodeJS.Timeout | undefined;
  /** Where notifications of whichever connection is current go (inspection listens here). */
  readonly #notifications: { onNotification?: (method: string, params: unknown) => void } = {};
  readonly #finalizer: FinalizationRegistry<Token>;
  readonly #host: ProxyHost;
  /** How arguments are encoded: proxies in them become `$proxy` tokens. */
  readonly #encoding: ProxyCodec;
  #inspection: Inspection | undefined;
  /** The token that resumes the session (SPEC 20.4), when resumption was agreed. */
  #resumeToken: string | undefined;

  /** @internal use {@link connect} */
  constructor(
    opened: OpenedSession,
    /** The manager's address. */
    readonly address: string,
    private readonly reopener?: Reopener,
  ) {
    this.#rpc = opened.rpc;
    this.#serverInfo = opened.init;
    this.setTypeids(opened.description);
    this.#attach(opened.rpc);
    this.#resumeToken = opened.init.resumeToken;
    // Proxies the program forgot give their reference back.
    this.#finalizer = new FinalizationRegistry((token) => {
      if (this.#state === 'reconnecting') return this.#decrefOnceConnected(token);
      let current: Token | undefined;
      try {
        current = this.#currentToken(token);
      } catch {
        // A proxy of a lost session held no reference on this one: nothing to give back (and
        // nothing may be thrown here, where nobody can catch it).
        return;
      }
      if (current && this.connected) this.#rpc.request(DecrefRequest.type, { id: current.id }).catch(() => {});
    });
    const finalizer = this.#finalizer;
    const decodeOptions: ProxyCodec = { decodeProxy: (token) => this.proxyFor(token) };
    const callAnswers: AnswerMapping = {
      result: (result) => decodeValue(result, decodeOptions),
      error: (error, context) => callFailure(error, context as CallContext),
    };
    const deliveredAnswers: AnswerMapping = {
      result: (result) => ({ ...(result as DeliveryResult), value: decodeValue((result as DeliveryResult).value, decodeOptions) }),
      error: callAnswers.error,
    };
    const encoding = (this.#encoding = proxyEncoding(address, () => this.#serverInfo, (token) => this.#currentToken(token, 'send')));
    const callText = new CallTextWriter(encoding);
    const host: ProxyHost = (this.#host = {
      call: (token, method, args, kwargs, signal, timeout, ack) => {
        // Withdrawn while waiting for the connection: it goes no further than send(), which cancels it unsent.
        if (this.#state === 'reconnecting' && !signal?.aborted) return this.#whenConnected(signal).then(() => host.call(token, method, args, kwargs, signal, timeout, ack));
        if (ack && !this.#serverInfo.capabilities.acknowledgedGets) {
          const { protocolVersion } = this.#serverInfo;
          const why = `the manager at ${this.address} does not offer acknowledged gets (it agreed on protocol ${protocolVersion}; they need 1.3): ${method}() with ack was not sent`;
          return Promise.reject(new ProtocolError(why, ErrorCodes.MethodNotFound));
        }
        let current: Token | Promise<Token> | undefined;
        try {
          current = this.#currentToken(token) ?? this.#rebind(token);
        } catch (error) {
          return Promise.reject(error);
        }
        if (current !== token) return Promise.resolve(current).then((rebound) => host.call(rebound, method, args, kwargs, signal, timeout, ack));
        const connection = this.#rpc;
        // Bytes go raw beside the JSON where the manager reads them so (SPEC 5.1), else as base64.
        const attachments = connection.attachmentList();
        let paramsJson: string;
        // Encoding errors (a function in the arguments, say) reject like any other failure.
        try {
          paramsJson = callText.write(token, method, args, kwargs, ack, attachments);
        } catch (error) {
          return Promise.reject(toManagerError(error));
        }
        // No async wrapper and no promise chained on: this is the hot path of every call.
        const context: CallContext = { token, method, timeout };
        return connection.send(CallRequest.type.method, paramsJson, signal, ack ? deliveredAnswers : callAnswers, context, attachments, callText.bytes);
      },
      decref: async (token) => {
        if (this.#state === 'reconnecting') return this.#decrefOnceConnected(token);
        // A stale token holds no reference (unless a shared one was fetched again for it).
        const current = this.#currentToken(token);
        if (!current) return;
        const connection = this.#rpc;
        try {
          await connection.request(DecrefRequest.type, { id: current.id });
        } catch (error) {
          // The connection going away releases everything anyway.
          if (connection.isOpen) throw toManagerError(error);
        }
      },
      settleDelivery: async (token, deliveryId, how) => {
        const what = `${how} of delivery ${deliveryId} from ${token.typeid} #${token.id}`;
        try {
          // The token's own id: a shared queue fetched again after a reconnect keeps its id, and the
          // manager, not this client, knows whether the delivery survived (a resumed session keeps it).
          await this.request(how === 'ack' ? AckRequest.type : NackRequest.type, { id: token.id, deliveryId }, what);
        } catch (error) {
          if (!(error instanceof UnknownObjectError)) throw error;
          throw new UnknownDeliveryError(`the manager no longer has the queue of delivery ${deliveryId} (it restarted, or the queue was released), so the delivery is gone (${what})`, error.code, error.data);
        }
      },
      track: (proxy, token) => finalizer.register(proxy, token, proxy),
      untrack: (proxy) => finalizer.unregister(proxy),
      get isOpen() {
        return connectedNow();
      },
    });
    const connectedNow = () => this.#state !== 'closed';
  }

  /** What the manager said about itself at initialize (on the current connection). */
  get serverInfo(): InitializeResult {
    return this.#serverInfo;
  }

  /**
   * Listens to the connection's life: `lost` (reconnecting; calls in flight failed with
   * ConnectionLostError) and `restored` (calls go through again). Returns a function that stops listening.
   */
  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEvents[K]): () => void {
    return this.#events.on(event, listener);
  }

  /** Inspection: summaries, non-destructive peeks and change notifications (what the VS Code sidebar shows). */
  get inspection(): Inspection {
    this.#inspection ??= new Inspection((type, params) => this.request(type, params), this.#notifications);
    return this.#inspection;
  }

  /** The manager's session id for this client (a new one after a reconnect, the same after a resumption). */
  get sessionId(): string {
    return this.#serverInfo.sessionId;
  }

  /** The registered typeids, as of connecting (or the last {@link describe}). */
  get typeids(): ReadonlyMap<string, TypeidDescription> {
    return this.#typeids;
  }

  /** Whether the connection is open (false while reconnecting). */
  get connected(): boolean {
    return this.#state === 'open' && this.#rpc.isOpen;
  }

  /** Asks the manager for its typeids again. */
  async describe(): Promise<TypeidDescription[]> {
    const result = await this.request(DescribeRequest.type, {});
    this.setTypeids(result);
    return result.typeids;
  }

  /**
   * Creates an object of a typeid (or gets the shared one) and returns a proxy holding one
   * reference. Pass `kwargs({...})` last for keyword arguments.
   * @example const q = await manager.create('Queue', kwargs({ maxsize: 10 }))
   */
  async create<P = AnyProxy>(typeid: string, ...args: unknown[]): Promise<P> {
    const split = splitArguments(args);
    const params: CreateParams = { typeid };
    try {
      if (split.args.length) params.args = encodeValue(split.args, this.#encoding) as unknown[];
      if (split.kwargs) params.kwargs = encodeKeywords(split.kwargs, this.#encoding);
    } catch (error) {
      throw toManagerError(error, { what: `create ${typeid}` });
    }
    const token = await this.request(CreateRequest.type, params, `create ${typeid}`);
    // A shared typeid's one object can be fetched again after a reconnect; another object cannot.
    if (params.args === undefined && params.kwargs === undefined && this.#typeids.get(typeid)?.shared) this.#sharedOrigin.set(token, typeid);
    return this.proxyFor(token) as P;
  }

  /**
   * Calls a method of any live object by id, without a proxy and without taking a reference (tools
   * such as the VS Code sidebar act on objects other clients hold). Arguments are application values.
   */
  callById(id: string, method: string, args: unknown[] = [], kwargs?: Record<string, unknown>): Promise<unknown> {
    return this.#host.call({ id, typeid: '?', exposed: [] }, method, args, kwargs);
  }

  /** A proxy for a token this session holds a reference to. */
  proxyFor(token: Token): AnyProxy {
    const Typed = token.builtin && Object.hasOwn(builtinProxyClasses, token.builtin) ? builtinProxyClasses[token.builtin] : undefined;
    const base = Typed ? new Typed(this.#host, token) : new BaseProxy(this.#host, token);
    // The base proxy is what is tracked: the dynamic wrapper and every method taken from it keep
    // it alive, and release() runs on it, so unregistering finds it.
    this.#tokenEpoch.set(token, this.#epoch);
    this.#host.track(base, token);
    return (Typed ? base : makeDynamicProxy(base)) as AnyProxy;
  }

  /**
   * Calls `listener` once when the client ends, whatever the reason: close(), a lost connection
   * with `reconnect: false`, or a reconnect that gave up.
   */
  connectionLost(listener: (error: ManagerError) => void): void {
    this.#endListeners.push(listener);
  }

  /** Ends the session: the manager releases this client's references; pending calls fail. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#state === 'reconnecting') this.#end(new ConnectionClosedError(`the connection to the manager at ${this.address} was closed by this client`));
    await endSession(this.#rpc);
  }

  /** Stops the whole manager (Python's `shutdown` control call), then closes. */
  async shutdownManager(): Promise<void> {
    await this.request(ShutdownRequest.type, { server: true });
    this.#closing = true;
    this.#rpc.close();
  }

  /** `await using manager = await connect()` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async request<P, R>(type: RequestType<P, R>, params: P, what?: string): Promise<R> {
    try {
      if (this.#state === 'reconnecting') await this.#whenConnected();
      return await this.#rpc.request(type, params);
    } catch (error) {
      throw toManagerError(error, what ? { what } : undefined);
    }
  }

  private setTypeids(description: DescribeResult): void {
    this.#typeids = new Map(description.typeids.map((t) => [t.typeid, t]));
  }

  /** Makes `rpc` the current connection: its notifications and its end come here. */
  #attach(rpc: RpcConnection): void {
    rpc.onNotification = (method, params) => this.#notifications.onNotification?.(method, params);
    rpc.onClose((error) => {
      if (this.#rpc !== rpc || this.#state !== 'open') return;
      if (this.#closing || !this.reopener) this.#end(error);
      else if (rpc.unreadable !== undefined && this.#unreadableAgain()) {
        const { limit, withinMs } = UNREADABLE_LOSSES;
        this.#end(new ConnectionClosedError(`stopped reconnecting to the manager at ${this.address}: it sent what this client cannot read on ${limit} connections within ${withinMs / 1000} s, the last: ${rpc.unreadable}`, { cause: error }));
      } else void this.#reconnect(error);
    });
  }

  /** Counts a connection lost to a message this client cannot read: whether that makes too many (see {@link UNREADABLE_LOSSES}). */
  #unreadableAgain(): boolean {
    const now = Date.now();
    this.#unreadableLosses = this.#unreadableLosses.filter((at) => now - at < UNREADABLE_LOSSES.withinMs);
    this.#unreadableLosses.push(now);
    return this.#unreadableLosses.length >= UNREADABLE_LOSSES.limit;
  }

  /**
   * The token to use now: the token itself if it is of the current connection (or not a proxy's),
   * the shared object fetched again for it, or undefined when that has yet to be fetched.
   * @throws StaleProxyError when the object is out of reach.
   */
  #currentToken(token: Token, doing = 'call'): Token | undefined {
    const epoch = this.#tokenEpoch.get(token);
    if (epoch === undefined || epoch === this.#epoch) return token;
    const rebound = this.#rebound.get(token);
    if (rebound?.epoch === this.#epoch && rebound.resolved) return rebound.resolved;
    if (!this.#sharedOrigin.has(token)) {
      throw new StaleProxyError(
        `cannot ${doing} ${token.typeid} object ${token.id}: the reference this proxy held ended when the connection to the manager at ${this.address} was lost, ` +
          'so the object may be gone; make a new proxy (shared typeids such as get_task_queue() are fetched again by themselves)',
      );
    }
    if (doing !== 'call') throw new StaleProxyError(`cannot ${doing} ${token.typeid} object ${token.id} before the connection that replaced the lost one has fetched it again: call a method on it first`);
    return undefined;
  }

  /** Fetches a shared typeid's object again for a token of an earlier connection (once per connection). */
  #rebind(token: Token): Promise<Token> {
    const existing = this.#rebound.get(token);
    if (existing?.epoch === this.#epoch) return existing.token;
    const typeid = this.#sharedOrigin.get(token)!;
    const epoch = this.#epoch;
    const entry: { epoch: number; token: Promise<Token>; resolved?: Token } = {
      epoch,
      token: this.request(CreateRequest.type, { typeid }, `fetch ${typeid} again after reconnecting`).then(
        (fresh) => {
          this.#tokenEpoch.set(fresh, epoch);
          entry.resolved = fresh;
          return fresh;
        },
        (error) => {
          // Try again on the next call.
          if (this.#rebound.get(token) === entry) this.#rebound.delete(token);
          throw error;
        },
      ),
    };
    this.#rebound.set(token, entry);
    return entry.token;
  }

  /**
   * Gives a reference back once the connection is back, if it resumed the session (a new session
   * holds none of the old one's references); without waiting for it: released while the session
   * is detached, the reference is still held on the manager.
   */
  #decrefOnceConnected(token: Token): void {
    const epoch = this.#epoch;
    // A release alone does not keep the process alive for the reconnection.
    this.#whenConnected(undefined, false).then(
      () => {
        if (this.#epoch !== epoch) return;
        let current: Token | undefined;
        try {
          current = this.#currentToken(token);
        } catch {
          return;
        }
        if (current) this.#rpc.request(DecrefRequest.type, { id: current.id }).catch(() => {});
      },
      // The client ended: the session gave everything back.
      () => {},
    );
  }

  /**
   * Resolves once the connection is back, or `signal` aborts; rejects if the client ends first.
   * With `keepsAlive` false, the wait does not keep the process alive (nobody awaits it).
   */
  #whenConnected(signal?: AbortSignal, keepsAlive = true): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    // A call is waiting: the backoff timer must keep the process alive now.
    if (keepsAlive) this.#backoffTimer?.ref();
    return new Promise((resolve, reject) => {
      if (!signal) return void this.#waiters.push({ resolve, reject, keepsAlive });
      const onAbort = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve();
      };
      const waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: ManagerError) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
        keepsAlive,
      };
      this.#waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The reconnect loop: bounded exponential backoff with jitter, until a connection or maxMs. */
  async #reconnect(lost: ManagerError): Promise<void> {
    const { policy } = this.reopener!;
    this.#state = 'reconnecting';
    this.#events.emit('lost', lost);
    const started = Date.now();
    let lastError: unknown = lost;
    for (let attempt = 0; ; attempt++) {
      const remaining = policy.maxMs - (Date.now() - started);
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        this.#backoffTimer = setTimeout(resolve, Math.min(remaining, backoffDelay(policy, attempt)));
        if (!this.#waiters.some((waiter) => waiter.keepsAlive)) this.#backoffTimer.unref();
      });
      this.#backoffTimer = undefined;
      if (this.#state !== 'reconnecting') return;
      let opened: OpenedSession;
      const lostRpc = this.#rpc;
      try {
        opened = await this.reopener!.open(this.#resumeToken === undefined ? undefined : { token: this.#resumeToken, answersSeen: lostRpc.answersSeen });
      } catch (error) {
        if (this.#state !== 'reconnecting') return;
        // A key the manager refuses will not start working by trying again.
        if (keyRefused(error)) return this.#end(error as AuthenticationError);
        lastError = error;
        continue;
      }
      if (this.#state !== 'reconnecting') {
        // Closed while this try was under way: a resumed session would be kept for its whole
        // window, holding what it holds, unless it is ended here.
        if (this.#closing) void endSession(opened.rpc);
        else opened.rpc.close();
        return;
      }
      const resumed = opened.init.resumed === true;
      const orphans = lostRpc.takeOrphans();
      const answersLost = resumed ? opened.init.answersLost : undefined;
      if (answersLost) {
        // Taken over by another manager of the group: the answers named lost (all, for `true`) went with the old one (SPEC 20.4.1).
        const failed = new ConnectionLostError(`the manager this session was on is gone; ${this.address} took the session over, but the effect of this call is unknown`, { cause: lost });
        for (const [id, entry] of orphans) {
          if (answersLost !== true && !answersLost.includes(id)) continue;
          orphans.delete(id);
          failOrphan(entry, failed);
        }
      }
      if (resumed) {
        // The same session: proxies hold their references still, and the calls in flight at the
        // loss are sent again with their ids, to be answered once (SPEC 20.4).
        opened.rpc.adopt(orphans);
        opened.rpc.resendAdopted(orphans);
      } else {
        this.#epoch++;
        const why = opened.resumeRefused ? ` and the session could not be resumed (${opened.resumeRefused})` : '';
        const failed = new ConnectionLostError(`the connection to the manager at ${this.address} was lost${why}: the effect of this call is unknown`, { cause: lost });
        for (const entry of orphans.values()) failOrphan(entry, failed);
      }
      this.#rpc = opened.rpc;
      this.#serverInfo = opened.init;
      this.#resumeToken = opened.init.resumeToken;
      this.setTypeids(opened.description);
      this.#attach(opened.rpc);
      this.#state = 'open';
      // Inspection listeners keep listening: the new session is asked for their notifications before any waiting call goes.
      void this.#inspection?.resubscribe();
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter.resolve();
      this.#events.emit('restored', { attempts: attempt + 1, downMs: Date.now() - started, resumed });
      return;
    }
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    this.#end(new ConnectionClosedError(`gave up reconnecting to the manager at ${this.address} after ${policy.maxMs / 1000} s: ${why}`, { cause: lastError }));
  }

  /** The client's end: waiting calls fail with `error`, connectionLost listeners hear it once. */
  #end(error: ManagerError): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#backoffTimer);
    // Calls kept for a resumption that will not come.
    for (const entry of this.#rpc.takeOrphans().values()) failOrphan(entry, error);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    for (const listener of this.#endListeners) listener(error);
  }
}

/** Ends the session on `rpc` (`shutdown`: the manager gives back all it holds, never keeps it for a resumption), then closes it. */
async function endSession(rpc: RpcConnection): Promise<void> {
  if (!rpc.isOpen) return;
  try {
    await Promise.race([rpc.request(ShutdownRequest.type, {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  } catch {
    // Closing anyway.
  }
  rpc.close();
}

/**
 * Encoding of arguments: a proxy (typed or dynamic) anywhere in them goes as `{ $proxy: token }`,
 * so the manager stores or uses the shared object itself (a queue put in a dict, the lock of a
 * Condition), not a copy. A released proxy holds no reference to lean on: it cannot be sent; nor
 * can any proxy to a manager that does not take them (protocol 1.1 and older).
 */
function proxyEncoding(address: string, serverInfo: () => InitializeResult, current: (token: Token) => Token | undefined): ProxyCodec {
  return {
    encodeProxy(value) {
      if (!(value instanceof BaseProxy)) return undefined;
      // Through the symbol: on a dynamic proxy, `token` could be an exposed method's name.
      const base = (value as BaseProxy)[proxyBase];
      const what = `a proxy of ${base.token.typeid} object ${base.token.id}`;
      if (base.released) throw new ProxyReleasedError(`cannot send ${what} as an argument: it was released`);
      if (!serverInfo().capabilities.nestedProxies) {
        throw new ManagerError(`cannot send ${what} as an argument: the manager at ${address} (protocol ${serverInfo().protocolVersion}) does not take proxies inside values`);
      }
      return current(base.token)!;
    },
  };
}

/** What a call's caller is told of its failure. */
interface CallContext {
  token: Token;
  method: string;
  timeout: number | null | undefined;
}

function callFailure(error: unknown, { token, method, timeout }: CallContext): ManagerError {
  return toManagerError(error, { what: `${method}() on ${token.typeid} #${token.id}`, timeout });
}

function toManagerError(error: unknown, context?: { what: string; timeout?: number | null }): ManagerError {
  if (error instanceof RpcResponseError) return errorFromResponse(error.error, context);
  if (error instanceof ManagerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ManagerError(context ? `${message} (${context.what})` : message, { cause: error });
}

/**
 * `manager.<name>(...args)`: creates through the typeid's creation method. A name it did not know
 * is asked for again first, as a manager can register typeids while it runs (the VS Code extension
 * does when its setting changes).
 */
async function createNamed(client: ManagerClient, name: string, args: unknown[]): Promise<unknown> {
  if (!client.typeids.has(name)) await client.describe();
  const description = client.typeids.get(name);
  if (!description) throw new UnknownTypeidError(notServed(client, name), ErrorCodes.UnknownTypeid);
  if (!description.createMethod) {
    throw new UnknownTypeidError(`the manager at ${client.address} registers typeid ${JSON.stringify(name)} without a creation method: use create(${JSON.stringify(name)})`, ErrorCodes.UnknownTypeid);
  }
  return client.create(name, ...args);
}

/** "the manager at ADDRESS serves no typeid "x"; it serves a, b and the built-in typeids (Queue, …)". */
function notServed(client: ManagerClient, name: string): string {
  const builtin: ReadonlySet<string> = new Set(SYNC_MANAGER_TYPEIDS);
  const served = [...client.typeids.values()].filter((t) => t.createMethod).map((t) => t.typeid);
  const parts = served.filter((t) => !builtin.has(t));
  const builtins = served.filter((t) => builtin.has(t));
  if (builtins.length) parts.push(`the built-in typeids (${builtins.join(', ')})`);
  const list = parts.length <= 1 ? (parts[0] ?? 'nothing') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
  return `the manager at ${client.address} serves no typeid ${JSON.stringify(name)}; it serves ${list}. Register it where the manager starts (register() in a script, --register ${name}=Queue for syncmanager serve, the syncmanager.register setting in VS Code)`;
}

/** A client whose typeids' creation methods are typed by `T`: `{ get_task_queue: QueueProxy<number> }`. */
export type Connected<T extends object = Record<string, AnyProxy>> = ManagerClient & { [K in keyof T]: (...args: unknown[]) => Promise<T[K]> };

/** Members of ManagerClient, which a typeid's creation method must not shadow. */
const ownMembers = new Set(Object.getOwnPropertyNames(ManagerClient.prototype));

/**
 * Connects to a manager. Address and authkey default to `SYNCMANAGER_ADDRESS` and
 * `SYNCMANAGER_AUTHKEY`, which VS Code's terminals and `syncmanager serve` provide.
 *
 * @example
 * const manager = await connect<{ get_task_queue: QueueProxy<number> }>({ address: '127.0.0.1:50000', authkey: 'lihui' });
 * const task = await manager.get_task_queue();
 */
export async function connect<T extends object = Record<string, AnyProxy>>(options: ConnectOptions = {}): Promise<Connected<T>> {
  const addressInput = options.address ?? process.env[ADDRESS_VARIABLE];
  if (addressInput === undefined || addressInput === '') {
    throw new ManagerError(`no manager address: pass { address } to connect() or set ${ADDRESS_VARIABLE} (VS Code terminals and \`syncmanager serve\` print it)`);
  }
  const authkeyInput = options.authkey ?? process.env[AUTHKEY_VARIABLE];
  if (authkeyInput === undefined) {
    throw new ManagerError(`no authkey: pass { authkey } to connect() or set ${AUTHKEY_VARIABLE}`);
  }
  let addresses: Address[];
  try {
    addresses = parseAddresses(addressInput);
  } catch (error) {
    throw new ManagerError((error as Error).message);
  }
  const authkey = authkeyBytes(authkeyInput);
  const timeoutMs = (options.timeout ?? 10) * 1000;
  const shown = addresses.map(formatAddress).join(',');
  const policy = reconnectPolicy(options.reconnect);
  const name = options.name ?? (process.argv[1] ? basename(process.argv[1]) : 'node');
  const livenessS = options.livenessTimeout ?? DEFAULT_CLIENT_LIVENESS_TIMEOUT_S;
  if (typeof livenessS !== 'number' || !(livenessS >= 0)) throw new ManagerError(`livenessTimeout must be a number of seconds ≥ 0 (0 turns it off), not ${String(livenessS)}`);
  const resume = resumeOption(options.resume, policy !== undefined);
  const ids: RequestIds = { next: 1 };
  // The address that worked last is tried first; the others in turn when it fails.
  let current = 0;
  const open = async (from?: ResumeFrom): Promise<OpenedSession> => {
    let failure: unknown;
    for (let i = 0; i < addresses.length; i++) {
      const at = (current + i) % addresses.length;
      try {
        const opened = await openSession(addresses[at], authkey, timeoutMs, { name, livenessMs: livenessS * 1000, tls: options.tls, resume, from, ids });
        current = at;
        return opened;
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };
  const client = new ManagerClient(await open(), shown, policy && { open, policy });
  return new Proxy(client, {
    get(target, property) {
      // `await connect()` must not find a typeid named `then`.
      if (property === 'then') return undefined;
      if (typeof property === 'symbol' || ownMembers.has(property) || property in target) {
        // Bound to the client itself: its methods use private fields, which a Proxy cannot reach.
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      // Not typeids: JSON.stringify(client) must not call a creation method.
      if (property === 'toJSON') return undefined;
      // Any other name reads as a creation method, so that calling one the manager does not serve
      // says so (naming what it serves) instead of "is not a function". It creates through
      // create(), so a shared typeid's object is fetched again after a reconnect.
      return (...args: unknown[]) => createNamed(target, property, args);
    },
  }) as Connected<T>;
}

/** `connect({ resume })`, checked. */
function resumeOption(option: ResumeOptions | undefined, reconnects: boolean): ResumeOptions | undefined {
  if (option === undefined) return undefined;
  const withinMs = (option as { withinMs?: unknown } | null)?.withinMs;
  if (typeof withinMs !== 'number' || !(withinMs > 0) || !Number.isFinite(withinMs)) throw new ManagerError(`resume.withinMs must be a number of milliseconds above 0, not ${String(withinMs)}`);
  if (!reconnects) throw new ManagerError('resume needs reconnection: a client with reconnect: false never comes back to resume its session');
  return { withinMs };
}

/** How {@link openSession} introduces the client. */
interface SessionOptions {
  name: string;
  livenessMs: number;
  tls: ClientTlsOptions | undefined;
  /** Ask for resumption with this window. */
  resume: ResumeOptions | undefined;
  /** Resume this session rather than start one. */
  from?: ResumeFrom;
  /** The client's request ids, shared by all its connections. */
  ids: RequestIds;
}

/**
 * Connects, authenticates, initializes and describes, all within `timeoutMs`. Resuming a session
 * the manager no longer has starts a new one on the same connection (`resumeRefused` says why).
 */
async function openSession(address: Address, authkey: Buffer, timeoutMs: number, options: SessionOptions): Promise<OpenedSession> {
  const { name, livenessMs, tls, resume, from, ids } = options;
  const shown = formatAddress(address);
  const started = Date.now();
  const { socket, head, reader } = await openAuthenticatedSocket(address, authkey, timeoutMs, tls);
  const rpc = new RpcConnection(socket, head, shown, ids, from?.answersSeen, reader);
  // The timeout covers initialize and describe too: a peer that authenticates but never answers
  // (a Python manager reading our header as a length) must not hang connect().
  const deadline = setTimeout(() => {
    rpc.fail(new TimeoutError(`the manager at ${shown} did not answer initialize within ${timeoutMs / 1000} s (is it a syncmanager manager?)`));
    socket.destroy();
  }, Math.max(1, timeoutMs - (Date.now() - started)));
  try {
    const params: InitializeParams = {
      protocolVersion: PROTOCOL_VERSION,
      clientInfo: { name, version: VERSION },
      processId: process.pid,
      capabilities: { cancellation: true, inspection: true, binaryAttachments: true, ...(livenessMs > 0 ? { ping: true } : {}), ...(resume ? { resume } : {}) },
    };
    let init: InitializeResult;
    let resumeRefused: string | undefined;
    const resuming = from && resume ? { ...params, capabilities: { ...params.capabilities, resume: { ...resume, token: from.token, answersSeen: from.answersSeen } } } : params;
    if (resuming !== params) rpc.keepEarlyAnswers();
    const initializing = rpc.request(InitializeRequest.type, resuming);
    // Pipelined behind initialize, which the manager handles first (SPEC 7.1): connecting takes
    // one round trip fewer. Its failure matters only once initialize succeeded.
    let describing = rpc.request(DescribeRequest.type, {});
    describing.catch(() => {});
    try {
      init = await initializing;
    } catch (error) {
      if (!(from && error instanceof RpcResponseError && error.error.code === ErrorCodes.SessionNotResumable)) throw error;
      // Another manager of the group keeps the session still (SPEC 20.4.1): try again, never start anew yet.
      if ((error.error.data as Partial<SessionElsewhereData> | undefined)?.keptBy !== undefined) throw new ConnectionLostError(`the manager at ${shown} cannot resume the session yet: ${error.error.message}`);
      // The session is gone (its window passed, or the manager restarted): a new one, on this connection.
      resumeRefused = error.error.message;
      init = await rpc.request(InitializeRequest.type, params);
      // Counted from its initialize answer on: the answers before it (the refusal's, the pipelined
      // describe's) are no session's, and nothing else was asked on the connection meanwhile.
      rpc.countAnswersAnew();
      describing = rpc.request(DescribeRequest.type, {});
    }
    rpc.binaryAttachments = init.capabilities.binaryAttachments === true;
    const description = await describing;
    // It failed in the read that completed its opening (bytes that are no frame after the describe
    // answer, say): a failed try, before any call is the connection's.
    if (rpc.failure) throw rpc.failure;
    if (init.resumeToken !== undefined) {
      // Only now: a loss keeps the requests pending for the connection that resumes the session,
      // and the describe above, kept so, would never have settled.
      rpc.keepsPendingOnLoss = true;
      // A resumed session's answers are reported once its requests in flight are adopted (RpcConnection.adopt).
      rpc.reportsAnswers = init.resumed !== true;
    }
    clearTimeout(deadline);
    // Ping often enough for both sides' timeouts (SPEC 20.1).
    if (livenessMs > 0) rpc.watchLiveness(Math.min(livenessMs, init.livenessTimeoutMs ?? livenessMs));
    return { rpc, init, description, ...(resumeRefused !== undefined ? { resumeRefused } : {}) };
  } catch (error) {
    clearTimeout(deadline);
    rpc.close();
    if (error instanceof RpcResponseError) {
      if (error.error.code === ErrorCodes.UnsupportedProtocolVersion) {
        throw new ProtocolError(`the manager at ${shown} does not speak protocol ${PROTOCOL_VERSION}: ${error.error.message}`, error.error.code, error.error.data);
      }
      throw errorFromResponse(error.error);
    }
    throw error;
  }
}
