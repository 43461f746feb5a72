/**
 * Opens an authenticated connection to a manager: a TCP or local socket, then the handshake.
 * Turns every way this can fail into an error that says what to check.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { formatAddress, type Address } from '../common/address';
import { clientHandshake, HandshakeError } from '../common/handshake';
import { AuthenticationError, ConnectionClosedError, ManagerError, TimeoutError } from './errors';

/** An authenticated socket and the bytes that followed the handshake. */
export interface OpenedSocket {
  socket: Socket;
  head: Buffer;
}

/** Connects and authenticates within `timeoutMs`. */
export async function openAuthenticatedSocket(address: Address, authkey: Buffer, timeoutMs: number): Promise<OpenedSocket> {
  const shown = formatAddress(address);
  const started = Date.now();
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = address.kind === 'tcp' ? netConnect({ host: address.host, port: address.port, noDelay: true }) : netConnect(address.path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new TimeoutError(`could not connect to the manager at ${shown} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        error.code === 'ECONNREFUSED' ? 'connection refused (is the manager running there?)'
        : error.code === 'ENOENT' ? 'no socket at that path (is the manager running?)'
        : error.message;
      reject(new ConnectionClosedError(`cannot connect to the manager at ${shown}: ${why}`, { cause: error }));
    };
    s.once('error', onError);
  });
  if (address.kind === 'tcp') socket.setNoDelay(true);
  try {
    const head = await clientHandshake(socket, authkey, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
    return { socket, head };
  } catch (error) {
    socket.destroy();
    throw handshakeFailure(error, shown);
  }
}

function handshakeFailure(error: unknown, shown: string): ManagerError {
  if (!(error instanceof HandshakeError)) return new ConnectionClosedError(`handshake with ${shown} failed: ${String(error)}`, { cause: error });
  switch (error.reason) {
    case 'rejected':
      return new AuthenticationError(
        /rejected our authkey/.test(error.message)
          ? `the manager at ${shown} rejected the authkey (check SYNCMANAGER_AUTHKEY or the authkey option)`
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
