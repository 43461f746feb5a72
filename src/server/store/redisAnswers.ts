/**
 * The answers a resumable session of a group keeps in Redis (SPEC 20.4.1), so that a request it
 * sends again after resuming on another manager, its own manager having died, is answered from
 * Redis instead of carried out twice. A call whose effect goes through one of the store's scripts
 * records its answer in that same script, keyed by the request's id in the session's answers hash
 * (`PREFIX:m:LEASE:answers`, see `redisSessions.ts`): the effect and its answer are one atomic
 * step, so a manager killed between the effect and sending the answer loses neither. A call whose
 * object does not record its answers is marked as started (`?`) before it runs, on the same Redis
 * connection, so it is marked before any effect: a request found marked but unanswered took an
 * effect nobody can tell, and is reported lost rather than run again. Reads record nothing and
 * run again. Only resumable sessions of a group pay for this; an entry goes when the client
 * counted its answer (`$/answersSeen`) or when its manager's bound dropped the answer unacknowledged
 * (see {@link DROPPED_UP_TO}), and the whole hash with the session's lease.
 */

import { Delivery } from '../builtins/deliveries';
import type { CallContext } from '../calls/methodDispatch';
import { textToValue } from './valueText';
import type { ProxyCodec } from '../../common/valueCodec';

/** The last part of a session's answers hash's key (`PREFIX:m:LEASE:answers`): the rest is its lease's key, holding the id of the manager hosting the session. */
export const ANSWERS = 'answers';

/** What a give-back's script answers (or its first part) when it made nothing because another manager hosts the session now (see {@link unlessHostedElsewhere}). */
export const HOSTED_ELSEWHERE = -2;

/** The value of a request marked as started whose answer is not recorded. */
export const STARTED = '?';

/**
 * The answers hash's field (never a request id's JSON) holding the number up to which the session's
 * manager dropped answers unacknowledged, past its bound (`jsonrpc/answerLog.ts`), and their
 * records with them: a takeover by a client that lacks them is refused, as a resumption is.
 */
export const DROPPED_UP_TO = '#droppedUpTo';

/** How a delivery (an acknowledged get's answer) is recorded: `#D` id, count, then the item's text. */
const DELIVERY_RECORD = /^#D(\S+) (\d+) ([\s\S]*)$/;

/**
 * Lua: records `value` (a Lua expression, value text) as the answer of the call, when the caller
 * passed where: ARGV[at] the session's answers hash, ARGV[at + 1] the request's field, ARGV[at + 2]
 * how long the hash lasts (ms). A call of any other session passes none of them.
 */
export function recordAnswer(at: number, value: string): string {
  return recordPart(`if ARGV[${at}] then
  redis.call('HSET', ARGV[${at}], ARGV[${at + 1}], ${value})
  redis.call('PEXPIRE', ARGV[${at}], ARGV[${at + 2}])
end`);
}

/**
 * Lua: forgets the answer recorded for the call (ARGV[at], ARGV[at + 1] as in {@link recordAnswer}),
 * in the script that undoes its effect (what it took went back: its answer never reached the
 * client), so that the request sent again is carried out, not answered with what went back.
 */
export function forgetAnswer(at: number): string {
  return recordPart(`if ARGV[${at}] then redis.call('HDEL', ARGV[${at}], ARGV[${at + 1}]) end`);
}

/**
 * Lua: returns `refusal` (a Lua expression) when another manager hosts the call's session now,
 * given a give-back record (see `RedisObjectHost.giveBack`): ARGV[at] the session's answers hash,
 * ARGV[at + 3] the id of this manager. That manager took the session over (this one's lease lapsed
 * while it was cut off from Redis) and answers the call sent again from its record, with what it
 * took: given back too, it would be had twice. Checked in the give-back's own script, so that no
 * takeover falls between the check and the give-back. A call of any other session passes none.
 */
export function unlessHostedElsewhere(at: number, refusal: string): string {
  return recordPart(`if ARGV[${at}] and ARGV[${at + 3}] then
${hostedElsewhere(`string.sub(ARGV[${at}], 1, -${ANSWERS.length + 2})`, `ARGV[${at + 3}]`, refusal)}
end`);
}

/**
 * Lua: returns `refusal` when another manager hosts now the session whose holdings a give-back at
 * its end on this manager returns: ARGV[at] the key of the session's lease ('' for an owner that
 * is no resumable session's: no check), ARGV[at + 1] the id of this manager (see
 * `RedisObjectHost.hostCheck`). That manager took the session over (this one's lease lapsed,
 * and this one ended the session before it found out) and its client holds them there, under
 * the same owner id: given back, they would be had twice. Checked in the give-back's own script.
 */
export function unlessOwnerHostedElsewhere(at: number, refusal: string): string {
  return `if ARGV[${at}] and ARGV[${at}] ~= '' then
${hostedElsewhere(`ARGV[${at}]`, `ARGV[${at + 1}]`, refusal)}
end`;
}

/** Lua: returns `refusal` when the session lease at key `lease` (a Lua expression) names a manager other than `me` (a Lua expression): the one hosting the session now. */
function hostedElsewhere(lease: string, me: string, refusal: string): string {
  return `  local host = redis.call('GET', ${lease})
  if host and host ~= ${me} then return ${refusal} end`;
}

const RECORD_START = '-- answer record';
const RECORD_END = '-- end of answer record';

/** Lua that reads the answer record's arguments, marked so that {@link withoutAnswerRecords} can take it out. */
function recordPart(lua: string): string {
  return `${RECORD_START}\n${lua}\n${RECORD_END}`;
}

/**
 * A script's text without its answer records: what the batch script carries (`redisScriptBatch.ts`).
 * A call that records its answer passes more arguments than the batch gives its script, so it
 * goes as a script of its own; the batch carries only calls that record nothing.
 */
export function withoutAnswerRecords(text: string): string {
  return text
    .split(RECORD_START)
    .map((part, i) => (i === 0 ? part : part.slice(part.indexOf(RECORD_END) + RECORD_END.length)))
    .join('');
}

/** Lua: the record of a delivery `id` of an item `text` delivered `count` times (see {@link DELIVERY_RECORD}). */
export const deliveryRecord = (id: string, count: string, text: string): string => `'#D' .. ${id} .. ' ' .. ${count} .. ' ' .. ${text}`;

/** Where a call's answer is recorded: the arguments a recording script takes after its own, or none. */
export type AnswerRecord = readonly (string | number)[];

/** No record: the call is not one of a resumable session of a group. */
export const NO_RECORD: AnswerRecord = [];

/** What a store tells of where the answers of a call are kept. */
export interface AnswerRecords {
  /** Where the answer of the call of `context` is recorded ({@link NO_RECORD} for a session not kept in the group). */
  answerRecord(context: CallContext): AnswerRecord;
}

/**
 * The answer a record holds, as the call returned it; `lost` for a call marked as started whose
 * answer is unknown, or one whose value cannot be read back (a reference to an object gone since).
 */
export function recordedAnswer(record: string, refs: ProxyCodec): { value: unknown } | 'lost' {
  if (record === STARTED) return 'lost';
  try {
    const delivery = DELIVERY_RECORD.exec(record);
    if (delivery) return { value: new Delivery(delivery[1]!, textToValue(delivery[3]!, refs), Number(delivery[2])) };
    return { value: textToValue(record, refs) };
  } catch {
    return 'lost';
  }
}

/**
 * The method by which an object of the store says whether a call of `method` records its answer
 * where it has an effect (or has none). A symbol, not a name: an object of a user-registered class
 * may have a method of any name, and is never taken for one of the store's.
 */
export const answersRecorded: unique symbol = Symbol('answersRecorded');

/** An object of the store that records the answers of some of its methods (see {@link answersRecorded}). */
export interface RecordsAnswers {
  [answersRecorded](method: string): boolean;
}

/**
 * Whether `obj` records the answers of `method` when it has an effect (or has none), so that a
 * call of it need not be marked as started.
 */
export function recordsAnswers(obj: object, method: string): boolean {
  const check = (obj as Partial<RecordsAnswers>)[answersRecorded];
  return typeof check === 'function' && check.call(obj, method);
}

/**
 * What a call of a resumable session rejects with when its script's reply from Redis was lost and
 * the manager read its answer from its record instead (`redisStore.ts`): the call answers with
 * {@link AnsweredInGroup.value}, exactly as if the reply had come (see {@link answeredInGroup}).
 */
export class AnsweredInGroup extends Error {
  constructor(readonly value: unknown) {
    super('answered from the record in Redis');
    this.name = 'AnsweredInGroup';
  }
}

/** What a call that failed with `error` answers: the value of an {@link AnsweredInGroup}; any other error is thrown again. */
export function answeredInGroup(error: unknown): unknown {
  if (error instanceof AnsweredInGroup) return error.value;
  throw error;
}
