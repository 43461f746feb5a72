/**
 * Opens an authenticated connection to a manager: a TCP or local socket, then the handshake.
 * Turns every way this can fail into an error that says what to check.
 */

import { connect as netConnect, isIP, type Socket } from 'node:net';
import type * as Tls from 'node:tls';
import { formatAddress, type Address } from '../common/address';
import { AUTHKEY_VARIABLE } from '../common/environmentVariables';
import { clientHandshake, HandshakeError } from '../common/handshake';
import { AuthenticationError, ConnectionClosedError, ManagerError, TimeoutError } from './errors';
import { SocketReader } from '../common/socketReader';

/** An authenticated socket and the bytes that followed the handshake. */
export interface OpenedSocket {
  socket: Socket;
  head: Buffer;
  /** Where the socket's bytes are read from, when not from its 'data' events. */
  reader?: SocketReader;
}

/**
 * TLS towards a manager that serves it: `true` trusts the system's certificate authorities; an
 * object gives the CA to trust (PEM), a client certificate and key for a manager that asks for
 * one, and the name the server's certificate must carry (default: the address's host).
 */
export type ClientTlsOptions = true | { ca?: string | Uint8Array; cert?: string | Uint8Array; key?: string | Uint8Array; servername?: string };

/**
 * Opens the TCP or local socket, or TLS over TCP (`tlsModule` is node:tls, loaded only for a TLS
 * connection: most clients never need it, and loading it costs a cold client a few milliseconds).
 */
function openStream(address: Address, tls: ClientTlsOptions | undefined, tlsModule: typeof Tls | undefined): { socket: Socket; ready: string; reader?: SocketReader } {
  if (address.kind !== 'tcp') {
    if (tls) throw new ManagerError(`TLS needs a TCP address, not the local socket ${address.path}`);
    const reader = new SocketReader();
    return { socket: netConnect({ path: address.path, onread: reader.onread }), ready: 'connect', reader };
  }
  if (!tls || !tlsModule) {
    const reader = new SocketReader();
    return { socket: netConnect({ host: address.host, port: address.port, noDelay: true, onread: reader.onread }), ready: 'connect', reader };
  }
  const given = tls === true ? {} : tls;
  const pem = (v: string | Uint8Array | undefined) => (v === undefined || typeof v === 'string' ? v : Buffer.from(v));
  const servername = given.servername ?? (isIP(address.host) ? undefined : address.host);
  const socket = tlsModule.connect({ host: address.host, port: address.port, ca: pem(given.ca), cert: pem(given.cert), key: pem(given.key), servername, minVersion: 'TLSv1.2' });
  return { socket, ready: 'secureConnect' };
}

/** Connects and authenticates within `timeoutMs`. */
export async function openAuthenticatedSocket(address: Address, authkey: Buffer, timeoutMs: number, tls?: ClientTlsOptions): Promise<OpenedSocket> {
  const shown = formatAddress(address);
  const started = Date.now();
  // Loaded on first use (TLS costs a cold client more than the rest of it), by require and not import(): the
  // client's code compiled with its V8 code cache (dist/client.js) has no dynamic import() to Node's loader.
  const tlsModule = tls && address.kind === 'tcp' ? (require('node:tls') as typeof import('node:tls')) : undefined;
  let reader: SocketReader | undefined;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const { socket: s, ready, reader: r } = openStream(address, tls, tlsModule);
    reader = r;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new TimeoutError(`could not connect to the manager at ${shown} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once(ready, () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        error.code === 'ECONNREFUSED' ? 'connection refused (is the manager running there?)'
        : error.code === 'ENOENT' ? 'no socket at that path (is the manager running?)'
        : tls && !error.syscall ? `TLS failed: ${error.message} (check the CA you trust, the server's certificate and name, and your client certificate)`
        : error.message;
      reject(new ConnectionClosedError(`cannot connect to the manager at ${shown}: ${why}`, { cause: error }));
    };
    s.once('error', onError);
  });
  if (address.kind === 'tcp') socket.setNoDelay(true);
  try {
    const head = await clientHandshake(socket, authkey, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)), input: reader });
    return { socket, head, reader };
  } catch (error) {
    socket.destroy();
    throw handshakeFailure(error, shown);
  }
}

/**
 * Whether `error` is a manager's verdict on the key (it answered that the key differs), not a
 * connection that ended in the handshake: that one counts as a refused key (SPEC 3.5), but a
 * client that authenticated before with the same key meets it when the manager goes down, sheds
 * handshakes, or is behind a port forward with nothing behind it, and may try again.
 */
export function keyRefused(error: unknown): boolean {
  return error instanceof AuthenticationError && !(error.cause instanceof HandshakeError && error.cause.reason === 'closed');
}

function handshakeFailure(error: unknown, shown: string): ManagerError {
  if (!(error instanceof HandshakeError)) return new ConnectionClosedError(`handshake with ${shown} failed: ${String(error)}`, { cause: error });
  switch (error.reason) {
    case 'rejected':
      return new AuthenticationError(
        /rejected our authkey/.test(error.message)
          ? `the manager at ${shown} rejected the authkey (check ${AUTHKEY_VARIABLE} or the authkey option)`
          : `the server at ${shown} could not prove it holds the authkey: it is not the manager you meant, or its key differs`,
        { cause: error },
      );
    case 'timeout':
      return new TimeoutError(`the manager at ${shown} did not complete the handshake in time`, { cause: error });
    case 'closed':
      // SPEC 3.5 (since 1.3): end of stream in the handshake is a failed authentication.
      return new AuthenticationError(`the manager at ${shown} closed the connection during the handshake: the authkey is wrong, or it refused the connection (too many connections?)`, { cause: error });
    default:
      return new ConnectionClosedError(`the server at ${shown} does not speak the manager handshake: ${error.message}`, { cause: error });
  }
}
