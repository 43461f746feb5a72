/**
 * `connect()`: a client of a running manager, the TypeScript side of BaseManager.connect().
 * It authenticates, says who it is, learns the registered typeids, and then makes proxies:
 * `await manager.create('Queue')`, or `await manager.get_task_queue()` for a typeid registered
 * with a creation method, exactly as Python's `m.get_task_queue()`.
 */

import { basename } from 'node:path';
import { authkeyBytes } from '../common/authkey';
import { parseAddress, formatAddress, type Address } from '../common/address';
import { ErrorCodes } from '../common/errorCodes';
import {
  CallRequest,
  CreateRequest,
  DecrefRequest,
  DescribeRequest,
  InitializeRequest,
  PROTOCOL_VERSION,
  ShutdownRequest,
  type CallParams,
  type CreateParams,
  type DescribeResult,
  type InitializeResult,
  type RequestType,
  type Token,
  type TypeidDescription,
} from '../common/protocol';
import { SYNC_MANAGER_TYPEIDS } from '../common/syncTypeids';
import { decodeValue, encodeValue, type ProxyCodec } from '../common/valueCodec';
import { VERSION } from '../common/version';
import { BaseProxy, proxyBase, type ProxyHost } from './baseProxy';
import { builtinProxyClasses } from './builtinProxies';
import { makeDynamicProxy, type DynamicProxy } from './dynamicProxy';
import { errorFromResponse, ManagerError, ProtocolError, ProxyReleasedError, TimeoutError, UnknownTypeidError } from './errors';
import { Inspection } from './inspection';
import { splitArguments } from './kwargs';
import { RpcConnection, RpcResponseError } from './rpcConnection';
import { openAuthenticatedSocket, type ClientTlsOptions } from './socketTransport';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The manager's address. Default: `$SYNCMANAGER_ADDRESS`. */
  address?: string | { host: string; port: number } | readonly [string, number];
  /** The shared secret. Default: `$SYNCMANAGER_AUTHKEY`. */
  authkey?: string | Uint8Array;
  /** How this client shows in the manager's inspection tools. Default: the script's file name. */
  name?: string;
  /** Seconds to connect, authenticate and initialize. Default 10. */
  timeout?: number;
  /** Speak TLS to a manager that serves it (`syncmanager serve --tls-cert ...`); `true` trusts the system's CAs. */
  tls?: ClientTlsOptions;
}

/** Any proxy a manager hands out: a typed one for built-in types, a dynamic one otherwise. */
export type AnyProxy = DynamicProxy;

/** A connected client. Creation methods of typeids appear as methods: `manager.get_task_queue()`. */
export class ManagerClient {
  #typeids = new Map<string, TypeidDescription>();
  readonly #finalizer: FinalizationRegistry<string>;
  readonly #host: ProxyHost;
  /** How arguments are encoded: proxies in them become `$proxy` tokens. */
  readonly #encoding: ProxyCodec;
  #inspection: Inspection | undefined;

  /** @internal use {@link connect} */
  constructor(
    private readonly rpc: RpcConnection,
    /** The manager's address. */
    readonly address: string,
    /** What the manager said about itself at initialize. */
    readonly serverInfo: InitializeResult,
    description: DescribeResult,
  ) {
    this.setTypeids(description);
    // Proxies the program forgot give their reference back.
    this.#finalizer = new FinalizationRegistry((id) => {
      if (this.rpc.isOpen) this.rpc.request(DecrefRequest.type, { id }).catch(() => {});
    });
    const finalizer = this.#finalizer;
    const connection = this.rpc;
    const decodeOptions: ProxyCodec = { decodeProxy: (token) => this.proxyFor(token) };
    const encoding = (this.#encoding = proxyEncoding(address, serverInfo));
    this.#host = {
      call: (token, method, args, kwargs, signal, timeout) => {
        const params: CallParams = { id: token.id, method };
        // Encoding errors (a function in the arguments, say) reject like any other failure.
        try {
          if (args.length) params.args = encodeValue(args, encoding) as unknown[];
          if (kwargs) params.kwargs = encodeKeywords(kwargs, encoding);
        } catch (error) {
          return Promise.reject(toManagerError(error));
        }
        // No async wrapper: this is the hot path of every call.
        return connection.request(CallRequest.type, params, signal).then(
          (result) => decodeValue(result, decodeOptions),
          (error) => {
            throw toManagerError(error, { what: `${method}() on ${token.typeid} #${token.id}`, timeout });
          },
        );
      },
      decref: async (id) => {
        try {
          await connection.request(DecrefRequest.type, { id });
        } catch (error) {
          // The connection going away releases everything anyway.
          if (connection.isOpen) throw toManagerError(error);
        }
      },
      track: (proxy, id) => finalizer.register(proxy, id, proxy),
      untrack: (proxy) => finalizer.unregister(proxy),
      get isOpen() {
        return connection.isOpen;
      },
    };
  }

  /** Inspection: summaries, non-destructive peeks and change notifications (what the VS Code sidebar shows). */
  get inspection(): Inspection {
    this.#inspection ??= new Inspection((type, params) => this.request(type, params), this.rpc);
    return this.#inspection;
  }

  /** The manager's session id for this client. */
  get sessionId(): string {
    return this.serverInfo.sessionId;
  }

  /** The registered typeids, as of connecting (or the last {@link describe}). */
  get typeids(): ReadonlyMap<string, TypeidDescription> {
    return this.#typeids;
  }

  /** Whether the connection is open. */
  get connected(): boolean {
    return this.rpc.isOpen;
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
    this.#host.track(base, token.id);
    return (Typed ? base : makeDynamicProxy(base)) as AnyProxy;
  }

  /** Calls `listener` once when the connection ends, whatever the reason (close() included). */
  connectionLost(listener: (error: ManagerError) => void): void {
    this.rpc.onClose(listener);
  }

  /** Ends the session: the manager releases this client's references; pending calls fail. */
  async close(): Promise<void> {
    if (!this.rpc.isOpen) return;
    try {
      await Promise.race([this.rpc.request(ShutdownRequest.type, {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    } catch {
      // Closing anyway.
    }
    this.rpc.close();
  }

  /** Stops the whole manager (Python's `shutdown` control call), then closes. */
  async shutdownManager(): Promise<void> {
    await this.request(ShutdownRequest.type, { server: true });
    this.rpc.close();
  }

  /** `await using manager = await connect()` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async request<P, R>(type: RequestType<P, R>, params: P, what?: string): Promise<R> {
    try {
      return await this.rpc.request(type, params);
    } catch (error) {
      throw toManagerError(error, what ? { what } : undefined);
    }
  }

  private setTypeids(description: DescribeResult): void {
    this.#typeids = new Map(description.typeids.map((t) => [t.typeid, t]));
  }
}

/**
 * Encoding of arguments: a proxy (typed or dynamic) anywhere in them goes as `{ $proxy: token }`,
 * so the manager stores or uses the shared object itself (a queue put in a dict, the lock of a
 * Condition), not a copy. A released proxy holds no reference to lean on: it cannot be sent; nor
 * can any proxy to a manager that does not take them (protocol 1.1 and older).
 */
function proxyEncoding(address: string, serverInfo: InitializeResult): ProxyCodec {
  return {
    encodeProxy(value) {
      if (!(value instanceof BaseProxy)) return undefined;
      // Through the symbol: on a dynamic proxy, `token` could be an exposed method's name.
      const base = (value as BaseProxy)[proxyBase];
      const what = `a proxy of ${base.token.typeid} object ${base.token.id}`;
      if (base.released) throw new ProxyReleasedError(`cannot send ${what} as an argument: it was released`);
      if (!serverInfo.capabilities.nestedProxies) {
        throw new ManagerError(`cannot send ${what} as an argument: the manager at ${address} (protocol ${serverInfo.protocolVersion}) does not take proxies inside values`);
      }
      return base.token;
    },
  };
}

/** Encodes keyword arguments member by member; a name starting with `$` cannot be sent. */
function encodeKeywords(kwargs: Record<string, unknown>, codec: ProxyCodec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(kwargs)) {
    if (name.startsWith('$')) throw new ManagerError(`keyword argument names may not start with $: ${JSON.stringify(name)}`);
    Object.defineProperty(out, name, { value: encodeValue(kwargs[name], codec), enumerable: true, writable: true, configurable: true });
  }
  return out;
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
  const addressInput = options.address ?? process.env.SYNCMANAGER_ADDRESS;
  if (addressInput === undefined || addressInput === '') {
    throw new ManagerError('no manager address: pass { address } to connect() or set SYNCMANAGER_ADDRESS (VS Code terminals and `syncmanager serve` print it)');
  }
  const authkeyInput = options.authkey ?? process.env.SYNCMANAGER_AUTHKEY;
  if (authkeyInput === undefined) {
    throw new ManagerError('no authkey: pass { authkey } to connect() or set SYNCMANAGER_AUTHKEY');
  }
  let address: Address;
  try {
    address = parseAddress(addressInput);
  } catch (error) {
    throw new ManagerError((error as Error).message);
  }
  const authkey = authkeyBytes(authkeyInput);
  const timeoutMs = (options.timeout ?? 10) * 1000;
  const shown = formatAddress(address);
  const started = Date.now();
  const { socket, head } = await openAuthenticatedSocket(address, authkey, timeoutMs, options.tls);
  const rpc = new RpcConnection(socket, head, shown);
  // The timeout covers initialize and describe too: a peer that authenticates but never answers
  // (a Python manager reading our header as a length) must not hang connect().
  const deadline = setTimeout(() => {
    rpc.fail(new TimeoutError(`the manager at ${shown} did not answer initialize within ${timeoutMs / 1000} s (is it a syncmanager manager?)`));
    socket.destroy();
  }, Math.max(1, timeoutMs - (Date.now() - started)));
  try {
    const name = options.name ?? (process.argv[1] ? basename(process.argv[1]) : 'node');
    const init = await rpc.request(InitializeRequest.type, {
      protocolVersion: PROTOCOL_VERSION,
      clientInfo: { name, version: VERSION },
      processId: process.pid,
      capabilities: { cancellation: true, inspection: true },
    });
    const description = await rpc.request(DescribeRequest.type, {});
    clearTimeout(deadline);
    const client = new ManagerClient(rpc, shown, init, description);
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
        // says so (naming what it serves) instead of "is not a function".
        return (...args: unknown[]) => createNamed(target, property, args);
      },
    }) as Connected<T>;
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
