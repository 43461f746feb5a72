/**
 * Reads the message a server receives most, a request written as the clients write it,
 * `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"…","method":"put","args":[5]}}`,
 * without a `JSON.parse` of the whole: the envelope, the object's id and the method name are read
 * in place, an argument list of one integer too, and any other argument list is parsed alone. It
 * builds the same object `JSON.parse` would, so every check after it is the same; any text of
 * another shape, valid or not, is left to the full parse, which also reports what is wrong with it.
 */

import { signedDigitsEnd, signedIntegerAt } from '../../common/exactDigits';

const HEAD = '{"jsonrpc":"2.0","id":';
const METHOD = ',"method":"';
const PARAMS = '","params":{"id":"';
const CALLED = '","method":"';
const ARGS = '","args":';
const END = '"}}';
const CALL = 'object/call';
const CALL_PARAMS = `${METHOD}${CALL}${PARAMS}`;
/** Texts {@link recentText} keeps: the ids and method names of a program's busiest objects. */
const RECENT_TEXTS = 8;
/** The texts {@link recentText} read lately, the oldest replaced first ('' until filled: it stands for itself). */
const recent: string[] = new Array<string>(RECENT_TEXTS).fill('');
let nextRecent = 0;
/** Characters of the longest message whose texts {@link recentText} keeps. */
const RECENT_FROM_MOST = 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The request in `body` as `JSON.parse(body)` builds it, when it has the shape above (with or
 * without `args`, nothing else in its params); undefined for any other text.
 */
export function readQuickRequest(body: string): object | undefined {
  if (!textAt(body, 0, HEAD)) return undefined;
  const afterId = signedDigitsEnd(body, HEAD.length, body.length);
  if (afterId < 0) return undefined;
  const call = recentCall(body, afterId) ?? readCall(body, afterId);
  if (call === undefined) return undefined;
  let args: unknown[] | undefined;
  if (call.withArgs) {
    if (!body.endsWith('}}')) return undefined;
    args = readArgs(body, afterId + call.text.length, body.length - 2);
    if (args === undefined) return undefined;
  }
  // Made whole at once: `args` added afterwards went to a property store of its own (garbage).
  const params = args === undefined ? { id: call.objectId, method: call.method } : { id: call.objectId, method: call.method, args };
  return { jsonrpc: '2.0', id: signedIntegerAt(body, HEAD.length, afterId), method: call.request, params };
}

/**
 * What follows a request's id up to its arguments, `,"method":"object/call","params":{"id":"…","method":"…"`
 * and then `,"args":` or the request's end (`"}}`), as one request had it: the next call of the
 * same method of the same object has the same text there, found by one comparison.
 */
interface CallText {
  readonly text: string;
  /** The request's method (`object/call`). */
  readonly request: string;
  readonly objectId: string;
  readonly method: string;
  /** Whether arguments follow the text (`,"args":`), or the request ends with it. */
  readonly withArgs: boolean;
  /** Where in the text the object id's and the method name's last characters are (their opening quotes when empty): told apart there, most texts of other calls cost no comparison. */
  readonly idLast: number;
  readonly methodLast: number;
}

/** Call texts {@link recentCall} keeps: a program's busiest objects' methods. */
const RECENT_CALLS = 8;
/** The call texts read lately, the oldest replaced first. */
const recentCalls: (CallText | undefined)[] = new Array<CallText | undefined>(RECENT_CALLS).fill(undefined);
let nextCall = 0;

/** The call text of `body` after its id (at `afterId`), when it is one read lately. */
function recentCall(body: string, afterId: number): CallText | undefined {
  const rest = body.length - afterId;
  for (let k = 0; k < RECENT_CALLS; k++) {
    const call = recentCalls[k];
    if (call === undefined) return undefined;
    const length = call.text.length;
    if (!(call.withArgs ? length < rest : length === rest)) continue;
    const { text, idLast, methodLast } = call;
    if (body.charCodeAt(afterId + idLast) === text.charCodeAt(idLast) && body.charCodeAt(afterId + methodLast) === text.charCodeAt(methodLast) && textAt(body, afterId, text)) return call;
  }
  return undefined;
}

/** The call text of `body` after its id (at `afterId`), read part by part, and kept for the next request; undefined when it has another shape. */
function readCall(body: string, afterId: number): CallText | undefined {
  let request: string;
  let objectStart: number;
  if (textAt(body, afterId, CALL_PARAMS)) {
    // The request of nearly every message, its method and the start of its params checked at once.
    request = CALL;
    objectStart = afterId + CALL_PARAMS.length;
  } else {
    if (!textAt(body, afterId, METHOD)) return undefined;
    const methodStart = afterId + METHOD.length;
    const methodEnd = plainStringEnd(body, methodStart);
    if (methodEnd < 0 || !textAt(body, methodEnd, PARAMS)) return undefined;
    request = body.slice(methodStart, methodEnd);
    objectStart = methodEnd + PARAMS.length;
  }
  const objectEnd = plainStringEnd(body, objectStart);
  if (objectEnd < 0 || !textAt(body, objectEnd, CALLED)) return undefined;
  const calledStart = objectEnd + CALLED.length;
  const calledEnd = plainStringEnd(body, calledStart);
  if (calledEnd < 0) return undefined;
  const withArgs = !(calledEnd + END.length === body.length && body.endsWith(END));
  if (withArgs && !textAt(body, calledEnd, ARGS)) return undefined;
  const end = withArgs ? calledEnd + ARGS.length : body.length;
  const objectId = recentText(body, objectStart, objectEnd);
  const method = recentText(body, calledStart, calledEnd);
  const call: CallText = { text: body.slice(afterId, end), request, objectId, method, withArgs, idLast: objectEnd - 1 - afterId, methodLast: calledEnd - 1 - afterId };
  // Kept only from a short message: a part of a string may keep the whole of it alive.
  if (body.length <= RECENT_FROM_MOST) {
    recentCalls[nextCall] = call;
    nextCall = (nextCall + 1) % RECENT_CALLS;
  }
  return call;
}

/**
 * The text from `from` to `to`, as the same string as the last time it was read when it is one of
 * the few read lately (the ids of the objects called and their methods' names): that one is not
 * hashed again where it is looked up by (the object table, a method's name), and the part just
 * taken to compare it with dies young.
 */
function recentText(body: string, from: number, to: number): string {
  const text = body.slice(from, to);
  for (let k = 0; k < RECENT_TEXTS; k++) if (recent[k] === text) return recent[k];
  // Kept only from a short message: a part of a string may keep the whole of it alive.
  if (body.length <= RECENT_FROM_MOST) {
    recent[nextRecent] = text;
    nextRecent = (nextRecent + 1) % RECENT_TEXTS;
  }
  return text;
}

/** The argument list from `from` to `to`: one integer read in place, any other parsed alone; undefined when it is not one JSON array. */
function readArgs(body: string, from: number, to: number): unknown[] | undefined {
  if (body.charCodeAt(from) !== OPEN_BRACKET || body.charCodeAt(to - 1) !== CLOSE_BRACKET) return undefined;
  if (signedDigitsEnd(body, from + 1, to) === to - 1) return [signedIntegerAt(body, from + 1, to - 1)];
  const text = body.slice(from, to);
  // Another member after the list (`[1],"kwargs":{…}`) is not one array: the full parse reads it.
  // An array holding `],"` itself is read by the full parse as well.
  if (text.includes('],"')) return undefined;
  try {
    const args: unknown = JSON.parse(text);
    return Array.isArray(args) ? args : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `text` is in `body` at `at`: `body.startsWith(text, at)`, which V8 makes some twice as
 * dear as taking the part and comparing it (the reader does so for every part it checks).
 */
function textAt(body: string, at: number, text: string): boolean {
  return body.slice(at, at + text.length) === text;
}

/** Where the string starting at `from` ends (its closing quote), when it has no escape and no control character; -1 otherwise. */
function plainStringEnd(text: string, from: number): number {
  for (let at = from; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) return at;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}
