/**
 * The answers a resumable session keeps so that a request re-sent after a resumption is answered
 * again instead of carried out twice (SPEC 20.4). Answers are numbered in the order they are
 * written: the client counts the answers it receives, and that count (`$/answersSeen`, or the
 * resume request's `answersSeen`) says which answers it has, since a connection delivers in order.
 */

import type { OutgoingMessage } from '../../common/framing';
import type { RequestId } from '../calls/sessionCore';

/**
 * Answers kept unacknowledged at most; past it the oldest go and a resumption may be refused. The
 * answers lost with a connection and not sent again yet are bounded alike, on their own.
 */
export const MAX_KEPT_ANSWERS = 10_000;
/** Characters of unacknowledged answers kept at most, likewise (a client that never says what it received costs this much). */
export const MAX_KEPT_CHARS = 16 * 1024 * 1024;

/** The bound, as errors tell it. */
const BOUND = `more than ${MAX_KEPT_ANSWERS} answers or ${MAX_KEPT_CHARS / 1024 / 1024} MiB kept`;

interface KeptAnswer {
  readonly id: RequestId;
  readonly json: OutgoingMessage;
  /** Characters (and attachment bytes) it holds. */
  readonly size: number;
}

/** Why a resumption cannot go on from the answers kept. */
export class ResumeRefused extends Error {}

/** The kept answers of one session. */
export class AnswerLog {
  /** Answers written and not yet acknowledged, in order; the first has number `#firstNumber`. */
  #sent: KeptAnswer[] = [];
  #head = 0;
  #firstNumber: number;
  /** Answers written on a lost connection that the client never received, by request id, until sent again. */
  readonly #lost = new Map<RequestId, KeptAnswer>();
  /** Characters of the answers in `#lost`. */
  #lostChars = 0;
  /** The latest kept answer of each request id. */
  readonly #byId = new Map<RequestId, KeptAnswer>();
  /** Characters of the answers in `#sent` from `#head` on. */
  #chars = 0;
  /** Answers dropped unacknowledged (over {@link MAX_KEPT_ANSWERS}): up to this number the log cannot answer again. */
  #droppedUpTo = 0;

  /**
   * A log whose first answer will be number `count + 1`: the client has counted `count` answers
   * of the session already. `forgotten` hears of the requests whose answers the client counted,
   * `dropped` of those the bound dropped unacknowledged, up to answer number `upTo`.
   */
  constructor(
    count = 0,
    private readonly forgotten?: (ids: RequestId[]) => void,
    private readonly dropped?: (ids: RequestId[], upTo: number) => void,
  ) {
    this.#firstNumber = count + 1;
  }

  /** Answers counted so far. */
  get count(): number {
    return this.#firstNumber + this.#sent.length - this.#head - 1;
  }

  /** The kept answer of request `id`, if there is one. */
  answerOf(id: RequestId): OutgoingMessage | undefined {
    return this.#byId.get(id)?.json;
  }

  /** An answer to `id` was written: it is kept until the client has counted it. */
  written(id: RequestId, json: OutgoingMessage): void {
    const answer = { id, json, size: typeof json === 'string' ? json.length : json.attachments.reduce((n, a) => n + a.length, json.json.length) };
    this.#sent.push(answer);
    this.#chars += answer.size;
    this.#byId.set(id, answer);
    this.#found(id);
    while (this.#sent.length - this.#head > 1 && (this.#sent.length - this.#head > MAX_KEPT_ANSWERS || this.#chars > MAX_KEPT_CHARS)) {
      this.#droppedUpTo = this.#firstNumber;
      const ids = this.#drop(1);
      this.dropped?.(ids, this.#droppedUpTo);
    }
  }

  /** The client has received `count` answers in all: those are forgotten. Counts out of range are ignored. */
  seen(count: number): void {
    if (!Number.isSafeInteger(count) || count < this.#firstNumber || count > this.count) return;
    const ids = this.#drop(count - this.#firstNumber + 1);
    this.forgotten?.(ids);
  }

  /**
   * A new connection resumes the session after the client received `count` answers: those are
   * forgotten; the rest were lost with the old connection, kept by id for the requests the client
   * sends again; numbering goes on from `count`.
   * @throws ResumeRefused when `count` is not one the log can go on from.
   */
  resumed(count: number): void {
    this.check(count);
    this.seen(count);
    for (let i = this.#head; i < this.#sent.length; i++) this.#lose(this.#sent[i]);
    this.#sent = [];
    this.#head = 0;
    this.#chars = 0;
    this.#firstNumber = count + 1;
  }

  /** @throws ResumeRefused when the client's count is impossible, or answers it lacks were dropped. */
  check(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new ResumeRefused(`answersSeen must be a whole number, 0 or more, not ${JSON.stringify(count)}`);
    if (count > this.count) throw new ResumeRefused(`answersSeen ${count} is more than the ${this.count} answers this session sent`);
    if (count < this.#droppedUpTo) {
      throw new ResumeRefused(
        `answers after the ${count} the client has seen were dropped unacknowledged (${BOUND}): a client must send $/answersSeen`,
      );
    }
    // What the client lacks joins the answers lost before and never sent again: bounded alike.
    let lost = this.#lost.size;
    let chars = this.#lostChars;
    for (let i = this.#head + Math.max(0, count - this.#firstNumber + 1); i < this.#sent.length; i++) {
      lost++;
      chars += this.#sent[i].size;
    }
    if (lost > MAX_KEPT_ANSWERS || chars > MAX_KEPT_CHARS) {
      throw new ResumeRefused(`the answers the client lacks, with those lost before and never sent again, are past the bound (${BOUND}): a client must send its requests again after resuming`);
    }
  }

  /** Keeps `answer` among those lost, in place of an earlier answer to its id (a client that used the id twice): counted once, as kept. */
  #lose(answer: KeptAnswer): void {
    this.#found(answer.id);
    this.#lost.set(answer.id, answer);
    this.#lostChars += answer.size;
  }

  /** The answer to `id` lost before, if any, is no longer among those lost. */
  #found(id: RequestId): void {
    const lost = this.#lost.get(id);
    if (!lost) return;
    this.#lost.delete(id);
    this.#lostChars -= lost.size;
  }

  /** Forgets the `n` oldest answers; returns their request ids. */
  #drop(n: number): RequestId[] {
    const ids: RequestId[] = [];
    for (let i = 0; i < n; i++) {
      const answer = this.#sent[this.#head++];
      this.#chars -= answer.size;
      ids.push(answer.id);
      if (this.#byId.get(answer.id) === answer) this.#byId.delete(answer.id);
    }
    this.#firstNumber += n;
    // Compact now and then rather than shifting on every drop.
    if (this.#head > 1024 && this.#head * 2 > this.#sent.length) {
      this.#sent = this.#sent.slice(this.#head);
      this.#head = 0;
    }
    return ids;
  }
}
