/** Option types and argument helpers the typed proxies share. */

import { Slice } from '../../common/valueTypes';
import type { CallOptions } from '../baseProxy';

/** Options of a call that waits for something (an event, a notification, a barrier's parties). */
export interface WaitOptions extends CallOptions {
  /** Seconds to wait at most; null or absent waits forever. */
  timeout?: number | null;
}

/**
 * The arguments of a waiting call: `(timeout,)`, or none when it waits forever (Python's
 * `timeout=None`). Positional, as CPython's proxies send them, so any implementation takes them.
 */
export function timeoutArgs(options: WaitOptions | undefined): unknown[] {
  return options?.timeout == null ? [] : [options.timeout];
}

/** Python's `slice(start, stop, step)`; an omitted bound is None, as in `l[start:stop]`. */
export function sliceOf(start?: number | null, stop?: number | null, step?: number | null): Slice {
  return new Slice(start ?? null, stop ?? null, step ?? null);
}
