/**
 * The shared secret both sides prove in the handshake: normalised to bytes the one way, and made
 * at random the one way, for the manager, the CLI, the client and the extension alike.
 */

import { randomBytes } from 'node:crypto';

/** Normalises an authkey to bytes: text as UTF-8, bytes as they are. */
export function authkeyBytes(authkey: string | Uint8Array): Buffer {
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey);
  throw new TypeError('authkey must be a string or bytes');
}

/** A new random authkey: 16 random bytes as 32 hex digits, text a user can copy into a shell. */
export function randomAuthkey(): string {
  return randomBytes(16).toString('hex');
}
