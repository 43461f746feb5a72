/**
 * TLS for the manager's port: each accepted TCP connection is wrapped in a server-side TLS
 * socket before the authkey handshake, which then runs inside TLS unchanged. Wrapping after
 * accepting (rather than a `tls.Server`) keeps the connection guard in charge of connections
 * whose TLS handshake has not finished, as of any other handshaking connection.
 */

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';

/** A manager's TLS settings: PEM text or bytes. */
export interface ServerTlsOptions {
  /** The server's certificate chain (PEM). */
  cert: string | Uint8Array;
  /** The server's private key (PEM). */
  key: string | Uint8Array;
  /** With a CA (PEM), every client must present a certificate it signed (mutual TLS). */
  ca?: string | Uint8Array;
}

/** TLS settings as files, as the command line gives them. */
export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/**
 * Reads a PEM file a flag names.
 * @throws Error naming the flag and the file when it cannot be read.
 */
export function readPemFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${flag} ${file}: ${(error as Error).message}`);
  }
}

/** Reads the files of a TLS setting; an unreadable one is named. */
export function readServerTlsFiles(files: ServerTlsFiles): ServerTlsOptions {
  return { cert: readPemFile('--tls-cert', files.certFile), key: readPemFile('--tls-key', files.keyFile), ...(files.caFile ? { ca: readPemFile('--tls-ca', files.caFile) } : {}) };
}

/** Returns the function that wraps an accepted socket in TLS. @throws Error for a certificate or key that cannot be used. */
export function tlsWrapper(options: ServerTlsOptions): (socket: Socket) => TLSSocket {
  let context;
  try {
    context = createSecureContext({ cert: toPem(options.cert), key: toPem(options.key), ca: options.ca ? toPem(options.ca) : undefined, minVersion: 'TLSv1.2' });
  } catch (error) {
    throw new Error(`the TLS certificate or key cannot be used: ${(error as Error).message}`, { cause: error });
  }
  const mutual = options.ca !== undefined;
  return (socket) => {
    const tls = new TLSSocket(socket, { isServer: true, secureContext: context, requestCert: mutual, rejectUnauthorized: mutual });
    if (mutual) tls.once('secure', () => refuseUnverifiedPeer(tls));
    return tls;
  };
}

/**
 * Ends a mutual-TLS connection whose client certificate the CA did not sign. OpenSSL only makes
 * the client send one: Node accepts any certificate during the handshake and leaves the chain's
 * verdict for JavaScript to act on, which `tls.Server` does but a TLS socket wrapped by hand (as
 * here, so the connection guard keeps it) does not; without this, a client's own self-signed
 * certificate got in. The verdict is the handle's `verifyError()`, the one `tls.Server` reads;
 * where it cannot be read the connection is refused, never let through.
 */
function refuseUnverifiedPeer(tls: TLSSocket): void {
  const handle = (tls as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  const verdict: (Error & { code?: string }) | null = typeof handle?.verifyError === 'function' ? handle.verifyError() : new Error('the certificate could not be checked');
  if (verdict) tls.destroy(new Error(`the client's certificate is not signed by the --tls-ca CA (${verdict.code ?? verdict.message}); connection refused`));
}

/** PEM as Node's TLS takes it: text as it is, bytes as a Buffer. */
export function toPem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value);
}

/** PEM as text, which crosses a child process's IPC channel as it is (bytes would arrive as a plain object). */
export function pemText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}
