/**
 * What a JSON-RPC session that agreed on resumption keeps (SPEC 20.4): its token, what initialize
 * agreed on, the answers the client may not have received, and, while its connection is gone,
 * the window in which it may be resumed and the answers produced meanwhile. The session keeps
 * its connection's side of it (letting a socket go, taking one over).
 */

import { ErrorCodes } from '../../common/errorCodes';
import type { InitializeResult, ResumeRequest } from '../../common/protocol';
import type { RequestId } from '../calls/sessionCore';
import { AnswerLog, ResumeRefused } from './answerLog';
import type { ErrorObject } from './errorObjects';
import { RpcError } from './paramChecks';
import { tokenDigest, type ResumeTokens } from './resumeTokens';
import type { GroupSessions } from '../store/objectStore';

/** An answer produced while the session waited to be resumed: sent once it is. */
export type ParkedAnswer = { id: RequestId; value: unknown } | { id: RequestId; error: ErrorObject };

/** One resumable session's resumption state. */
export class SessionResumption {
  /** The answers kept for a resumption, from the first one after initialize's (the client does not count that one). */
  answers: AnswerLog | undefined;
  /** While the connection is gone and the session waits to be resumed: until when, and what ends it then. */
  #window: { until: number; timer: NodeJS.Timeout } | undefined;
  #parked: ParkedAnswer[] = [];

  constructor(
    /** The resumption window agreed at initialize, in ms. */
    readonly withinMs: number,
    /** The token that resumes the session, the same for its whole life. */
    readonly token: string,
    /** What initialize agreed on, repeated to a connection that resumes the session. */
    readonly agreed: Omit<InitializeResult, 'sessionId'>,
    /** Whether this manager took the session over from another of the group, whose kept answers were lost with it (SPEC 20.4.1). */
    readonly answersLost = false,
  ) {}

  /**
   * The resumption a session agreed on at initialize: its token is issued, and in a group the
   * session is kept where any manager of the group can resume it (SPEC 20.4.1).
   */
  static agreed<S extends { readonly id: string }>(
    session: S,
    host: { readonly resumeTokens: ResumeTokens<S>; readonly groupSessions?: GroupSessions },
    withinMs: number,
    agreed: Omit<InitializeResult, 'sessionId'>,
  ): SessionResumption {
    const token = host.resumeTokens.issue(session);
    host.groupSessions?.keep(session.id, tokenDigest(token), withinMs, JSON.stringify(agreed));
    return new SessionResumption(withinMs, token, agreed);
  }

  /**
   * The answer to initialize is written: every answer from now on is kept until the client has
   * counted it. `count`: the answers the client counted before (a session taken over from another manager).
   */
  keepAnswers(count = 0): void {
    this.answers = new AnswerLog(count);
  }

  /** Whether the connection is gone and the session waits to be resumed. */
  get detached(): boolean {
    return this.#window !== undefined;
  }

  /** While detached: until when the session may be resumed (ms since the epoch). */
  get resumableUntil(): number | undefined {
    return this.#window?.until;
  }

  /** The connection is gone: the window opens, and `expired` ends the session if nobody resumes it in time. */
  detach(expired: () => void): void {
    const timer = setTimeout(expired, this.withinMs);
    // A manager that stops ends its detached sessions itself (the session's close()).
    timer.unref();
    this.#window = { until: Date.now() + this.withinMs, timer };
  }

  /** Keeps an answer produced while detached. */
  park(answer: ParkedAnswer): void {
    this.#parked.push(answer);
  }

  /** The window closes (the session ends, or is resumed): returns the answers parked meanwhile. */
  closeWindow(): ParkedAnswer[] {
    clearTimeout(this.#window?.timer);
    this.#window = undefined;
    const parked = this.#parked;
    this.#parked = [];
    return parked;
  }

  /** The answer to the `initialize` that resumed the session. */
  resumedResult(sessionId: string): InitializeResult {
    return { ...this.agreed, sessionId, resumeToken: this.token, resumed: true, ...(this.answersLost ? { answersLost: true } : {}) };
  }
}

/**
 * The session a resume request names, once it is known that it can go on from the answers the
 * client has (SPEC 20.4). `resumptionOf` gives a session's resumption, or undefined for one that
 * is ending.
 * @throws RpcError SessionNotResumable
 */
export function sessionToResume<S extends { readonly id: string }>(
  tokens: ResumeTokens<S>,
  resume: Required<ResumeRequest>,
  asker: S,
  resumptionOf: (session: S) => SessionResumption | undefined,
): S {
  const target = tokens.find(resume.token);
  const resumption = target !== undefined && target !== asker ? resumptionOf(target) : undefined;
  if (!target || !resumption) {
    throw new RpcError(
      ErrorCodes.SessionNotResumable,
      'no session to resume with this token: its resumption window passed, it ended, or the token was never given by this manager; start a new session (initialize without resume)',
    );
  }
  try {
    resumption.answers!.check(resume.answersSeen);
  } catch (error) {
    if (error instanceof ResumeRefused) throw new RpcError(ErrorCodes.SessionNotResumable, `session ${target.id} cannot be resumed: ${error.message}`);
    throw error;
  }
  return target;
}
