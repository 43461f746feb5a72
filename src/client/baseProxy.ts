/**
 * The proxy: a handle on a shared object that lives in the manager. Each proxy owns one reference
 * to its object; `release()` (or `await using`) gives it back, and a FinalizationRegistry gives back
 * the references of proxies the program forgot. After release every call throws
 * {@link ProxyReleasedError}.
 */

import type { Token } from '../common/protocol';
import { ProxyReleasedError } from './errors';

/** Releases a dynamic proxy whose object exposes a method named `release`. */
export const releaseProxy: unique symbol = Symbol('syncmanager.releaseProxy');

/**
 * The base proxy behind any proxy, typed or dynamic: a symbol, so no exposed method name can
 * shadow it on a dynamic proxy. The client reads it to send a proxy as a `$proxy` argument.
 */
export const proxyBase: unique symbol = Symbol('syncmanager.proxyBase');

/** What a get asks for when it wants its item delivered, to acknowledge later (SPEC 20.3). */
export interface AckCallOptions {
  /** Seconds after which an unacknowledged delivery goes back to the queue by itself. */
  visibilityTimeout?: number;
}

/** The arguments of a call given none: one list for all, never changed. */
const NO_ARGUMENTS = Object.freeze([]) as readonly unknown[] as unknown[];

/** Options every remote call takes. */
export interface CallOptions {
  /** Withdraws the call: it rejects with AbortError once the manager confirms it had no effect. */
  signal?: AbortSignal;
}

/** What a proxy needs from its client. */
export interface ProxyHost {
  /**
   * Calls a method; `timeout` (seconds) is only for error messages. With `ack`, the result is the
   * call's {@link DeliveryResult}, its value decoded.
   */
  call(token: Token, method: string, args: unknown[], kwargs: Record<string, unknown> | undefined, signal?: AbortSignal, timeout?: number | null, ack?: AckCallOptions): Promise<unknown>;
  /** Acknowledges a delivery of the token's queue, or gives it back (`nack`). */
  settleDelivery(token: Token, deliveryId: string, how: 'ack' | 'nack'): Promise<void>;
  /** Gives back the reference a token holds. */
  decref(token: Token): Promise<void>;
  /** Remembers a proxy to release its reference if the program drops it. */
  track(proxy: object, token: Token): void;
  /** Forgets a released proxy. */
  untrack(proxy: object): void;
  /** Whether the client is still connected. */
  readonly isOpen: boolean;
}

/** The part every proxy shares: token, calls, release. */
export class BaseProxy {
  #released = false;

  constructor(
    /** @internal */
    protected readonly host: ProxyHost,
    /** The object's token: id, typeid, exposed methods. */
    readonly token: Token,
  ) {}

  /** The object's id in the manager. */
  get id(): string {
    return this.token.id;
  }

  /** The typeid the object was made under. */
  get typeid(): string {
    return this.token.typeid;
  }

  /** Whether {@link release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Calls any exposed method by its remote name, with positional and keyword arguments.
   * @example await proxy.callMethod('put', [5], { timeout: 1 })
   */
  callMethod(method: string, args: unknown[] = NO_ARGUMENTS, kwargs?: Record<string, unknown>, options?: CallOptions & { timeout?: number | null; ack?: AckCallOptions }): Promise<unknown> {
    if (this.#released) return Promise.reject(new ProxyReleasedError(`${method}() on a released proxy of ${this.token.typeid} object ${this.token.id}`));
    return this.host.call(this.token, method, args, kwargs, options?.signal, options?.timeout, options?.ack);
  }

  /** This proxy itself (see {@link proxyBase}); through a dynamic proxy, the base it wraps. */
  get [proxyBase](): BaseProxy {
    return this;
  }

  /**
   * A copy of the shared object's value (Python's `proxy._getvalue()`): a plain array for a list,
   * an object or Map for a dict... RemoteError TypeError for objects that are not values (a queue, a lock).
   */
  async getValue<T = unknown>(): Promise<T> {
    return (await this.callMethod('#GETVALUE')) as T;
  }

  /** The shared object's Python repr (`repr(proxy)` in Python): `{'a': 1}`, `[1, 'two']`... */
  async repr(): Promise<string> {
    return (await this.callMethod('__repr__')) as string;
  }

  /** The shared object's Python str (`str(proxy)` in Python). */
  async str(): Promise<string> {
    return (await this.callMethod('__str__')) as string;
  }

  /** Gives the object's reference back to the manager. Safe to call twice. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.host.untrack(this);
    if (this.host.isOpen) await this.host.decref(this.token);
  }

  /** `await using q = await manager.Queue()` releases it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** Same as {@link release}, under a name no remote method can take. */
  [releaseProxy](): Promise<void> {
    return this.release();
  }

  /** For logs: `<QueueProxy get_task_queue #3>`. */
  toString(): string {
    return `<${this.constructor.name} ${this.token.typeid} #${this.token.id}${this.#released ? ' (released)' : ''}>`;
  }
}
