/**
 * A Python request's arguments as the server keeps values: proxies inside them become
 * references to the live objects they name, and keyword arguments must be a dict of str keys.
 */

import { isTuple, tupleFrom } from '../../common/valueTypes';
import type { ArgumentReader } from '../calls/objectService';
import type { SharedRef } from '../calls/sharedRef';
import { PyException } from '../exceptions';
import { PyProxy } from './pickle/pickleValues';

/** Makes the reference a proxy stands for (the object service's `argumentReference`). */
export type ReferenceOf = (objectId: string) => SharedRef;

/** Arguments arrive as the server's values already (proxies were resolved as the request was read). */
export const DECODED: ArgumentReader<unknown[], Record<string, unknown>> = {
  args: (args) => args,
  kwargs: (kwargs) => kwargs,
  fallbacksTakeNoArguments: false,
};

/** The keyword arguments: a dict with str keys. */
export function keywordsOf(kwds: unknown, referenceOf: ReferenceOf): Record<string, unknown> {
  if (kwds === null || kwds === undefined) return {};
  if (typeof kwds !== 'object' || Array.isArray(kwds) || kwds instanceof Map || kwds instanceof Set) {
    throw new PyException('TypeError', 'keyword arguments must be a dict with str keys');
  }
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(kwds)) out[key] = fromPython((kwds as Record<string, unknown>)[key], referenceOf);
  return out;
}

/** A value from Python with its proxies made references. Copies only what contains a proxy. */
export function fromPython(value: unknown, referenceOf: ReferenceOf): unknown {
  if (value instanceof PyProxy) return referenceOf(value.token.id);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = fromPython(value[i], referenceOf);
      if (item !== value[i]) (out ??= value.slice())[i] = item;
    }
    if (!out) return value;
    return isTuple(value) ? tupleFrom(out) : out;
  }
  if (value instanceof Map) {
    let changed = false;
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) {
      const item = fromPython(v, referenceOf);
      changed ||= item !== v;
      out.set(k, item);
    }
    return changed ? out : value;
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      const item = fromPython(v, referenceOf);
      if (item !== v) {
        out ??= { ...(value as Record<string, unknown>) };
        Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      }
    }
    return out ?? value;
  }
  return value;
}
