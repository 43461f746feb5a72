/**
 * Resume tokens (SPEC 20.4): 256 random bits each, handed only to a client that authenticated
 * with the manager's authkey and accepted only on such a connection. The manager stores their
 * SHA-256, so a lookup's timing tells nothing about the tokens themselves.
 */

import { createHash, randomBytes } from 'node:crypto';

/** The longest resumption window a client may ask for, in ms (10 minutes). */
export const MAX_RESUME_WITHIN_MS = 600_000;

/** The digest a token is known by, here and in a group's store (SPEC 20.4.1): never the token itself. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The manager's resumable sessions, by token. */
export class ResumeTokens<S> {
  readonly #byDigest = new Map<string, S>();
  readonly #digestOf = new Map<S, string>();

  /** A new token for `session` (its previous one, if any, stops working). */
  issue(session: S): string {
    this.forget(session);
    const token = randomBytes(32).toString('base64url');
    this.adopt(session, token);
    return token;
  }

  /** `token`, given by another manager of the group, resumes `session` from now on (SPEC 20.4.1). */
  adopt(session: S, token: string): void {
    const d = tokenDigest(token);
    this.#byDigest.set(d, session);
    this.#digestOf.set(session, d);
  }

  /** The session `token` resumes, if any. */
  find(token: string): S | undefined {
    return this.#byDigest.get(tokenDigest(token));
  }

  /** `session` can no longer be resumed (it ended). */
  forget(session: S): void {
    const d = this.#digestOf.get(session);
    if (d === undefined) return;
    this.#digestOf.delete(session);
    this.#byDigest.delete(d);
  }
}
