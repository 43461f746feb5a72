/**
 * Python-style argument binding for remote calls: a method declares its parameters with defaults,
 * and a call's positional `args` and keyword `kwargs` are bound to them with Python's rules and
 * Python's error messages ("put() missing 1 required positional argument: 'item'").
 */

import type { DeliverySummary } from '../../common/protocol';
import { PyException } from '../exceptions';
import { unpackedArguments } from '../packedValues';

/**
 * Something a caller can hold past the end of its call: a lock, an RLock's recursion, a
 * semaphore's permits. When the session that holds it ends, the server calls `ownerLeft` with
 * that session's id, and the resource gives back whatever that owner still held.
 */
export interface HeldResource {
  ownerLeft(ownerId: string): void;
  /** The deliveries in flight the owner holds of it (a queue's, SPEC 20.3), for inspection. */
  deliveriesOf?(ownerId: string): HeldDelivery[];
}

/** A delivery in flight as its queue describes it; the session's summary adds the queue's id. */
export type HeldDelivery = Omit<DeliverySummary, 'objectId'>;

/** What a get asked for with `ack` (SPEC 20.3): how long an unacknowledged delivery stays out at most. */
export interface AckRequest {
  /** Milliseconds after which the item goes back by itself; null: until the session ends. */
  readonly visibilityTimeoutMs: number | null;
}

/** The owner id of calls made in the server's own process (no session). */
export const LOCAL_OWNER = 'local';

/** What a blocking or owner-aware method learns about its caller. Passed after the bound arguments. */
export interface CallContext {
  /** Aborted when the caller cancels the request or disconnects: withdraw with no side effect. */
  signal?: AbortSignal;
  /** The calling session's id; absent for in-process calls. */
  sessionId?: string;
  /** The id of the request that made the call (a store keeps the answer of a resumable session's call by it, SPEC 20.4.1). */
  readonly requestId?: number | string;
  /** Whether the call is already withdrawn, read without making a signal (see {@link isWithdrawn}). */
  readonly aborted?: boolean;
  /**
   * The call may wait, after a first try that may itself take a while (a Redis round trip): it
   * is listed as blocked, keeps its object (SPEC 8.5) and can be withdrawn from now on, as by
   * asking for {@link signal}, whose AbortController is made only once the call does wait.
   */
  mayWait?(): void;
  /**
   * Records that the caller now holds part of `resource`, so its session's end gives it back
   * (`resource.ownerLeft(sessionId)`). Absent for in-process calls, which no connection can drop.
   */
  hold?(resource: HeldResource): void;
  /** The caller holds nothing of `resource` any more (it released all it had). */
  letGo?(resource: HeldResource): void;
  /**
   * Registers how to undo what the call took if its result never reaches the caller (the
   * connection was gone, or the answer was too large to send): `undo(result)` gives it back.
   * Absent for in-process calls, whose results cannot be lost on the way.
   */
  giveBack?(undo: (result: unknown) => void): void;
  /**
   * The call was withdrawn after it took `result` (a try of it was under way): gives it back by
   * what {@link giveBack} registered, as for an answer that cannot be delivered, so that it goes
   * back in order with the others of this turn (`SessionCore.undelivered`). Absent for in-process calls.
   */
  undelivered?(result: unknown): void;
  /** The caller asked for its item delivered, to acknowledge later (a queue's get; SPEC 20.3). */
  readonly ack?: AckRequest;
}

/** Who is calling, for ownership: the session's id, or {@link LOCAL_OWNER}. */
export function ownerOf(context: CallContext): string {
  return context.sessionId ?? LOCAL_OWNER;
}

/** Whether a call was withdrawn before it started; cheap for the server's own contexts. */
export function isWithdrawn(context: CallContext): boolean {
  return context.aborted ?? context.signal?.aborted ?? false;
}

/** One parameter: a name, and a default when it is optional. */
export interface Param {
  readonly name: string;
  readonly optional: boolean;
  readonly default?: unknown;
  /** The method stores this argument without looking inside it, so a value kept encoded stays so (`packedValues.ts`). */
  readonly held?: boolean;
}

/** A method's parameter list. `rest` collects extra positional arguments (Python's `*args`). */
export interface Signature {
  readonly params: readonly Param[];
  readonly rest?: string;
  /** Collects unknown keyword arguments into one object (Python's `**kwargs`) passed after the params. */
  readonly restKeywords?: string;
}

/**
 * Declares a signature. Each parameter is a name, or `[name, default]` for an optional one;
 * `'*name'` collects the remaining positionals and `'**name'` the remaining keywords; `'=name'` is
 * a required parameter the method holds without looking inside (a queue's item), which may then
 * stay encoded (`packedValues.ts`).
 *
 * @example sig('item', ['block', true], ['timeout', null])
 */
export function sig(...params: (string | readonly [string, unknown])[]): Signature {
  const list: Param[] = [];
  let rest: string | undefined;
  let restKeywords: string | undefined;
  for (const p of params) {
    if (typeof p === 'string' && p.startsWith('**')) restKeywords = p.slice(2);
    else if (typeof p === 'string' && p.startsWith('*')) rest = p.slice(1);
    else if (typeof p === 'string' && p.startsWith('=')) list.push({ name: p.slice(1), optional: false, held: true });
    else if (typeof p === 'string') list.push({ name: p, optional: false });
    else list.push({ name: p[0], optional: true, default: p[1] });
  }
  return { params: list, rest, restKeywords };
}

/** The same signature with no parameter held: for a method that compares what another only holds (a PriorityQueue's put). */
export function looksInside(signature: Signature): Signature {
  return { ...signature, params: signature.params.map(({ held: _, ...param }) => param) };
}

function isEmpty(record: Readonly<Record<string, unknown>>): boolean {
  for (const _ in record) return false;
  return true;
}

/** The `n` → `'a', 'b' and 'c'` list Python prints in its TypeErrors. */
function nameList(names: string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/**
 * Binds positional and keyword arguments to a signature; returns the positional list to apply
 * (missing optionals filled with their defaults, `*rest` spread at the end, `**kw` as one object,
 * then `context` when given).
 * @throws PyException TypeError, worded as Python words it.
 */
export function bindArguments(method: string, signature: Signature, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, context?: CallContext): unknown[] {
  const { params, rest, restKeywords } = signature;
  // The hot path: positional arguments only, none too many, every required one given.
  if (rest === undefined && restKeywords === undefined && args.length <= params.length && isEmpty(kwargs)) {
    // Made at its full length, the context's place included: pushing onto it would grow it again.
    const bound = new Array<unknown>(context === undefined ? params.length : params.length + 1);
    let i = 0;
    for (; i < args.length; i++) bound[i] = args[i];
    for (; i < params.length && params[i].optional; i++) bound[i] = params[i].default;
    if (i === params.length) {
      if (context !== undefined) bound[i] = context;
      return bound;
    }
  }
  if (args.length > params.length && rest === undefined) {
    const required = params.filter((p) => !p.optional).length;
    const takes = required === params.length ? `${params.length}` : `from ${required} to ${params.length}`;
    const plural = required === params.length && params.length === 1 ? '' : 's';
    throw new PyException('TypeError', `${method}() takes ${takes} positional argument${plural} but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`);
  }
  const bound: unknown[] = new Array(params.length);
  const filled: boolean[] = new Array(params.length).fill(false);
  for (let i = 0; i < Math.min(args.length, params.length); i++) {
    bound[i] = args[i];
    filled[i] = true;
  }
  let extraKeywords: Record<string, unknown> | undefined;
  for (const key of Object.keys(kwargs)) {
    const index = params.findIndex((p) => p.name === key);
    if (index < 0) {
      if (restKeywords === undefined) throw new PyException('TypeError', `${method}() got an unexpected keyword argument '${key}'`);
      // defineProperty: a keyword named __proto__ is a name like any other here.
      Object.defineProperty((extraKeywords ??= {}), key, { value: kwargs[key], enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (filled[index]) throw new PyException('TypeError', `${method}() got multiple values for argument '${key}'`);
    bound[index] = kwargs[key];
    filled[index] = true;
  }
  const missing = params.filter((p, i) => !filled[i] && !p.optional).map((p) => p.name);
  if (missing.length) {
    throw new PyException('TypeError', `${method}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${nameList(missing)}`);
  }
  for (let i = 0; i < params.length; i++) if (!filled[i]) bound[i] = params[i].default;
  if (rest !== undefined) bound.push(...args.slice(params.length));
  if (restKeywords !== undefined) bound.push(extraKeywords ?? {});
  if (context !== undefined) bound.push(context);
  return bound;
}

/**
 * Objects whose remote methods have Python signatures implement this: the table of signatures by
 * method name, looked up on the object's constructor (`static signatures = {...}`).
 */
export interface HasSignatures {
  readonly signatures: Readonly<Record<string, Signature>>;
}

/** The signature a remote method of `obj` declares, if any. */
export function signatureOf(obj: object, method: string): Signature | undefined {
  const table = (obj.constructor as Partial<HasSignatures> | undefined)?.signatures;
  return table && Object.prototype.hasOwnProperty.call(table, method) ? table[method] : undefined;
}

/**
 * Calls a method of a shared object with wire arguments: bound by its signature when it declares
 * one (the context then follows the bound arguments), else positionally (keywords refused).
 */
export function invokeMethod(obj: object, method: string, wireArgs: readonly unknown[], wireKwargs: Readonly<Record<string, unknown>>, context: CallContext): unknown {
  const fn = (obj as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new PyException('AttributeError', `'${typeName(obj)}' object has no attribute '${method}'`);
  const signature = signatureOf(obj, method);
  // Arguments kept encoded reach the method as values, unless it only holds them.
  const [args, kwargs] = unpackedArguments(wireArgs, wireKwargs, signature);
  if (signature) {
    return fn.apply(obj, bindArguments(method, signature, args, kwargs, context));
  }
  if (Object.keys(kwargs).length) {
    throw new PyException('TypeError', `${method}() takes no keyword arguments (it is a JavaScript method: pass arguments by position)`);
  }
  return fn.apply(obj, args);
}

/** The name clients see for an object's type. */
export function typeName(obj: object): string {
  const ctor = obj.constructor as { builtin?: string; name?: string } | undefined;
  return ctor?.builtin ?? ctor?.name ?? 'object';
}
