/**
 * The store a manager keeps its built-in objects in, made from the `store` option: see
 * `objectStore.ts` for the seam, `redisStore.ts` for Redis.
 */

import { memoryStore, type ObjectStore } from './objectStore';
import { RedisStore } from './redisStore';
import { checkStorePrefix, DEFAULT_STORE_PREFIX, parseStoreAddress } from './storeUrl';
import { checkStoreTls, type StoreTlsOptions } from './storeTls';

export { memoryStore, type ObjectStore } from './objectStore';
export { DEFAULT_STORE_PREFIX } from './storeUrl';
export { readStoreTlsFiles, STORE_TLS_FLAGS, storeTlsAsText, type StoreTlsOptions } from './storeTls';

/**
 * The store an option names: `memory` (or nothing) for this process's memory, `redis://HOST:PORT/DB`
 * (`rediss://` over TLS, with `tls` when Node's CAs and no client certificate will not do) for Redis under `prefix`. Nothing connects until the store is opened.
 * @throws Error naming what is wrong with the option.
 */
export function storeFor(store: string | undefined, prefix: string | undefined, log?: (message: string) => void, leaseMs?: number, tls?: StoreTlsOptions): ObjectStore {
  const address = parseStoreAddress(store ?? 'memory');
  checkStoreTls(address.kind === 'redis' ? address : undefined, tls);
  if (address.kind === 'memory') {
    if (prefix !== undefined) throw new Error('a store prefix is for a Redis store: give --store redis://HOST:PORT/DB too');
    if (leaseMs !== undefined) throw new Error('a store lease is for a Redis store: give --store redis://HOST:PORT/DB too');
    return memoryStore;
  }
  return new RedisStore(address, checkStorePrefix(prefix ?? DEFAULT_STORE_PREFIX), log, leaseMs, tls);
}
