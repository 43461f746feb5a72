/**
 * Who may hold a connection: connections still in the handshake have a cap of their own and a
 * new one beyond it sheds the oldest (an idle crowd that never authenticates cannot keep a
 * legitimate client out, since a client completes the handshake in a round trip or two); all
 * connections together may be capped, and when that cap is reached the oldest handshaking one
 * makes room, or, with every connection authenticated, the new one is closed; and an
 * authenticated connection that stays silent with nothing pending may be closed after a time.
 */

import type { Socket } from 'node:net';
import { DEFAULT_MAX_HANDSHAKING } from './limits';

/** What the guard needs to know of an authenticated connection's session. */
export interface GuardedSession {
  /** Calls the session is waiting on: a connection with one is never idle. */
  readonly pendingCount: number;
}

/** Limits the guard applies. */
export interface ConnectionGuardOptions {
  /** Most connections at once, handshaking or authenticated. Default unlimited. */
  maxConnections?: number;
  /** Most connections in the handshake at once. Default {@link DEFAULT_MAX_HANDSHAKING}. */
  maxHandshaking?: number;
  /** Milliseconds of silence, with nothing pending, after which an authenticated connection is closed. */
  idleTimeoutMs?: number;
}

/** Admits, sheds and times out connections. */
export class ConnectionGuard {
  /** In arrival order, oldest first (a Set keeps insertion order). */
  private readonly handshaking = new Set<Socket>();
  private readonly authenticated = new Set<Socket>();
  private readonly maxHandshaking: number;

  constructor(
    private readonly options: ConnectionGuardOptions,
    private readonly log: (message: string) => void,
  ) {
    this.maxHandshaking = options.maxHandshaking ?? DEFAULT_MAX_HANDSHAKING;
  }

  /** Connections open now. */
  get count(): number {
    return this.handshaking.size + this.authenticated.size;
  }

  /** A new connection: admitted (returns true) or closed at once (false), shedding another if need be. */
  admit(socket: Socket, remote: string): boolean {
    const max = this.options.maxConnections;
    if (max !== undefined && this.count >= max && this.handshaking.size === 0) {
      this.log(`connection from ${remote} refused: ${max} connections are open, all authenticated (maxConnections)`);
      socket.destroy();
      return false;
    }
    this.handshaking.add(socket);
    socket.once('close', () => {
      this.handshaking.delete(socket);
      this.authenticated.delete(socket);
    });
    while (this.handshaking.size > this.maxHandshaking || (max !== undefined && this.count > max)) {
      this.shedOldest(max !== undefined && this.count > max ? `${max} connections are open (maxConnections)` : `${this.maxHandshaking} connections are in the handshake (maxHandshaking)`);
    }
    return true;
  }

  /** The connection has authenticated and is served by `session`. */
  authenticate(socket: Socket, session: GuardedSession | void): void {
    this.handshaking.delete(socket);
    if (socket.destroyed) return;
    this.authenticated.add(socket);
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs === undefined || idleMs <= 0 || !session) return;
    socket.setTimeout(idleMs);
    socket.on('timeout', () => {
      if (session.pendingCount > 0) {
        socket.setTimeout(idleMs);
        return;
      }
      this.log(`connection ${socket.remoteAddress}:${socket.remotePort} closed: silent for ${idleMs} ms with nothing pending (idleTimeoutMs)`);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  private shedOldest(why: string): void {
    const oldest = this.handshaking.values().next().value as Socket;
    this.handshaking.delete(oldest);
    this.log(`connection ${oldest.remoteAddress}:${oldest.remotePort} shed before it authenticated: ${why}`);
    oldest.destroy();
  }
}
