/**
 * The checks of a JSON-RPC request's `params`: each names the first field that is wrong or
 * unknown, so a client written from the spec alone learns what to fix.
 */

import { ErrorCodes } from '../../common/errorCodes';
import { decodeValue, type DecodeOptions } from '../../common/valueCodec';
import { tooManyArguments } from '../limits';

/** An error to answer with a protocol code (a malformed request, a refused method). */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** `any`: present, of any JSON type (a value). */
type FieldType = 'string' | 'string?' | 'number' | 'number?' | 'any' | 'number|null?' | 'object?' | 'array?' | 'boolean?';

/** Checks a params object's fields, naming the first one that is wrong or unknown. */
export function expectFields(params: object, fields: Record<string, FieldType>, prefix = ''): void {
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
      base === 'any' ? true
      : base === 'array' ? Array.isArray(value)
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

const callFields = new Set(['id', 'method', 'args', 'kwargs']);

/** Checks an `object/call`'s params: the hot path, so the common well-formed case costs one pass over its keys. */
export function expectCallFields(params: { id?: unknown; method?: unknown; args?: unknown; kwargs?: unknown }): void {
  if (typeof params.id !== 'string' || typeof params.method !== 'string' || !onlyCallFields(params)) {
    expectFields(params, { id: 'string', method: 'string', args: 'array?', kwargs: 'object?', ack: 'boolean?', visibilityTimeout: 'number?' });
  }
  if (params.args !== undefined && !Array.isArray(params.args)) throw new RpcError(ErrorCodes.InvalidParams, 'args must be an array');
  if (params.kwargs !== undefined && (typeof params.kwargs !== 'object' || params.kwargs === null || Array.isArray(params.kwargs))) {
    throw new RpcError(ErrorCodes.InvalidParams, 'kwargs must be an object');
  }
  expectArgumentCount(params);
}

/** Checks an `object/create`'s params. */
export function expectCreateFields(params: { typeid?: unknown; args?: unknown; kwargs?: unknown }): void {
  expectFields(params, { typeid: 'string', args: 'array?', kwargs: 'object?' });
  expectArgumentCount(params);
}

/** A call's arguments, positional and keyword, within `MAX_CALL_ARGUMENTS` (SPEC §19). */
function expectArgumentCount(params: { args?: unknown; kwargs?: unknown }): void {
  const refusal = tooManyArguments(params.args, params.kwargs);
  if (refusal) throw new RpcError(ErrorCodes.InvalidParams, refusal);
}

function onlyCallFields(params: object): boolean {
  // for-in, not Object.keys (an array made per call): params come from JSON.parse, whose objects inherit no enumerable key.
  for (const key in params) if (!callFields.has(key)) return false;
  return true;
}

/**
 * Decodes keyword arguments member by member: the object itself is a name → value map, never a
 * tagged value, and a name starting with `$` is refused (it could not be told from a tag).
 */
export function decodeKeywords(kwargs: Record<string, unknown>, argumentDecoding: DecodeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(kwargs)) {
    if (name.startsWith('$')) throw new RpcError(ErrorCodes.InvalidParams, `keyword argument names may not start with $: ${JSON.stringify(name)}`);
    out[name] = decodeValue(kwargs[name], argumentDecoding);
  }
  return out;
}

/** The longest visibility timeout an acknowledged get may ask for, in seconds: what one timer holds (about 24.8 days). */
const MAX_VISIBILITY_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The `ack` and `visibilityTimeout` members of an `object/call` (SPEC 20.3), checked: undefined
 * for a plain call, else the visibility timeout in ms (null: none).
 */
export function ackOf(params: { ack?: unknown; visibilityTimeout?: unknown }): { visibilityTimeoutMs: number | null } | undefined {
  if (params.visibilityTimeout !== undefined && params.ack !== true) throw new RpcError(ErrorCodes.InvalidParams, 'visibilityTimeout needs ack: true');
  if (params.ack !== true) return undefined;
  const seconds = params.visibilityTimeout as number | undefined;
  if (seconds === undefined) return { visibilityTimeoutMs: null };
  if (!(seconds > 0 && seconds <= MAX_VISIBILITY_SECONDS)) throw new RpcError(ErrorCodes.InvalidParams, `visibilityTimeout must be a number of seconds above 0 and at most ${MAX_VISIBILITY_SECONDS}`);
  return { visibilityTimeoutMs: Math.ceil(seconds * 1000) };
}
