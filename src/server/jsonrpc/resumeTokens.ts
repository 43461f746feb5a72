/**
 * Resume tokens (SPEC 20.4): 256 random bits each, handed only to a client that authenticated
 * with the manager's authkey and accepted only on such a connection. The manager stores their
 * SHA-256, so a lookup's timing tells nothing about the tokens themselves.
 */

import { createHash, randomBytes } from 'node:crypto';

/** The longest resumption window a client may ask for, in ms (10 minutes). */
export const MAX_RESUME_WITHIN_MS = 600_000;

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

/** The manager's resumable sessions, by token. */
export class ResumeTokens<S> {
  readonly #byDigest = new Map<string, S>();
  readonly #digestOf = new Map<S, string>();

  /** A new token for `session` (its previous one, if any, stops working). */
  issue(session: S): string {
    this.forget(session);
    const token = randomBytes(32).toString('base64url');
    const d = digest(token);
    this.#byDigest.set(d, session);
    this.#digestOf.set(session, d);
    return token;
  }

  /** The session `token` resumes, if any. */
  find(token: string): S | undefined {
    return this.#byDigest.get(digest(token));
  }

  /** `session` can no longer be resumed (it ended). */
  forget(session: S): void {
    const d = this.#digestOf.get(session);
    if (d === undefined) return;
    this.#digestOf.delete(session);
    this.#byDigest.delete(d);
  }
}
