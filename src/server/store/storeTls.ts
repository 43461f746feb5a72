/**
 * TLS to a Redis store (`rediss://HOST:PORT/DB`): the manager verifies Redis's certificate against
 * Node's trusted CAs, or the store's own CA when one is given (a Redis with a private CA), and
 * presents a client certificate when given one (a Redis with `tls-auth-clients yes`, its default).
 * Checked here, once, for the CLI, the Manager option and a manager started in a child process.
 */

import type { ConnectionOptions } from 'node:tls';
import { pemText, readPemFile, toPem } from '../tlsWrap';
import type { RedisStoreAddress } from './storeUrl';

/** A Redis store's TLS settings: PEM text or bytes. */
export interface StoreTlsOptions {
  /** The CA that signed Redis's certificate, trusted instead of Node's CAs. */
  ca?: string | Uint8Array;
  /** The manager's client certificate (PEM), for a Redis that requires one; needs `key`. */
  cert?: string | Uint8Array;
  /** The client certificate's private key (PEM). */
  key?: string | Uint8Array;
}

/** The command line's flags for them, each naming a PEM file. */
export const STORE_TLS_FLAGS = { ca: '--store-tls-ca', cert: '--store-tls-cert', key: '--store-tls-key' } as const;

/** Reads the files the store's TLS flags name; undefined when none is given. An unreadable file is named. */
export function readStoreTlsFiles(files: { [K in keyof StoreTlsOptions]?: string }): StoreTlsOptions | undefined {
  const given = (Object.keys(STORE_TLS_FLAGS) as (keyof StoreTlsOptions)[]).filter((k) => files[k] !== undefined);
  if (given.length === 0) return undefined;
  return Object.fromEntries(given.map((k) => [k, readPemFile(STORE_TLS_FLAGS[k], files[k]!)]));
}

/**
 * Checks TLS settings against the store they are for.
 * @throws Error when they are given for a store that is not `rediss://`, or a certificate comes without its key.
 */
export function checkStoreTls(address: RedisStoreAddress | undefined, tls: StoreTlsOptions | undefined): void {
  if (!tls) return;
  if (!address?.tls) throw new Error(`the store's TLS settings (${STORE_TLS_FLAGS.ca}, ${STORE_TLS_FLAGS.cert}, ${STORE_TLS_FLAGS.key}) are for a rediss://HOST:PORT/DB store`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error(`a client certificate for the store needs both ${STORE_TLS_FLAGS.cert} and ${STORE_TLS_FLAGS.key}`);
}

/** What the Redis client connects with: TLS at least 1.2, the certificate verified (Node's default, never turned off). */
export function redisTlsOptions(tls: StoreTlsOptions | undefined): ConnectionOptions {
  const pem = (value: string | Uint8Array | undefined) => (value === undefined ? undefined : toPem(value));
  return { minVersion: 'TLSv1.2', ca: pem(tls?.ca), cert: pem(tls?.cert), key: pem(tls?.key) };
}

/** The settings as text, which crosses a child process's IPC channel as it is (bytes would arrive as a plain object). */
export function storeTlsAsText(tls: StoreTlsOptions | undefined): { [K in keyof StoreTlsOptions]: string } | undefined {
  if (!tls) return undefined;
  // A setting given as undefined is not given, as in this process (redisTlsOptions, checkStoreTls).
  const given = Object.entries(tls).filter(([, v]) => v !== undefined) as [string, string | Uint8Array][];
  return Object.fromEntries(given.map(([k, v]) => [k, pemText(v)]));
}
