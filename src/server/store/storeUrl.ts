/**
 * The `--store` / `store` option: which store a manager keeps its built-in objects in. `memory`
 * (the default), `redis://HOST:PORT/DB`, or `rediss://HOST:PORT/DB` for Redis over TLS; checked
 * here, once, for the CLI, the Manager option and the extension's setting alike.
 */

/** The prefix of every key a Redis store writes, unless `storePrefix` names another. */
export const DEFAULT_STORE_PREFIX = 'syncmanager';

/** A Redis store's address, parsed. */
export interface RedisStoreAddress {
  readonly kind: 'redis';
  /** The URL as given, for the client library. */
  readonly url: string;
  /** The URL without any password, for messages. */
  readonly shown: string;
  /** `rediss://`: the connections to Redis are TLS, the server's certificate verified. */
  readonly tls: boolean;
}

/** What a store option names. */
export type StoreAddress = { readonly kind: 'memory' } | RedisStoreAddress;

/** The port a Redis URL without one names (Redis's own default). */
export const REDIS_DEFAULT_PORT = '6379';

/** Whatever stands between `//` and the last `@`: a user and password, even in text that is no URL at all. */
const CREDENTIALS = /\/\/.*@/s;

/** Whether a store option carries a user or password (a secret, kept out of messages and command lines). */
export function hasCredentials(text: string): boolean {
  return CREDENTIALS.test(text);
}

/** The option as its messages quote it: its credentials hidden, since a message reaches terminals and logs. */
function quoted(text: string): string {
  return JSON.stringify(text.replace(CREDENTIALS, '//***@'));
}

/**
 * Parses a store option.
 * @throws Error naming what is wrong with it.
 */
export function parseStoreAddress(text: string): StoreAddress {
  if (text === 'memory') return { kind: 'memory' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`store ${quoted(text)} is neither "memory" nor a redis://HOST:PORT/DB URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`store ${quoted(text)}: only redis://HOST:PORT/DB URLs (rediss:// for TLS) are supported (got ${url.protocol}//)`);
  }
  if (!url.hostname) throw new Error(`store ${quoted(text)} names no host: redis://HOST:PORT/DB`);
  // The client library reads a URL's query as its own options, after the manager's: one could turn
  // off what the manager relies on (its TLS settings, its refusal to queue calls while Redis is away).
  if (url.search || url.hash) throw new Error(`store ${quoted(text)} takes no query or fragment: redis://HOST:PORT/DB`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`store ${quoted(text)}: the database after the port must be a number, e.g. redis://127.0.0.1:6379/0`);
  const shown = `${url.protocol}//${url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname}:${url.port || REDIS_DEFAULT_PORT}/${db || '0'}`;
  return { kind: 'redis', url: text, shown, tls: url.protocol === 'rediss:' };
}

/** What a store prefix may be (the extension's `syncmanager.storePrefix` setting declares the same pattern; a test holds them equal). */
export const STORE_PREFIX_PATTERN = /^[A-Za-z0-9_.:\-]{1,100}$/;

/**
 * Checks a key prefix: printable, no spaces, so that keys read clearly in redis-cli.
 * @throws Error naming what is wrong with it.
 */
export function checkStorePrefix(prefix: string): string {
  if (!STORE_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`store prefix ${JSON.stringify(prefix)} must be 1 to 100 letters, digits, '_', '.', ':' or '-'`);
  }
  return prefix;
}
