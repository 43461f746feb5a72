/**
 * Reconnection: the options, the backoff schedule and the events a client reports. The loop itself
 * lives in ManagerClient, which owns the connection it replaces.
 */

import type { ManagerError } from './errors';

/** Options of `connect({ reconnect })`. Every field has a default; `reconnect: false` turns it off. */
export interface ReconnectOptions {
  /** The first wait before trying again, in ms. Default 100. */
  initialDelayMs?: number;
  /** The longest wait between two tries, in ms (the wait doubles up to it). Default 5000. */
  maxDelayMs?: number;
  /**
   * How long to keep trying after the connection is lost, in ms; then calls waiting for the
   * connection fail and the client ends as with `reconnect: false`. Default 60000; `Infinity` never gives up.
   */
  maxMs?: number;
}

/** The settled reconnection policy. */
export type ReconnectPolicy = Required<ReconnectOptions>;

/** Fills in the defaults; `false` gives no policy. */
export function reconnectPolicy(option: boolean | ReconnectOptions | undefined): ReconnectPolicy | undefined {
  if (option === false) return undefined;
  const given = option === true || option === undefined ? {} : option;
  const policy = { initialDelayMs: given.initialDelayMs ?? 100, maxDelayMs: given.maxDelayMs ?? 5000, maxMs: given.maxMs ?? 60_000 };
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new TypeError(`reconnect.${name} must be a number of milliseconds ≥ 0, not ${String(value)}`);
  }
  return policy;
}

/**
 * The wait before try number `attempt` (0 first): exponential, bounded, with "equal jitter" (half
 * fixed, half random) so that many clients of one restarted manager do not all come back at once.
 */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The events of {@link ManagerClient.on}. */
export interface ConnectionEvents {
  /**
   * The connection was lost and the client is reconnecting; calls in flight failed with
   * ConnectionLostError (with `connect({ resume })` they wait for the resumption instead).
   */
  lost: (error: ManagerError) => void;
  /**
   * A new connection is authenticated and initialized; `attempts` tries it took. `resumed` when it
   * resumed the session (`connect({ resume })`): proxies and what they hold are as they were.
   */
  restored: (info: { attempts: number; downMs: number; resumed: boolean }) => void;
}

/** A small typed listener table (the client library does not depend on Node's EventEmitter types). */
export class ConnectionEventTable {
  readonly #listeners: { [K in keyof ConnectionEvents]: ConnectionEvents[K][] } = { lost: [], restored: [] };

  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEvents[K]): () => void {
    const list = this.#listeners[event];
    if (!list) throw new TypeError(`unknown connection event ${JSON.stringify(event)} (known: ${Object.keys(this.#listeners).join(', ')})`);
    list.push(listener);
    return () => {
      const at = list.indexOf(listener);
      if (at >= 0) list.splice(at, 1);
    };
  }

  emit<K extends keyof ConnectionEvents>(event: K, ...args: Parameters<ConnectionEvents[K]>): void {
    for (const listener of [...this.#listeners[event]]) {
      try {
        (listener as (...a: Parameters<ConnectionEvents[K]>) => void)(...args);
      } catch (error) {
        // A listener's bug must not stop the reconnection.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
