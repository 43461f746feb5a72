/**
 * What a JSON-RPC session that agreed on resumption keeps (SPEC 20.4): its token, what initialize
 * agreed on, the answers the client may not have received, and, while its connection is gone,
 * the window in which it may be resumed and the answers produced meanwhile. The session keeps
 * its connection's side of it (letting a socket go, taking one over).
 */

import { ErrorCodes } from '../../common/errorCodes';
import type { InitializeResult, ResumeRequest } from '../../common/protocol';
import type { OutgoingMessage } from '../../common/framing';
import type { RequestId } from '../calls/sessionCore';
import { AnswerLog, ResumeRefused } from './answerLog';
import { errorObject, type ErrorObject } from './errorObjects';
import { STARTED } from '../store/redisAnswers';
import { AckRequest, CreateRequest, DecrefRequest, IncrefRequest, InspectRemoveItemRequest, InspectReplaceItemRequest, NackRequest } from '../../common/protocol';
import { RpcError } from './paramChecks';
import { tokenDigest, type ResumeTokens } from './resumeTokens';
import type { GroupSessions } from '../store/objectStore';

/** The requests besides `object/call` (whose objects say, see `redisAnswers.ts`) that have an effect and record no answer: marked as started in a group. */
const MARKED_METHODS: ReadonlySet<string> = new Set(
  [CreateRequest, IncrefRequest, DecrefRequest, AckRequest, NackRequest, InspectRemoveItemRequest, InspectReplaceItemRequest].map((type) => type.type.method),
);

/** An answer produced while the session waited to be resumed: sent once it is. */
export type ParkedAnswer = { id: RequestId; value: unknown } | { id: RequestId; error: ErrorObject };

/** Where a resumable session of a group keeps its answers (SPEC 20.4.1, `store/redisAnswers.ts`). */
export interface GroupAnswers {
  readonly sessions: GroupSessions;
  /** The session's id on this manager. */
  readonly sessionId: string;
  /** Taken over from a manager that died: the answers it recorded, by request id as JSON, until sent again. */
  readonly recorded?: Map<string, string>;
}

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
    /** In a group: where the session's answers are kept. */
    private readonly group?: GroupAnswers,
  ) {}

  /**
   * Taken over from a manager of the group that died (SPEC 20.4.1): the requests that reached it
   * whose answers are not known (marked as started, not answered); empty otherwise.
   */
  get answersLost(): RequestId[] {
    const lost: RequestId[] = [];
    for (const [id, record] of this.group?.recorded ?? []) if (record === STARTED) lost.push(JSON.parse(id) as RequestId);
    return lost;
  }

  /**
   * The answer kept for request `id`, sent again after a resumption (SPEC 20.4): the one this
   * manager sent; or, the session taken over from a manager of the group that died (20.4.1), the
   * one the group recorded, or an error for a request whose answer is lost (the client was told
   * so). Otherwise undefined: the request is carried out, and, in a group, one with `method`
   * whose effect records no answer is marked as started first.
   */
  keptAnswer(id: RequestId, method: string): { json: OutgoingMessage } | { value: unknown } | { error: ErrorObject } | undefined {
    const json = this.answers?.answerOf(id);
    if (json !== undefined) return { json };
    const group = this.group;
    if (!group) return undefined;
    const record = group.recorded?.get(JSON.stringify(id));
    if (record === undefined) {
      if (MARKED_METHODS.has(method)) group.sessions.callStarted(group.sessionId, id);
      return undefined;
    }
    group.recorded!.delete(JSON.stringify(id));
    const answer = group.sessions.recordedAnswer(record);
    if (answer !== 'lost') return answer;
    const message = `request ${JSON.stringify(id)} reached a manager of the group that died, and its outcome is unknown (answersLost): it is not carried out again`;
    return { error: errorObject(ErrorCodes.InvalidRequest, message) };
  }

  /**
   * The resumption a session agreed on at initialize: its token is issued, and in a group the
   * session is kept where any manager of the group can resume it (SPEC 20.4.1).
   */
  static agreed<S extends { readonly id: string; readonly clientInfo?: { readonly name?: string } }>(
    session: S,
    host: { readonly resumeTokens: ResumeTokens<S>; readonly groupSessions?: GroupSessions },
    withinMs: number,
    agreed: Omit<InitializeResult, 'sessionId'>,
  ): SessionResumption {
    const token = host.resumeTokens.issue(session);
    const sessions = host.groupSessions;
    sessions?.keep(session.id, tokenDigest(token), withinMs, JSON.stringify(agreed), session.clientInfo?.name);
    return new SessionResumption(withinMs, token, agreed, sessions && { sessions, sessionId: session.id });
  }

  /**
   * The answer to initialize is written: every answer from now on is kept until the client has
   * counted it. `count`: the answers the client counted before (a session taken over from another manager).
   */
  keepAnswers(count = 0): void {
    const group = this.group;
    this.answers = new AnswerLog(
      count,
      group && ((ids) => group.sessions.answersSeen(group.sessionId, ids)),
      group && ((ids, upTo) => group.sessions.answersDropped(group.sessionId, ids, upTo)),
    );
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
    const lost = this.answersLost;
    return { ...this.agreed, sessionId, resumeToken: this.token, resumed: true, ...(lost.length > 0 ? { answersLost: lost } : {}) };
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
