/**
 * The command-line flags of the server's limits (`syncmanager serve --max-connections 100 ...`):
 * their help text and their parsing, kept beside each other so the two cannot drift.
 */

import type { LimitOptions } from './limits';
import { DEFAULT_MAX_HANDSHAKING, DEFAULT_MAX_MESSAGE_VALUES, DEFAULT_MAX_PENDING_BYTES } from './limits';

/** What the limit flags set: the {@link LimitOptions} and `maxConnections`. */
export type LimitFlagValues = LimitOptions & { maxConnections?: number };

/** Help lines of the limit flags, for the CLI's usage text. */
export const LIMIT_FLAGS_USAGE = `  --max-connections N       most connections at once (default: no limit)
  --max-handshaking N       most connections still authenticating; one more closes the oldest
                            (default ${DEFAULT_MAX_HANDSHAKING})
  --idle-timeout SECS       close an authenticated connection silent this long with nothing
                            pending (default: never)
  --max-message-values N    most JSON values or pickled objects in one message (default ${DEFAULT_MAX_MESSAGE_VALUES})
  --max-pending-bytes N     bytes of incomplete messages held across all connections
                            (default ${DEFAULT_MAX_PENDING_BYTES})
  --no-opaque-pickles       refuse pickles of classes the manager cannot read (objects other
                            than plain values, proxies, the usual exceptions, OrderedDict,
                            datetime's and Decimal), which Python clients reading them would run`;

/** A whole number of at least `min`, or a usage error naming the flag. */
function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new LimitFlagError(`${flag} must be a whole number of at least ${min}`);
  return n;
}

/** A limit flag's value that cannot be used. */
export class LimitFlagError extends Error {
  override name = 'LimitFlagError';
}

/**
 * Applies one flag to `into` if it is a limit flag, reading its value with `value()` (a flag
 * without a value, `--no-opaque-pickles`, does not); returns
 * false for any other flag (the caller's to parse).
 * @throws LimitFlagError for a value out of range.
 */
export function parseLimitFlag(flag: string, value: () => string, into: LimitFlagValues): boolean {
  switch (flag) {
    case '--max-connections': into.maxConnections = wholeNumber(flag, value(), 1); return true;
    case '--max-handshaking': into.maxHandshaking = wholeNumber(flag, value(), 1); return true;
    case '--max-message-values': into.maxMessageValues = wholeNumber(flag, value(), 1000); return true;
    case '--max-pending-bytes': into.maxPendingBytes = wholeNumber(flag, value(), 1024); return true;
    case '--no-opaque-pickles': into.opaquePickles = false; return true;
    case '--idle-timeout': {
      const seconds = Number(value());
      if (!(seconds > 0)) throw new LimitFlagError('--idle-timeout must be a positive number of seconds');
      into.idleTimeoutMs = seconds * 1000;
      return true;
    }
    default:
      return false;
  }
}
